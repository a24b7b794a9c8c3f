import { SeededRng, type RandomStream } from "@mnemo/core";
import type { DenseMatrix } from "../src/index.js";

export interface Labelled {
  x: DenseMatrix & { data: Float64Array };
  y: Int32Array;
}

/** Gaussian blobs as in algorithms.md §4 sanity test 1: means ~ N(0, spread²), unit noise. */
export function blobCenters(rng: RandomStream, classes: number, dim: number, spread = 10): Float64Array {
  return new Float64Array(classes * dim).map(() => rng.normal(0, spread));
}

export function sampleBlobs(rng: RandomStream, centers: Float64Array, classes: readonly number[], dim: number, perClass: number, noise = 1): Labelled {
  const rows = classes.length * perClass;
  const data = new Float64Array(rows * dim);
  const y = new Int32Array(rows);
  let r = 0;
  for (const c of classes) {
    for (let k = 0; k < perClass; k++, r++) {
      y[r] = c;
      for (let j = 0; j < dim; j++) data[r * dim + j] = centers[c * dim + j] + rng.normal(0, noise);
    }
  }
  return { x: { data, rows, cols: dim }, y };
}

export function stream(seed: number, name = "blobs"): RandomStream {
  return new SeededRng(seed).stream(name);
}

/** Rows of `set` whose label is in `classes`. */
export function subset(set: Labelled, classes: readonly number[]): Labelled {
  const keep = new Set(classes);
  const idx = [...set.y.keys()].filter((i) => keep.has(set.y[i]));
  const d = set.x.cols;
  const data = new Float64Array(idx.length * d);
  idx.forEach((i, k) => data.set(set.x.data.subarray(i * d, (i + 1) * d), k * d));
  return { x: { data, rows: idx.length, cols: d }, y: Int32Array.from(idx.map((i) => set.y[i])) };
}

/** Random orthogonal d×d matrix: Gram–Schmidt on a Gaussian matrix (rows orthonormal). */
export function randomOrthogonal(rng: RandomStream, d: number): Float64Array {
  const q = new Float64Array(d * d).map(() => rng.normal());
  for (let i = 0; i < d; i++) {
    for (let k = 0; k < i; k++) {
      let dot = 0;
      for (let j = 0; j < d; j++) dot += q[i * d + j] * q[k * d + j];
      for (let j = 0; j < d; j++) q[i * d + j] -= dot * q[k * d + j];
    }
    let n = 0;
    for (let j = 0; j < d; j++) n += q[i * d + j] ** 2;
    n = Math.sqrt(n);
    for (let j = 0; j < d; j++) q[i * d + j] /= n;
  }
  return q;
}

/** x·Qᵀ for every row (rotation of each feature vector). */
export function rotate(x: DenseMatrix, q: Float64Array): DenseMatrix & { data: Float64Array } {
  const d = x.cols;
  const out = new Float64Array(x.rows * d);
  for (let i = 0; i < x.rows; i++) {
    for (let a = 0; a < d; a++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += q[a * d + j] * x.data[i * d + j];
      out[i * d + a] = s;
    }
  }
  return { data: out, rows: x.rows, cols: d };
}

export function accuracy(pred: ArrayLike<number>, y: ArrayLike<number>): number {
  let ok = 0;
  for (let i = 0; i < y.length; i++) if (pred[i] === y[i]) ok++;
  return ok / y.length;
}

export function dense(rows: number[][]): DenseMatrix & { data: Float64Array } {
  const cols = rows[0]?.length ?? 0;
  return { data: Float64Array.from(rows.flat()), rows: rows.length, cols };
}

export function norm(v: ArrayLike<number>): number {
  let s = 0;
  for (let j = 0; j < v.length; j++) s += v[j] * v[j];
  return Math.sqrt(s);
}
