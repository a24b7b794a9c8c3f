import { randomBytes, randomInt, randomUUID } from "node:crypto";

/** MLflow run ids: uuid4().hex, 32 lowercase hex characters. */
export function newRunId(): string {
  return randomUUID().replace(/-/g, "");
}

/**
 * MLflow file-store experiment ids: 18 decimal digits with no leading zero (name_utils
 * `_generate_unique_integer_id`). Uniform digits are equivalent to MLflow's uuid-derived ones.
 */
export function newExperimentId(): string {
  const bytes = randomBytes(18);
  let id = String(randomInt(1, 10));
  for (let i = 1; i < 18; i++) id += String(bytes[i] % 10);
  return id;
}
