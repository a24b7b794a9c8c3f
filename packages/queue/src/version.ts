/** Same code on both ends: a worker refuses a trial enqueued from another commit or config schema. */
import { createHash } from "node:crypto";
import type { CodeVersion } from "./types.js";

/** Hash of a config schema (e.g. the run config's JSON schema) in canonical form: 12 hex digits. */
export function schemaHash(schema: unknown): string {
  return createHash("sha256").update(canonicalJson(schema)).digest("hex").slice(0, 12);
}

/** JSON with object keys sorted, so the same value always hashes the same. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

const short = (c: string | null): string => (c ? c.slice(0, 12) : "unknown");

/**
 * Why this worker must not run a trial enqueued with `theirs`, or undefined when it may. The
 * message says which side to change (check out the enqueuer's commit, or re-enqueue from here).
 */
export function versionMismatch(theirs: CodeVersion, ours: CodeVersion): string | undefined {
  const fix = "run the worker from the enqueuer's checkout (git checkout <commit> && npm ci), or re-enqueue the sweep from this one";
  if (theirs.commit !== null || ours.commit !== null) {
    if (theirs.commit !== ours.commit) return `it was enqueued from git commit ${short(theirs.commit)}, this worker runs ${short(ours.commit)}: ${fix}`;
  } else if (theirs.mnemo !== ours.mnemo) {
    return `it was enqueued by mnemo ${theirs.mnemo}, this worker is mnemo ${ours.mnemo}: ${fix}`;
  }
  if (theirs.schema !== ours.schema) return `it was enqueued with config schema ${theirs.schema}, this worker has ${ours.schema} (the same commit with other registered methods or plugins?): ${fix}`;
  return undefined;
}
