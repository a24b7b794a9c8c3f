import { CheckpointError } from "@mnemo/core/errors";
import { type RandomStreamState } from "@mnemo/core/rng";
import type { StoreArrays, StoreLayoutState } from "./store.js";

export const STATE_FORMAT = "mnemo.replay/1";

export type BufferKind = "reservoir" | "class-balanced" | "gdumb" | "herding";

/**
 * A buffer checkpoint: JSON-able metadata (`format`, `kind`, `layout`, `meta`, including the RNG state and
 * the stream counter) plus the typed arrays, which the caller writes as binary next to the JSON.
 */
export interface BufferState<K extends BufferKind, M> {
  format: typeof STATE_FORMAT;
  kind: K;
  layout: StoreLayoutState;
  meta: M & { rng: RandomStreamState };
  arrays: StoreArrays;
}

export function checkStateHeader(state: { format?: unknown; kind?: unknown }, kind: BufferKind, owner: string): void {
  if (state.format !== STATE_FORMAT) {
    throw new CheckpointError(`${owner}: unknown checkpoint format ${JSON.stringify(state.format)}; expected "${STATE_FORMAT}"`);
  }
  if (state.kind !== kind) {
    throw new CheckpointError(
      `${owner}: checkpoint holds a "${String(state.kind)}" buffer, not a "${kind}" buffer; load it into the matching class`,
    );
  }
}

/** Deep copy of JSON-able metadata, so a saved state never aliases live buffer bookkeeping. */
export function cloneJson<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/** Refuses a malformed RNG state before anything is restored. */
export function checkRngState(rng: unknown, owner: string): RandomStreamState {
  const r = rng as Partial<RandomStreamState> | undefined;
  const ok =
    r !== undefined &&
    Array.isArray(r.s) &&
    r.s.length === 4 &&
    r.s.every((x) => Number.isInteger(x) && x >= 0 && x <= 0xffffffff) &&
    (r.spareNormal === null || typeof r.spareNormal === "number");
  if (!ok) throw new CheckpointError(`${owner}: checkpoint RNG state is malformed (expected { s: [4 uint32], spareNormal })`);
  return r as RandomStreamState;
}
