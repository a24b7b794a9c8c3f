import { ShapeError } from "@mnemo/core/errors";
import { type RandomStream } from "@mnemo/core/rng";

/**
 * Float batch of the selected images, scaled to [0, 1], and their labels: the same conversion the
 * learners use (core's `imagesToTensor` / `labelsToTensor`). Conversion happens per batch, so a
 * task's data stays uint8 (1 byte per value) until the moment it is used.
 */
export { imagesToTensor as toFloatBatch, labelsToTensor as labelBatch } from "@mnemo/core/tf";

export interface BatchOptions {
  batchSize: number;
  /** Shuffle once per epoch from the given stream (default true). */
  shuffle?: boolean;
  /** Drop a last batch smaller than batchSize (default false). */
  dropLast?: boolean;
}

/**
 * Index batches over 0..count-1 for one epoch. Deterministic: the permutation is drawn from
 * `stream`, so an epoch is a function of the stream's state.
 */
export function* batchIndices(count: number, options: BatchOptions, stream: RandomStream): Generator<Int32Array> {
  if (!Number.isInteger(options.batchSize) || options.batchSize < 1) throw new ShapeError(`batchSize must be a positive integer, got ${options.batchSize}`);
  const order = options.shuffle === false ? Array.from({ length: count }, (_, i) => i) : stream.permutation(count);
  for (let start = 0; start < count; start += options.batchSize) {
    const end = Math.min(count, start + options.batchSize);
    if (options.dropLast && end - start < options.batchSize) return;
    yield Int32Array.from(order.slice(start, end));
  }
}
