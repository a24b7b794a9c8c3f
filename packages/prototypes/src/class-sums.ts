import { CheckpointError, ShapeError } from "@mnemo/core";
import type { DenseMatrix } from "./dense.js";
import { EmptyClassError, UnknownClassError } from "./errors.js";

/** Checkpoint form of `ClassSums`: per class a running sum (row of `sums`) and a sample count. */
export interface ClassSumsState {
  dim: number | null;
  classes: number[];
  counts: number[];
  /** classes.length × dim, row-major, in the order of `classes`. */
  sums: Float64Array;
}

/**
 * Running per-class sums and counts, so a class mean can be built from a stream of batches and
 * equals the mean of all its data. Sums are Float64 whatever the input precision: float32 sums over
 * thousands of samples would drift in the 4th digit.
 */
export class ClassSums {
  private dimension: number | null = null;
  private readonly entries = new Map<number, { sum: Float64Array; count: number }>();

  get dim(): number | null {
    return this.dimension;
  }

  /** Class labels in ascending order. Sorting (not insertion order) makes results independent of class order. */
  classes(): number[] {
    return [...this.entries.keys()].sort((a, b) => a - b);
  }

  has(label: number): boolean {
    return this.entries.has(label);
  }

  count(label: number): number {
    return this.entry(label).count;
  }

  /** Add every row of `x` to the sum of its label. `labels` must already be validated. */
  add(x: DenseMatrix, labels: Int32Array): void {
    if (x.rows === 0) return;
    if (this.dimension === null) this.dimension = x.cols;
    else if (x.cols !== this.dimension) {
      throw new ShapeError(`features have ${x.cols} columns but earlier batches had ${this.dimension}; every batch must come from the same feature extractor`);
    }
    const d = x.cols;
    for (let i = 0; i < x.rows; i++) {
      const y = labels[i];
      let e = this.entries.get(y);
      if (e === undefined) {
        e = { sum: new Float64Array(d), count: 0 };
        this.entries.set(y, e);
      }
      const s = e.sum;
      const o = i * d;
      for (let j = 0; j < d; j++) s[j] += x.data[o + j];
      e.count++;
    }
  }

  /** Mean of one class (a fresh array). */
  mean(label: number): Float64Array {
    const e = this.entry(label);
    const out = new Float64Array(e.sum.length);
    for (let j = 0; j < out.length; j++) out[j] = e.sum[j] / e.count;
    return out;
  }

  /** Means of `labels` (default: all classes, ascending) as a row-major C×d matrix. */
  means(labels: readonly number[] = this.classes()): Float64Array {
    const d = this.dimension ?? 0;
    const out = new Float64Array(labels.length * d);
    labels.forEach((y, c) => out.set(this.mean(y), c * d));
    return out;
  }

  remove(label: number): void {
    if (!this.entries.delete(label)) throw new UnknownClassError(label, this.classes());
  }

  clear(): void {
    this.entries.clear();
    this.dimension = null;
  }

  state(): ClassSumsState {
    const classes = this.classes();
    const d = this.dimension ?? 0;
    const sums = new Float64Array(classes.length * d);
    classes.forEach((y, c) => sums.set(this.entry(y).sum, c * d));
    return { dim: this.dimension, classes, counts: classes.map((y) => this.entry(y).count), sums };
  }

  static fromState(state: ClassSumsState, what: string): ClassSums {
    const { dim, classes, counts, sums } = state;
    const bad = (why: string): CheckpointError => new CheckpointError(`${what}: ${why}; the checkpoint is corrupt or from another version`);
    if (!Array.isArray(classes) || !Array.isArray(counts) || !(sums instanceof Float64Array)) throw bad("classes/counts must be arrays and sums a Float64Array");
    if (dim === null && classes.length > 0) throw bad("dim is null but classes are present");
    const d = dim ?? 0;
    if (counts.length !== classes.length || sums.length !== classes.length * d) {
      throw bad(`${classes.length} classes, ${counts.length} counts and ${sums.length} sum values do not match dim ${d}`);
    }
    const out = new ClassSums();
    out.dimension = dim;
    classes.forEach((y, c) => {
      if (!Number.isInteger(y) || y < 0) throw bad(`class label ${y} is not a non-negative integer`);
      if (out.entries.has(y)) throw bad(`class ${y} appears twice`);
      if (!Number.isInteger(counts[c]) || counts[c] <= 0) throw bad(`class ${y} has count ${counts[c]}`);
      out.entries.set(y, { sum: sums.slice(c * d, (c + 1) * d), count: counts[c] });
    });
    return out;
  }

  private entry(label: number): { sum: Float64Array; count: number } {
    const e = this.entries.get(label);
    if (e === undefined) throw new UnknownClassError(label, this.classes());
    if (e.count === 0) throw new EmptyClassError(label, "add samples with update() before asking for its mean");
    return e;
  }
}
