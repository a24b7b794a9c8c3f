/**
 * Trial ids: the sha256 of a trial's resolved config in canonical form. Keys are sorted at every
 * level, numbers normalised (-0 is 0; JSON's shortest round-trip form otherwise, so 1e-3 and
 * 0.001 are one number), and the sections that never change results are left out: where and how
 * often a run writes (`output`, `checkpoint`), how data files are fetched (`data`) and how many
 * wasm threads compute it (`threads`). So a trial keeps its id when the sweep is rerun with
 * another `--workers` or checkpoint interval, and two sweeps that resolve to the same config
 * share the id.
 */
import { createHash } from "node:crypto";

/** Top-level config keys left out of a trial's id (they change where or how fast, not what). */
export const TRIAL_NEUTRAL_KEYS: readonly string[] = ["output", "checkpoint", "data", "threads"];

/** The value in canonical form: sorted keys, normalised numbers, `undefined` members dropped. */
export function canonical(value: unknown): unknown {
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new RangeError(`cannot hash the non-finite number ${value}`);
    return Object.is(value, -0) ? 0 : value;
  }
  if (Array.isArray(value)) return value.map((v) => canonical(v));
  if (value !== null && typeof value === "object") {
    const obj = value as Record<string, unknown>;
    return Object.fromEntries(
      Object.keys(obj)
        .filter((k) => obj[k] !== undefined)
        .sort()
        .map((k) => [k, canonical(obj[k])]),
    );
  }
  return value;
}

/** JSON of the canonical form: equal for configs that differ only in key order or number spelling. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(canonical(value));
}

/** Length of a trial id in hex digits (64 bits: no collision in any sweep a lab will run). */
export const TRIAL_ID_LENGTH = 16;

/** A trial's id: the first 16 hex digits of sha256(canonical config minus TRIAL_NEUTRAL_KEYS). */
export function trialId(config: object): string {
  const rest = Object.fromEntries(Object.entries(config).filter(([k]) => !TRIAL_NEUTRAL_KEYS.includes(k)));
  return createHash("sha256").update(canonicalJson(rest)).digest("hex").slice(0, TRIAL_ID_LENGTH);
}
