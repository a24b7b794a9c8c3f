import { Matrix } from "ml-matrix";
import { CheckpointError, ShapeError } from "@mnemo/core";
import { ClassSums, type ClassSumsState } from "./class-sums.js";
import { checkCols, checkFinite, checkLabels, toDense, toMatrix, type FeatureInput, type LabelInput } from "./dense.js";
import { EmptyClassError } from "./errors.js";
import type { LinearScorer } from "./linear-scores.js";
import { predictLabels, scoreMatrix, scorerFor } from "./prototype-scorer.js";

export interface SimpleCilOptions {
  /** σ in logits = σ·cos(φ(x), w_c). PILOT's untrained CosineLinear has σ = 1 (§4); it never changes the argmax. */
  scale?: number;
}

export interface SimpleCilState {
  kind: "simplecil";
  version: 1;
  scale: number;
  sums: ClassSumsState;
}

/**
 * SimpleCIL (PILOT `replace_fc`, algorithms.md §4): with a frozen backbone, class c's classifier weight is
 * the mean raw feature of all its training data; the head is a cosine classifier. Means are running sums,
 * so classes can arrive over tasks and in batches; old classes' weights never change.
 */
export class SimpleCil {
  readonly scale: number;
  private sums = new ClassSums();
  private cached: { scorer: LinearScorer; labels: Int32Array } | null = null;

  constructor(options: SimpleCilOptions = {}) {
    const scale = options.scale ?? 1;
    if (!(scale > 0) || !Number.isFinite(scale)) throw new ShapeError(`scale must be a finite positive number, got ${scale}`);
    this.scale = scale;
  }

  get dim(): number | null {
    return this.sums.dim;
  }

  classes(): number[] {
    return this.sums.classes();
  }

  /** Add training features (test-time transform, frozen backbone) to the class means. */
  update(features: FeatureInput, labels: LabelInput): void {
    const x = toDense(features);
    checkFinite(x, "features");
    const y = checkLabels(labels, x.rows);
    if (this.sums.dim !== null) checkCols(x, this.sums.dim, "features");
    this.sums.add(x, y);
    this.cached = null;
  }

  /** Raw class means (what PILOT writes into fc.weight before CosineLinear normalises it). */
  means(): { classes: number[]; means: Matrix } {
    const classes = this.classes();
    return { classes, means: toMatrix({ data: this.sums.means(classes), rows: classes.length, cols: this.sums.dim ?? 0 }) };
  }

  /**
   * Cosine-head weights: row c = n(μ_c), in `classes` order. Load them into a bias-free linear layer on
   * normalised features and multiply by `scale` to get this classifier's logits.
   */
  weights(): { classes: number[]; weights: Matrix; scale: number } {
    const { scorer, labels } = this.model();
    return { classes: [...labels], weights: toMatrix({ data: scorer.weights, rows: scorer.classes, cols: scorer.dim }), scale: this.scale };
  }

  /** σ·cos(φ(x), μ_c) per row and class. */
  logits(features: FeatureInput): { classes: number[]; logits: Matrix } {
    const { scorer, labels } = this.model();
    const x = toDense(features, "query features");
    checkCols(x, scorer.dim, "query features");
    const cos = scoreMatrix(x, scorer, "cosine");
    return { classes: [...labels], logits: this.scale === 1 ? cos : cos.mul(this.scale) };
  }

  /** argmax_c cos(φ(x), μ_c). */
  predict(features: FeatureInput): Int32Array {
    const { scorer, labels } = this.model();
    const x = toDense(features, "query features");
    checkCols(x, scorer.dim, "query features");
    return predictLabels(x, scorer, labels);
  }

  removeClass(label: number): void {
    this.sums.remove(label);
    this.cached = null;
  }

  state(): SimpleCilState {
    return { kind: "simplecil", version: 1, scale: this.scale, sums: this.sums.state() };
  }

  static fromState(state: SimpleCilState): SimpleCil {
    if (state?.kind !== "simplecil" || state.version !== 1) {
      throw new CheckpointError(`expected a SimpleCIL state {kind: "simplecil", version: 1}, got kind=${String(state?.kind)} version=${String(state?.version)}`);
    }
    const out = new SimpleCil({ scale: state.scale });
    out.sums = ClassSums.fromState(state.sums, "SimpleCIL state");
    return out;
  }

  load(state: SimpleCilState): void {
    const next = SimpleCil.fromState(state);
    if (next.scale !== this.scale) throw new CheckpointError(`SimpleCIL checkpoint has scale ${next.scale}, this head ${this.scale}; use SimpleCil.fromState()`);
    this.sums = next.sums;
    this.cached = null;
  }

  private model(): { scorer: LinearScorer; labels: Int32Array } {
    if (this.cached !== null) return this.cached;
    const classes = this.classes();
    if (classes.length === 0 || this.sums.dim === null) throw new EmptyClassError(null, "call update() with labelled features before predicting");
    const d = this.sums.dim;
    // scorerFor("cosine") row-normalises the means: these are the cosine-head weights.
    this.cached = { scorer: scorerFor(this.sums.means(classes), classes.length, d, "cosine"), labels: Int32Array.from(classes) };
    return this.cached;
  }
}
