import * as tf from "@tensorflow/tfjs";
import { ShapeError } from "@mnemo/core/errors";
import { type RandomStream } from "@mnemo/core/rng";
import type { ImageSet } from "@mnemo/core";

/**
 * Float batch of the selected images, scaled to [0, 1]. Conversion happens here, per batch, so
 * a task's data stays uint8 (1 byte per value) until the moment it is used.
 */
export function toFloatBatch(set: ImageSet, indices: ArrayLike<number>): tf.Tensor4D {
  const [h, w, c] = set.shape;
  const size = h * w * c;
  const out = new Float32Array(indices.length * size);
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k] as number;
    if (!Number.isInteger(i) || i < 0 || i >= set.count) throw new ShapeError(`toFloatBatch: index ${i} is outside 0..${set.count - 1}`);
    const src = set.images.subarray(i * size, (i + 1) * size);
    const o = k * size;
    for (let j = 0; j < size; j++) out[o + j] = (src[j] as number) / 255;
  }
  return tf.tensor4d(out, [indices.length, h, w, c], "float32");
}

/** Labels of the selected images as an int32 tensor (for one-hot / sparse losses). */
export function labelBatch(set: ImageSet, indices: ArrayLike<number>): tf.Tensor1D {
  const out = new Int32Array(indices.length);
  for (let k = 0; k < indices.length; k++) out[k] = set.labels[indices[k] as number] as number;
  return tf.tensor1d(out, "int32");
}

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
