import { AbstractMatrix, Matrix } from "ml-matrix";
import { ShapeError } from "@mnemo/core";

/** Row-major dense matrix: `data[i * cols + j]`. What `extractFeatures` returns and what the caches store. */
export interface DenseMatrix {
  readonly data: Float32Array | Float64Array;
  readonly rows: number;
  readonly cols: number;
}

/** Anything the classifiers accept as a feature matrix (one row per sample). */
export type FeatureInput = AbstractMatrix | DenseMatrix;

/** Labels, one per row (integer class ids ≥ 0). */
export type LabelInput = ArrayLike<number>;

/** Normalisation guard, as torch `F.normalize`: v / max(‖v‖, EPS). PyCIL's v/(‖v‖+1e-8) differs by < 1e-8 relative. */
export const NORM_EPS = 1e-12;

function isDense(x: FeatureInput): x is DenseMatrix {
  return !(x instanceof AbstractMatrix);
}

/**
 * View `x` as row-major data. Dense inputs are used as-is (no copy), ml-matrix inputs are copied once
 * because its row storage is not contiguous and the kernels below need contiguous rows.
 */
export function toDense(x: FeatureInput, what = "features"): DenseMatrix {
  if (isDense(x)) {
    const { data, rows, cols } = x;
    if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 0 || cols < 0 || data.length !== rows * cols) {
      throw new ShapeError(`${what}: data has ${data.length} values but rows × cols = ${rows} × ${cols}; pass row-major data of that length`);
    }
    return x;
  }
  const rows = x.rows;
  const cols = x.columns;
  const data = new Float64Array(rows * cols);
  if (x instanceof Matrix) {
    for (let i = 0; i < rows; i++) data.set(x.getRow(i), i * cols);
  } else {
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) data[i * cols + j] = x.get(i, j);
  }
  return { data, rows, cols };
}

/** Copy a dense matrix into an ml-matrix `Matrix` (for callers who want its linear algebra). */
export function toMatrix(x: DenseMatrix): Matrix {
  const m = new Matrix(x.rows, x.cols);
  for (let i = 0; i < x.rows; i++) {
    const row = x.data.subarray(i * x.cols, (i + 1) * x.cols);
    for (let j = 0; j < x.cols; j++) m.set(i, j, row[j]);
  }
  return m;
}

export function checkCols(x: DenseMatrix, dim: number, what: string): void {
  if (x.cols !== dim) {
    throw new ShapeError(`${what} have ${x.cols} columns but the classifier holds ${dim}-d prototypes; extract features with the same backbone layer`);
  }
}

/** Validate labels against a feature matrix and return them as Int32Array. */
export function checkLabels(labels: LabelInput, rows: number, what = "labels"): Int32Array {
  if (labels.length !== rows) {
    throw new ShapeError(`${what}: got ${labels.length} labels for ${rows} feature rows; pass exactly one label per row`);
  }
  const out = new Int32Array(rows);
  for (let i = 0; i < rows; i++) {
    const y = labels[i];
    if (!Number.isInteger(y) || y < 0 || y > 0x7fffffff) {
      throw new ShapeError(`${what}[${i}] = ${y}: class labels must be integers in [0, 2^31)`);
    }
    out[i] = y;
  }
  return out;
}

/** Throw if any value is NaN or ±Infinity: one such row would silently poison a class mean forever. */
export function checkFinite(x: DenseMatrix, what: string): void {
  const d = x.data;
  for (let k = 0; k < d.length; k++) {
    if (!Number.isFinite(d[k])) {
      const row = Math.floor(k / Math.max(1, x.cols));
      throw new ShapeError(`${what}: row ${row} contains ${d[k]}; check the backbone output (exploding activations?) before fitting prototypes`);
    }
  }
}

/** n(v) in place for every row of a Float64Array. */
export function normalizeRowsInPlace(data: Float64Array, rows: number, cols: number): void {
  for (let i = 0; i < rows; i++) {
    const o = i * cols;
    let s = 0;
    for (let j = 0; j < cols; j++) s += data[o + j] * data[o + j];
    const inv = 1 / Math.max(Math.sqrt(s), NORM_EPS);
    for (let j = 0; j < cols; j++) data[o + j] *= inv;
  }
}

export function normalizeVector(v: ArrayLike<number>): Float64Array {
  const out = Float64Array.from(v);
  normalizeRowsInPlace(out, 1, out.length);
  return out;
}
