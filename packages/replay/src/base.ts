import type { RandomStream } from "@mnemo/core/rng";
import type { FieldArray, ReplayBatch, SampleBatchInput, SampleFields, SampleLayout } from "./layout.js";
import { resolveRandom, type RandomSource } from "./rng.js";
import { SampleStore } from "./store.js";

/** Options every buffer takes. */
export interface BufferOptions extends SampleLayout {
  /** Seed of the buffer's own random stream, or a dedicated stream (see `RandomSource`). */
  seed: RandomSource;
}

/**
 * Shared plumbing of all buffers: the slab store, batch sampling and accessors.
 */
export abstract class BufferBase {
  protected readonly store: SampleStore;
  protected readonly rng: RandomStream;

  protected constructor(owner: string, options: BufferOptions, capacity: number, numClasses: number | null) {
    this.store = new SampleStore(owner, options, capacity, numClasses);
    this.rng = resolveRandom(options.seed);
  }

  /** Maximum number of stored samples (slots in the slab). */
  get capacity(): number {
    return this.store.capacity;
  }

  /** Samples currently stored. */
  get size(): number {
    return this.store.size;
  }

  /** Bytes of one stored image. */
  get sampleBytes(): number {
    return this.store.sampleBytes;
  }

  /** Output arrays for `sample(b, ...)`; allocate once and reuse. */
  createBatch(b: number): ReplayBatch {
    return this.store.createBatch(b);
  }

  /**
   * Draws min(b, size) distinct stored samples uniformly without replacement into `out` (rows 0..count-1)
   * and returns that count. Allocates nothing.
   */
  sample(b: number, out: ReplayBatch): number {
    return this.store.sample(this.rng, b, out);
  }

  /** Bytes of every typed array the buffer owns (the slab dominates: capacity × sampleBytes). */
  byteSize(): number {
    return this.store.byteSize();
  }

  /** The stored image in `slot` (a view into the slab, valid until that slot is overwritten). */
  imageAt(slot: number): Uint8Array {
    return this.store.imageAt(slot);
  }

  labelAt(slot: number): number {
    return this.store.labelAt(slot);
  }

  /** A stored field of `slot`, as a writable view (e.g. to refresh DER++ logits in place). */
  fieldAt(name: string, slot: number): FieldArray {
    return this.store.fieldAt(name, slot);
  }

  /** Occupied slots (a copy, in the sampler's current order). */
  slots(): Int32Array {
    return this.store.occupiedSlots();
  }
}

/** A buffer fed one sample at a time from the training stream. */
export abstract class OnlineBuffer extends BufferBase {
  /** Offers one sample (uint8 image of `sampleShape`); returns the slot it was written to, or -1 if dropped. */
  add(image: Uint8Array, label: number, fields?: SampleFields): number {
    this.store.checkSample(image, label, fields);
    return this.insert(image, [label], fields, 0);
  }

  /**
   * Offers a packed batch, sample by sample, exactly as the same calls to `add` would (same RNG draws).
   * The whole batch is validated first, so a bad batch changes nothing.
   */
  addBatch(batch: SampleBatchInput): void {
    const n = this.store.checkBatch(batch);
    for (let i = 0; i < n; i++) this.insert(batch.images, batch.labels, batch.fields, i);
  }

  /** Inserts sample `index` of an already validated packed batch; returns its slot or -1. */
  protected abstract insert(images: Uint8Array, labels: ArrayLike<number>, fields: SampleFields | undefined, index: number): number;
}
