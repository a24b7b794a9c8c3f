import { Matrix } from "ml-matrix";
import { CheckpointError, ShapeError } from "@mnemo/core";
import { ClassSums, type ClassSumsState } from "./class-sums.js";
import { checkCols, checkFinite, checkLabels, normalizeRowsInPlace, NORM_EPS, toDense, toMatrix, type DenseMatrix, type FeatureInput, type LabelInput } from "./dense.js";
import { EmptyClassError } from "./errors.js";
import { inverseRowNorms, type LinearScorer } from "./linear-scores.js";
import { predictLabels, scoreMatrix, scorerFor, type Metric } from "./prototype-scorer.js";

/** NMC variants of algorithms.md §4. */
export interface NmcOptions {
  /** Use n(φ(x)) instead of φ(x), for class means and queries. Default true (iCaRL, PyCIL, Janson). */
  normalizeFeatures?: boolean;
  /** Re-normalise each class mean: μ_c = n(mean …). Default true (iCaRL, PyCIL); false = Janson's Simple Baseline. */
  renormalizeMean?: boolean;
  /** Distance/similarity between query and mean. Default "sqeuclidean" (PyCIL `cdist sqeuclidean`). */
  metric?: Metric;
}

export type ResolvedNmcOptions = Readonly<Required<NmcOptions>>;

/** The three official-code variants of §4 plus SimpleCIL's rule, as ready-made option sets. */
export const NMC_PRESETS = {
  /** iCaRL NME (Theano): pass `flipped` features too, to average φ(p) and φ(flip p). */
  icarl: { normalizeFeatures: true, renormalizeMean: true, metric: "sqeuclidean" },
  /** PyCIL NME: as iCaRL without flip averaging. */
  pycil: { normalizeFeatures: true, renormalizeMean: true, metric: "sqeuclidean" },
  /** Janson et al. Simple Baseline: mean of normalised features, not re-normalised, Euclidean. */
  simpleBaseline: { normalizeFeatures: true, renormalizeMean: false, metric: "euclidean" },
  /** SimpleCIL (PILOT): raw means, max cosine. */
  simplecil: { normalizeFeatures: false, renormalizeMean: false, metric: "cosine" },
} as const satisfies Record<string, ResolvedNmcOptions>;

export interface FlipOption {
  /**
   * Features of the horizontally flipped images, row-aligned with the main features. Each sample then
   * contributes (f(φ(x)) + f(φ(flip x)))/2, with f = n when `normalizeFeatures` (iCaRL's flip averaging).
   */
  flipped?: FeatureInput;
}

export interface NmcState {
  kind: "nmc";
  version: 1;
  options: { normalizeFeatures: boolean; renormalizeMean: boolean; metric: Metric };
  sums: ClassSumsState;
}

const METRICS: readonly Metric[] = ["euclidean", "sqeuclidean", "cosine"];

export function resolveNmcOptions(options: NmcOptions = {}): ResolvedNmcOptions {
  const metric = options.metric ?? "sqeuclidean";
  if (!METRICS.includes(metric)) throw new ShapeError(`metric "${String(metric)}" is not one of ${METRICS.join(", ")}`);
  return Object.freeze({
    normalizeFeatures: options.normalizeFeatures ?? true,
    renormalizeMean: options.renormalizeMean ?? true,
    metric,
  });
}

/**
 * Nearest-class-mean classifier on plain feature matrices. Class means are kept as running sums, so a
 * class can be fed in several batches (`update`), and the means of old classes never change when new
 * classes arrive. Pass exemplar features to get NME (iCaRL/PyCIL) or all training features to get the
 * Simple Baseline / SimpleCIL means: the classifier only sees what you give it.
 */
export class NearestMeanClassifier {
  readonly options: ResolvedNmcOptions;
  private sums = new ClassSums();
  private cached: { scorer: LinearScorer; labels: Int32Array } | null = null;

  constructor(options: NmcOptions = {}) {
    this.options = resolveNmcOptions(options);
  }

  /** Feature dimension, or null before the first update. */
  get dim(): number | null {
    return this.sums.dim;
  }

  /** Known classes, ascending. */
  classes(): number[] {
    return this.sums.classes();
  }

  /** Number of samples accumulated for a class. */
  count(label: number): number {
    return this.sums.count(label);
  }

  /** Add a batch to the running sums of its classes (new classes are created, existing ones extended). */
  update(features: FeatureInput, labels: LabelInput, opts: FlipOption = {}): void {
    const x = this.prepare(features, opts.flipped, "features");
    const y = checkLabels(labels, x.rows);
    if (this.sums.dim !== null) checkCols(x, this.sums.dim, "features");
    this.sums.add(x, y);
    this.cached = null;
  }

  /**
   * Rebuild every class mean from this data only (e.g. exemplars re-embedded by a trained backbone,
   * as iCaRL/PyCIL do after each task). `classes`, when given, must all have samples.
   */
  fit(features: FeatureInput, labels: LabelInput, opts: FlipOption & { classes?: readonly number[] } = {}): void {
    const x = this.prepare(features, opts.flipped, "features");
    const y = checkLabels(labels, x.rows);
    if (opts.classes !== undefined) {
      const present = new Set(y);
      for (const c of opts.classes) {
        if (!present.has(c)) throw new EmptyClassError(c, "fit() was told to expect it but no row has this label; pass its exemplars");
      }
    }
    const next = new ClassSums();
    next.add(x, y);
    this.sums = next;
    this.cached = null;
  }

