/** uint8 NHWC images → normalised float tensors, one batch at a time (memory stays flat). Needs tfjs. */
import * as tf from "@tensorflow/tfjs";
import { ShapeError } from "./errors.js";
import type { Normalization } from "./images.js";
import type { ImageSet, UnlabelledSet } from "./stream.js";

/** Copies the selected images into one float32 [n, h, w, c] tensor scaled to [0, 1], then normalises. */
export function imagesToTensor(set: ImageSet | UnlabelledSet, indices: ArrayLike<number>, normalization?: Normalization): tf.Tensor4D {
  const [h, w, c] = set.shape;
  const size = h * w * c;
  const n = indices.length;
  const out = new Float32Array(n * size);
  for (let k = 0; k < n; k++) {
    const i = indices[k] as number;
    if (!Number.isInteger(i) || i < 0 || i >= set.count) throw new ShapeError(`image index ${i} is outside 0..${set.count - 1}`);
    const src = i * size;
    const dst = k * size;
    for (let p = 0; p < size; p++) out[dst + p] = (set.images[src + p] as number) / 255;
  }
  if (normalization) {
    const { mean, std } = normalization;
    for (let p = 0; p < out.length; p++) {
      const ch = p % c;
      out[p] = ((out[p] as number) - (mean[ch] as number)) / (std[ch] as number);
    }
  }
  return tf.tensor4d(out, [n, h, w, c]);
}

/** Labels of the selected samples as an int32 tensor. */
export function labelsToTensor(set: ImageSet, indices: ArrayLike<number>): tf.Tensor1D {
  const out = new Int32Array(indices.length);
  for (let k = 0; k < indices.length; k++) out[k] = set.labels[indices[k] as number] as number;
  return tf.tensor1d(out, "int32");
}
