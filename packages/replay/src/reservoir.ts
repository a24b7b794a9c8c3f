import { CheckpointError } from "@mnemo/core/errors";
import { OnlineBuffer, type BufferOptions } from "./base.js";
import type { SampleFields } from "./layout.js";
import { checkRngState, checkStateHeader, STATE_FORMAT, type BufferState } from "./state.js";

export interface ReservoirOptions extends BufferOptions {
  /** M: number of samples kept. */
  capacity: number;
  /** When given, labels must lie in [0, numClasses). */
  numClasses?: number;
}

export type ReservoirState = BufferState<"reservoir", { seen: number }>;

/**
 * Vitter's Algorithm R, online and per sample (algorithms.md §3.1; Mammoth `Buffer.add_data`, but with the
 * buffer's own seeded stream instead of the global RNG). After n offers every offered sample is stored
 * with probability min(1, M/n); the first M fill slots 0..M−1 in arrival order.
 */
export class ReservoirBuffer extends OnlineBuffer {
  private n = 0;

  constructor(options: ReservoirOptions) {
    super("ReservoirBuffer", options, options.capacity, options.numClasses ?? null);
  }

  /** n: samples offered so far (stored or not). */
  get seen(): number {
    return this.n;
  }

  protected insert(images: Uint8Array, labels: ArrayLike<number>, fields: SampleFields | undefined, index: number): number {
    let slot: number;
    if (this.n < this.capacity) {
      slot = this.store.alloc(); // equals n: nothing is ever released from a reservoir
    } else {
      const r = this.rng.int(this.n + 1); // r ∈ {0..n}
      slot = r < this.capacity ? r : -1;
    }
    if (slot >= 0) this.store.write(slot, images, labels, fields, index);
    this.n++;
    return slot;
  }

  state(): ReservoirState {
    return {
      format: STATE_FORMAT,
      kind: "reservoir",
      layout: this.store.layoutState(),
      meta: { seen: this.n, rng: this.rng.getState() },
      arrays: this.store.exportArrays(),
    };
  }

  /** Restores a `state()` taken from a buffer built with the same options; later behaviour is identical. */
  load(state: ReservoirState): void {
    checkStateHeader(state, "reservoir", "ReservoirBuffer");
    const seen = state.meta?.seen;
    if (!Number.isSafeInteger(seen) || seen < 0 || Math.min(seen, this.capacity) !== state.arrays?.occupied?.length) {
      throw new CheckpointError(`ReservoirBuffer: checkpoint counter seen=${String(seen)} does not match its stored sample count`);
    }
    const rng = checkRngState(state.meta.rng, "ReservoirBuffer");
    this.store.importArrays(state.layout, state.arrays);
    this.rng.setState(rng);
    this.n = seen;
  }
}