  removeClass(label: number): void {
    this.sums.remove(label);
    this.cached = null;
  }

  clear(): void {
    this.sums.clear();
    this.cached = null;
  }

  /** The prototype of one class exactly as used for prediction (normalised if `renormalizeMean`). */
  mean(label: number): Float64Array {
    const m = this.sums.mean(label);
    if (this.options.renormalizeMean) normalizeRowsInPlace(m, 1, m.length);
    return m;
  }

  /** All prototypes, one row per class in `classes` order. */
  prototypes(): { classes: number[]; means: Matrix } {
    const classes = this.classes();
    const d = this.sums.dim ?? 0;
    return { classes, means: toMatrix({ data: this.prototypeData(classes), rows: classes.length, cols: d }) };
  }

  /** Predicted class label per row. */
  predict(features: FeatureInput, opts: FlipOption = {}): Int32Array {
    const { scorer, labels } = this.model();
    if (opts.flipped === undefined) {
      // Hot path: n(x) enters the scores only as a per-row factor on x·W, so skip the normalised copy.
      const x = toDense(features, "query features");
      checkCols(x, scorer.dim, "query features");
      checkFinite(x, "query features");
      return predictLabels(x, scorer, labels, this.options.normalizeFeatures ? inverseRowNorms(x, NORM_EPS) : null);
    }
    const x = this.prepare(features, opts.flipped, "query features");
    checkCols(x, scorer.dim, "query features");
    return predictLabels(x, scorer, labels);
  }

  /** Scores (higher = closer) per row and class: −‖x−μ‖², −‖x−μ‖ or cos, by `metric`. */
  scores(features: FeatureInput, opts: FlipOption = {}): { classes: number[]; scores: Matrix } {
    const { scorer, labels } = this.model();
    const x = this.prepare(features, opts.flipped, "query features");
    checkCols(x, scorer.dim, "query features");
    return { classes: [...labels], scores: scoreMatrix(x, scorer, this.options.metric) };
  }

  state(): NmcState {
    return { kind: "nmc", version: 1, options: { ...this.options }, sums: this.sums.state() };
  }

  /** Replace options and class statistics with a checkpoint from `state()`. */
  static fromState(state: NmcState): NearestMeanClassifier {
    if (state?.kind !== "nmc" || state.version !== 1) {
      throw new CheckpointError(`expected an NMC state {kind: "nmc", version: 1}, got kind=${String(state?.kind)} version=${String(state?.version)}`);
    }
    const out = new NearestMeanClassifier(state.options);
    out.sums = ClassSums.fromState(state.sums, "NMC state");
    return out;
  }

  /** Load a checkpoint into this instance; its options must match (they define what the sums mean). */
  load(state: NmcState): void {
    const next = NearestMeanClassifier.fromState(state);
    const a = this.options;
    const b = next.options;
    if (a.normalizeFeatures !== b.normalizeFeatures || a.renormalizeMean !== b.renormalizeMean || a.metric !== b.metric) {
      throw new CheckpointError(
        `NMC checkpoint options ${JSON.stringify(b)} differ from this classifier's ${JSON.stringify(a)}; use NearestMeanClassifier.fromState() to adopt them`,
      );
    }
    this.sums = next.sums;
    this.cached = null;
  }

  private prototypeData(classes: number[]): Float64Array {
    const d = this.sums.dim ?? 0;
    const p = this.sums.means(classes);
    if (this.options.renormalizeMean) normalizeRowsInPlace(p, classes.length, d);
    return p;
  }

  private model(): { scorer: LinearScorer; labels: Int32Array } {
    if (this.cached !== null) return this.cached;
    const classes = this.classes();
    if (classes.length === 0 || this.sums.dim === null) throw new EmptyClassError(null, "call update() or fit() with labelled features before predicting");
    const d = this.sums.dim;
    this.cached = { scorer: scorerFor(this.prototypeData(classes), classes.length, d, this.options.metric), labels: Int32Array.from(classes) };
    return this.cached;
  }

  /** Apply `normalizeFeatures` and flip averaging. Returns the input itself when nothing needs changing. */
  private prepare(features: FeatureInput, flipped: FeatureInput | undefined, what: string): DenseMatrix {
    const x = toDense(features, what);
    checkFinite(x, what);
    if (flipped === undefined && !this.options.normalizeFeatures) return x;
    const out = Float64Array.from(x.data);
    if (this.options.normalizeFeatures) normalizeRowsInPlace(out, x.rows, x.cols);
    if (flipped !== undefined) {
      const f = toDense(flipped, `flipped ${what}`);
      if (f.rows !== x.rows || f.cols !== x.cols) {
        throw new ShapeError(`flipped ${what} are ${f.rows}×${f.cols} but ${what} are ${x.rows}×${x.cols}; pass φ(flip x) row-aligned with φ(x)`);
      }
      checkFinite(f, `flipped ${what}`);
      const g = Float64Array.from(f.data);
      if (this.options.normalizeFeatures) normalizeRowsInPlace(g, f.rows, f.cols);
      for (let k = 0; k < out.length; k++) out[k] = (out[k] + g[k]) / 2;
    }
    return { data: out, rows: x.rows, cols: x.cols };
  }
}
