/**
 * Rows of uint8 NHWC image sets: index ranges, packed rows, labels. No tfjs: the conversion to
 * normalised float tensors (`imagesToTensor`, `labelsToTensor`) is in `image-tensors.ts`, entry
 * `@mnemo/core/tf`.
 */
import type { ImageSet } from "./stream.js";

export interface Normalization {
  mean: readonly number[];
  std: readonly number[];
}

/** [start, end) as an index array. */
export function range(start: number, end: number): Int32Array {
  const r = new Int32Array(Math.max(0, end - start));
  for (let i = 0; i < r.length; i++) r[i] = start + i;
  return r;
}

/** Packed uint8 images [indices.length, h, w, c] of the given rows of a set. */
export function packRows(set: ImageSet, indices: ArrayLike<number>): Uint8Array {
  const [h, w, c] = set.shape;
  const size = h * w * c;
  const out = new Uint8Array(indices.length * size);
  for (let k = 0; k < indices.length; k++) {
    const src = (indices[k] as number) * size;
    out.set(set.images.subarray(src, src + size), k * size);
  }
  return out;
}

/** Labels of the given rows of a set. */
export function pickLabels(set: ImageSet, indices: ArrayLike<number>): Int32Array {
  const out = new Int32Array(indices.length);
  for (let k = 0; k < indices.length; k++) out[k] = set.labels[indices[k] as number] as number;
  return out;
}
