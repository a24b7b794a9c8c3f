/**
 * Every continual-learning metric derived from the accuracy matrix (and, for FSCIL's per-class
 * means, from the per-class counts the runner records beside it), in one place. Each metric is
 * defined once here, with its formula and source; names say which variant is which.
 *
 * R[i][j] = test accuracy (percent) on the classes of task j after training through task i,
 * 0-based. Entries j > i are only needed for FWT; `null` marks an entry that was not evaluated.
 * n_j = number of test samples of task j (`testSizes`). b_j = accuracy of the randomly
 * initialised model on task j. a*_j = accuracy on task j of a jointly trained reference model.
 * Definitions: ../shared/reference/algorithms.md §1, variants: frameworks.md §b.
 *
 * | key (metrics.json / MLflow) | function | formula | source |
 * |---|---|---|---|
 * | acc_task_macro | finalAccuracyTaskMacro (= finalAverageAccuracy) | ACC = (1/T) Σ_j R[T-1][j] | Lopez-Paz & Ranzato 2017 (GEM) §4 |
 * | acc_sample_weighted | finalAccuracySampleWeighted | A_{T-1} = Σ_j n_j R[T-1][j] / Σ_j n_j | PyCIL/PILOT/TEEN `top1` |
 * | (per step) | accuracyTaskMacroAt(t) | ACC_t = (1/(t+1)) Σ_{j≤t} R[t][j] | Mammoth, FACIL `avg_accs` |
 * | (per step) | accuracySampleWeightedAt(t) | A_t = Σ_{j≤t} n_j R[t][j] / Σ_{j≤t} n_j | iCaRL "accuracy on the classes seen so far" |
 * | aia_sample_weighted | aiaSampleWeighted | (1/T) Σ_t A_t | Rebuffi et al. 2017 (iCaRL); PyCIL "Average Accuracy" |
 * | aia_task_macro | aiaTaskMacro | (1/T) Σ_t ACC_t | Continuum `average_incremental_accuracy` over task-macro rows |
 * | bwt | backwardTransfer | (1/(T-1)) Σ_{j<T-1} (R[T-1][j] - R[j][j]) | GEM §4 |
 * | fwt | forwardTransfer | (1/(T-1)) Σ_{i≥1} (R[i-1][i] - b_i) | GEM §4 (Avalanche: b from an eval before training) |
 * | forgetting | averageForgetting | F_k = (1/k) Σ_{j<k} f_j^k, k = T-1 | Chaudhry et al. 2018 (RWalk) |
 * | forgetting_task{j} | forgettingPerTask | f_j^k = max_{l∈[j,k-1]} R[l][j] - R[k][j] | RWalk (max excludes the final row) |
 * | intransigence | averageIntransigence | (1/T) Σ_k I_k, I_k = a*_k - R[k][k] | RWalk §4 (a*_k: joint model on tasks 0..k) |
 * | FSCIL acc / base / novel / HM | fscilSessionFromCounts (fscilSessionMetrics) | sample acc; per-class mean over base / novel; 2·B·N/(B+N) | TOPIC (Tao 2020); TEEN `helper.py:test` |
 * | FSCIL avg / PD | fscilSummary | mean_s Acc_s; Acc_0 - Acc_last | TOPIC; CEC/FACT |
 *
 * When every task has the same number of test samples the sample-weighted and task-macro
 * variants coincide; with unequal tasks (FSCIL's 60 base classes vs 5-class sessions) they do not.
 * Forgetting variants that differ (Mammoth/PyCIL include the final row in the max, Avalanche uses
 * R[k][k] as reference) can be recomputed from the logged matrix; Mnemo reports Chaudhry's.
 */
import { ShapeError } from "./errors.js";

export type AccuracyMatrix = (number | null)[][];

function entry(R: AccuracyMatrix, i: number, j: number): number {
  const v = R[i]?.[j];
  if (v === null || v === undefined || Number.isNaN(v)) {
    throw new ShapeError(`accuracy matrix entry R[${i}][${j}] is missing; it is needed for this metric`);
  }
  return v;
}

function checkSquare(R: AccuracyMatrix): number {
  const T = R.length;
  if (T === 0) throw new ShapeError("accuracy matrix is empty");
  for (let i = 0; i < T; i++) {
    if ((R[i] as (number | null)[]).length !== T) {
      throw new ShapeError(`accuracy matrix must be T x T (T = ${T}); row ${i} has ${(R[i] as unknown[]).length} entries`);
    }
  }
  return T;
}

function checkPerTask(values: readonly number[], T: number, what: string): void {
  if (values.length !== T) throw new ShapeError(`${what} must have ${T} entries (one per task), got ${values.length}`);
  values.forEach((v, j) => {
    if (!Number.isFinite(v)) throw new ShapeError(`${what}[${j}] is ${v}; expected a finite number`);
  });
}

function mean(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

// ---------------------------------------------------------------------------------------------
// Accuracy after a step

/** ACC_t: task-macro average of row t over tasks 0..t (every task counts the same). */
export function accuracyTaskMacroAt(R: AccuracyMatrix, t: number): number {
  let s = 0;
  for (let j = 0; j <= t; j++) s += entry(R, t, j);
  return s / (t + 1);
}

/**
 * A_t: accuracy over all test samples of the classes seen up to task t (sample-weighted,
 * "micro"); `testSizes[j]` is the number of test samples of task j.
 */
export function accuracySampleWeightedAt(R: AccuracyMatrix, t: number, testSizes: readonly number[]): number {
  let num = 0;
  let den = 0;
  for (let j = 0; j <= t; j++) {
    const n = testSizes[j];
    if (n === undefined) throw new ShapeError(`testSizes has no entry for task ${j}`);
    num += n * entry(R, t, j);
    den += n;
  }
  if (den === 0) throw new ShapeError(`no test samples in tasks 0..${t}`);
  return num / den;
}

/** ACC (GEM): task-macro average over all tasks after the last one. */
export function finalAccuracyTaskMacro(R: AccuracyMatrix): number {
  const T = checkSquare(R);
  return accuracyTaskMacroAt(R, T - 1);
}

/** A_{T-1}: sample-weighted accuracy over every test sample after the last task. */
export function finalAccuracySampleWeighted(R: AccuracyMatrix, testSizes: readonly number[]): number {
  const T = checkSquare(R);
  return accuracySampleWeightedAt(R, T - 1, testSizes);
}

/** ACC_t for every t. */
export function accuracyCurveTaskMacro(R: AccuracyMatrix): number[] {
  const T = checkSquare(R);
  return Array.from({ length: T }, (_, t) => accuracyTaskMacroAt(R, t));
}

/** A_t for every t. */
export function accuracyCurveSampleWeighted(R: AccuracyMatrix, testSizes: readonly number[]): number[] {
  const T = checkSquare(R);
  return Array.from({ length: T }, (_, t) => accuracySampleWeightedAt(R, t, testSizes));
}

// ---------------------------------------------------------------------------------------------
// Average incremental accuracy

/** AIA as iCaRL defines it: mean over steps of the accuracy on all seen classes' samples, (1/T) Σ_t A_t. */
export function aiaSampleWeighted(R: AccuracyMatrix, testSizes: readonly number[]): number {
  return mean(accuracyCurveSampleWeighted(R, testSizes));
}

/** AIA over task-macro rows: (1/T) Σ_t ACC_t. */
export function aiaTaskMacro(R: AccuracyMatrix): number {
  return mean(accuracyCurveTaskMacro(R));
}

// ---------------------------------------------------------------------------------------------
// Transfer

/** BWT (GEM). NaN for a single task. */
export function backwardTransfer(R: AccuracyMatrix): number {
  const T = checkSquare(R);
  if (T < 2) return Number.NaN;
  let s = 0;
  for (let j = 0; j < T - 1; j++) s += entry(R, T - 1, j) - entry(R, j, j);
  return s / (T - 1);
}

/**
 * FWT (GEM): how much training on tasks < i helps task i before it is trained, against the
 * randomly initialised model's accuracy b_i (see `evaluateRandomInit`). Needs the entries
 * R[i-1][i] (evaluation of future tasks). NaN for a single task.
 */
export function forwardTransfer(R: AccuracyMatrix, baseline: readonly number[]): number {
  const T = checkSquare(R);
  if (T < 2) return Number.NaN;
  checkPerTask(baseline, T, "FWT baseline");
  let s = 0;
  for (let i = 1; i < T; i++) s += entry(R, i - 1, i) - (baseline[i] as number);
  return s / (T - 1);
}

// ---------------------------------------------------------------------------------------------
// Forgetting and intransigence (Chaudhry et al. 2018)

/** f_j^k: best earlier accuracy on task j minus accuracy after step k (j < k). */
export function forgettingOfTask(R: AccuracyMatrix, j: number, k: number): number {
  if (!(j < k)) throw new ShapeError(`forgetting of task ${j} after step ${k} needs j < k`);
  let best = -Infinity;
  for (let l = j; l <= k - 1; l++) best = Math.max(best, entry(R, l, j));
  return best - entry(R, k, j);
}

/** f_j^k for every task j < k after step k (default: the last step). Empty for k = 0. */
export function forgettingPerTask(R: AccuracyMatrix, k?: number): number[] {
  const T = checkSquare(R);
  const step = k ?? T - 1;
  return Array.from({ length: Math.max(0, step) }, (_, j) => forgettingOfTask(R, j, step));
}

/** F_k: mean forgetting over tasks 0..k-1 after step k (0-based; default: the last step). NaN for k < 1. */
export function averageForgetting(R: AccuracyMatrix, k?: number): number {
  const perTask = forgettingPerTask(R, k);
  return perTask.length === 0 ? Number.NaN : mean(perTask);
}

/** F_k for k = 1..T-1 (per-step forgetting). */
export function forgettingCurve(R: AccuracyMatrix): number[] {
  const T = checkSquare(R);
  return Array.from({ length: T - 1 }, (_, i) => averageForgetting(R, i + 1));
}

/**
 * I_k = a*_k - R[k][k] for every task k: how much worse the continual learner learns task k
 * than a reference trained jointly on tasks 0..k. `jointReference[k]` = a*_k; from a joint run's
 * matrix use `jointReferenceFrom(Rjoint)`.
 */
export function intransigencePerTask(R: AccuracyMatrix, jointReference: readonly number[]): number[] {
  const T = checkSquare(R);
  checkPerTask(jointReference, T, "joint reference");
  return Array.from({ length: T }, (_, k) => (jointReference[k] as number) - entry(R, k, k));
}

/** Mean intransigence over all tasks, (1/T) Σ_k I_k. */
export function averageIntransigence(R: AccuracyMatrix, jointReference: readonly number[]): number {
  return mean(intransigencePerTask(R, jointReference));
}

/**
 * a*_k from the matrix of a joint run (a fresh model trained on tasks 0..k after task k, as
 * Mnemo's `joint` method does): its diagonal R_joint[k][k].
 */
export function jointReferenceFrom(jointMatrix: AccuracyMatrix): number[] {
  const T = checkSquare(jointMatrix);
  return Array.from({ length: T }, (_, k) => entry(jointMatrix, k, k));
}

// ---------------------------------------------------------------------------------------------
// Few-shot class-incremental sessions

export interface FscilSessionMetrics {
  /** Sample accuracy over all seen classes (percent). */
  accuracy: number;
  /** Mean per-class accuracy over base classes (percent). */
  base: number;
  /** Mean per-class accuracy over novel classes seen so far (percent); NaN in session 0. */
  novel: number;
  /** Harmonic mean of base and novel; NaN in session 0. */
  harmonicMean: number;
}

/**
 * FSCIL metrics of one session from per-class counts (TEEN `helper.py:test`): `correct[c]` and
 * `total[c]` over the classes seen so far, with classes < numBaseClasses being base classes.
 */
export function fscilSessionMetrics(
  correct: readonly number[],
  total: readonly number[],
  numBaseClasses: number,
): FscilSessionMetrics {
  if (correct.length !== total.length) throw new ShapeError("correct and total must have the same length");
  let c = 0;
  let n = 0;
  const perClass = (lo: number, hi: number): number => {
    let s = 0;
    let m = 0;
    for (let k = lo; k < hi; k++) {
      if ((total[k] as number) > 0) {
        s += (correct[k] as number) / (total[k] as number);
        m++;
      }
    }
    return m === 0 ? Number.NaN : (100 * s) / m;
  };
  for (let k = 0; k < total.length; k++) {
    c += correct[k] as number;
    n += total[k] as number;
  }
  const base = perClass(0, Math.min(numBaseClasses, total.length));
  const novel = perClass(numBaseClasses, total.length);
  return { accuracy: n === 0 ? Number.NaN : (100 * c) / n, base, novel, harmonicMean: harmonicMean(base, novel) };
}

/**
 * Per-class test counts of one accuracy-matrix entry R[i][j], indexed by label (0..numClasses-1):
 * of task j's test images of class c, `total[c]` were evaluated after task i and `correct[c]` were
 * predicted right. What the matrix averages away (FSCIL base / novel accuracy need it; see
 * metrics.ts `fscilSessionFromCounts`).
 */
export interface ClassCounts {
  correct: number[];
  total: number[];
  /** Correct counts of each of the learner's `predictVariants`, by variant name. */
  variants?: Record<string, number[]>;
}

/**
 * FSCIL metrics of session `session` (0 = base) from the runner's per-class counts
 * (`ExperimentResult.perClassCounts`): the test images of tasks 0..session, base classes =
 * `taskClasses[0]`, novel = the classes of tasks 1..session. `variant` reads the counts of one of
 * the learner's `predictVariants` instead of `predict`'s. This is where base / novel / HM come from;
 * the accuracy is A_session of the matrix (sample-weighted over the seen tasks).
 */
export function fscilSessionFromCounts(
  counts: readonly (readonly (ClassCounts | null)[])[],
  taskClasses: readonly (readonly number[])[],
  session: number,
  variant?: string,
): FscilSessionMetrics {
  const row = counts[session];
  if (!row) throw new ShapeError(`no per-class counts for session ${session} (${counts.length} rows)`);
  const base = taskClasses[0] ?? [];
  const seen = [...new Set([...base, ...taskClasses.slice(1, session + 1).flat()])];
  const correct = new Array<number>(seen.length).fill(0);
  const total = new Array<number>(seen.length).fill(0);
  for (let j = 0; j <= session; j++) {
    const cell = row[j];
    if (!cell) throw new ShapeError(`session ${session}: task ${j} has no per-class counts (the learner scores sets itself, or the task was not evaluated)`);
    const hits = variant === undefined ? cell.correct : cell.variants?.[variant];
    if (!hits) throw new ShapeError(`session ${session}: task ${j} has no counts of prediction variant "${variant}"`);
    seen.forEach((c, k) => {
      correct[k] = (correct[k] as number) + (hits[c] ?? 0);
      total[k] = (total[k] as number) + (cell.total[c] ?? 0);
    });
  }
  return fscilSessionMetrics(correct, total, base.length);
}

export function harmonicMean(a: number, b: number): number {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.NaN;
  return a + b === 0 ? 0 : (2 * a * b) / (a + b);
}

/** FSCIL summary over sessions: AVG = mean session accuracy, PD (performance drop) = first - last. */
export function fscilSummary(sessionAccuracies: readonly number[]): { average: number; performanceDrop: number } {
  if (sessionAccuracies.length === 0) throw new ShapeError("no sessions");
  return {
    average: mean(sessionAccuracies),
    performanceDrop: (sessionAccuracies[0] as number) - (sessionAccuracies[sessionAccuracies.length - 1] as number),
  };
}

// ---------------------------------------------------------------------------------------------
// Summary

export interface MetricSummary {
  /** ACC (GEM), task-macro. */
  accuracyTaskMacro: number;
  /** A_{T-1}, sample-weighted (equals the task-macro value when no test sizes are given). */
  accuracySampleWeighted: number;
  /** AIA (iCaRL): mean of A_t. */
  aiaSampleWeighted: number;
  /** Mean of ACC_t. */
  aiaTaskMacro: number;
  backwardTransfer: number;
  /** F_{T-1} (Chaudhry). */
  forgetting: number;
  /** f_j^{T-1} for j < T-1. */
  forgettingPerTask: number[];
  /** Present only when a random-init baseline was given. */
  forwardTransfer?: number;
  /** Present only when a joint reference was given. */
  intransigence?: number;
  intransigencePerTask?: number[];
  accuracyCurveTaskMacro: number[];
  accuracyCurveSampleWeighted: number[];
  forgettingCurve: number[];
  /** @deprecated alias of `accuracyTaskMacro`. */
  finalAverageAccuracy: number;
  /** @deprecated alias of `aiaSampleWeighted` (task-macro when no test sizes are given). */
  averageIncrementalAccuracy: number;
  /** @deprecated alias of `accuracyCurveSampleWeighted`. */
  accuracyCurve: number[];
}

export interface SummarizeOptions {
  /** Test samples per task; without them the sample-weighted metrics fall back to task-macro. */
  testSizes?: readonly number[];
  /** b_j: random-init accuracy per task (for FWT). */
  baseline?: readonly number[];
  /** a*_j: joint-reference accuracy per task (for intransigence). */
  jointReference?: readonly number[];
}

/** All task-level metrics of a complete matrix. */
export function summarize(R: AccuracyMatrix, options: SummarizeOptions = {}): MetricSummary {
  const T = checkSquare(R);
  const sizes = options.testSizes ?? new Array<number>(T).fill(1);
  const curveMacro = accuracyCurveTaskMacro(R);
  const curveWeighted = accuracyCurveSampleWeighted(R, sizes);
  const summary: MetricSummary = {
    accuracyTaskMacro: curveMacro[T - 1] as number,
    accuracySampleWeighted: curveWeighted[T - 1] as number,
    aiaSampleWeighted: mean(curveWeighted),
    aiaTaskMacro: mean(curveMacro),
    backwardTransfer: backwardTransfer(R),
    forgetting: averageForgetting(R),
    forgettingPerTask: forgettingPerTask(R),
    accuracyCurveTaskMacro: curveMacro,
    accuracyCurveSampleWeighted: curveWeighted,
    forgettingCurve: forgettingCurve(R),
    finalAverageAccuracy: curveMacro[T - 1] as number,
    averageIncrementalAccuracy: mean(curveWeighted),
    accuracyCurve: curveWeighted,
  };
  if (options.baseline) summary.forwardTransfer = forwardTransfer(R, options.baseline);
  if (options.jointReference) {
    summary.intransigencePerTask = intransigencePerTask(R, options.jointReference);
    summary.intransigence = mean(summary.intransigencePerTask);
  }
  return summary;
}

/** One named metric as it is printed, logged and stored. */
export interface MetricDefinition {
  /** Key in metrics.json and MLflow. */
  key: string;
  /** Short printed label, e.g. "ACC (task-macro)". */
  label: string;
  formula: string;
  source: string;
}

/** The keys `metricRecord` writes, with what each one means (for printing, reports and docs). */
export const METRIC_DEFINITIONS: readonly MetricDefinition[] = [
  { key: "acc_task_macro", label: "ACC (task-macro)", formula: "(1/T) Σ_j R[T-1][j]", source: "GEM (Lopez-Paz & Ranzato 2017) §4" },
  { key: "acc_sample_weighted", label: "ACC (sample-weighted)", formula: "Σ_j n_j R[T-1][j] / Σ_j n_j", source: "PyCIL/PILOT/TEEN top1" },
  { key: "aia_sample_weighted", label: "AIA (iCaRL, sample-weighted)", formula: "(1/T) Σ_t A_t", source: "iCaRL (Rebuffi et al. 2017)" },
  { key: "aia_task_macro", label: "AIA (task-macro)", formula: "(1/T) Σ_t (1/(t+1)) Σ_{j≤t} R[t][j]", source: "Continuum average_incremental_accuracy" },
  { key: "bwt", label: "BWT", formula: "(1/(T-1)) Σ_{j<T-1} (R[T-1][j] - R[j][j])", source: "GEM §4" },
  { key: "fwt", label: "FWT", formula: "(1/(T-1)) Σ_{i≥1} (R[i-1][i] - b_i), b = random-init model", source: "GEM §4" },
  { key: "forgetting", label: "Forgetting (Chaudhry)", formula: "(1/(T-1)) Σ_{j<T-1} max_{l∈[j,T-2]} R[l][j] - R[T-1][j]", source: "RWalk (Chaudhry et al. 2018)" },
  { key: "intransigence", label: "Intransigence", formula: "(1/T) Σ_k (a*_k - R[k][k]), a* = joint model", source: "RWalk (Chaudhry et al. 2018)" },
];

/**
 * The summary as flat, self-describing keys (see METRIC_DEFINITIONS), plus `forgetting_task<j>`
 * and `intransigence_task<k>`. Undefined metrics (NaN, e.g. BWT of one task) are left out.
 */
/**
 * The one naming scheme of per-task metrics: `<metric>_task<i>` (`accuracy_task0`,
 * `train_seconds_task2`, `forgetting_task1`). Not `<metric>/task_<i>`: MLflow stores a metric
 * `train_seconds` as a file, so `train_seconds/task_0` beside it cannot exist. Names before this
 * scheme are listed in packages/experiment/README.md.
 */
export function perTaskKey(metric: string, task: number): string {
  return `${metric}_task${task}`;
}

export function metricRecord(summary: MetricSummary): Record<string, number> {
  const out: Record<string, number> = {
    acc_task_macro: summary.accuracyTaskMacro,
    acc_sample_weighted: summary.accuracySampleWeighted,
    aia_sample_weighted: summary.aiaSampleWeighted,
    aia_task_macro: summary.aiaTaskMacro,
    bwt: summary.backwardTransfer,
    forgetting: summary.forgetting,
  };
  if (summary.forwardTransfer !== undefined) out["fwt"] = summary.forwardTransfer;
  if (summary.intransigence !== undefined) out["intransigence"] = summary.intransigence;
  summary.forgettingPerTask.forEach((f, j) => (out[perTaskKey("forgetting", j)] = f));
  summary.intransigencePerTask?.forEach((v, k) => (out[perTaskKey("intransigence", k)] = v));
  for (const k of Object.keys(out)) if (!Number.isFinite(out[k])) delete out[k];
  return out;
}

// ---------------------------------------------------------------------------------------------
// Validation

export interface ValidationSummary {
  /** Task-macro mean of the last row over the tasks that have a validation split. */
  accTaskMacro: number;
  /** Sample-weighted accuracy of the last row over those tasks. */
  accSampleWeighted: number;
  /** Mean over steps t of the sample-weighted accuracy of row t (tasks <= t with a split). */
  aiaSampleWeighted: number;
  /** Per step t: sample-weighted validation accuracy over the seen tasks that have a split. */
  curve: number[];
}

/**
 * The accuracy metrics of a validation matrix V (V[i][j] for j <= i; null where task j has no
 * validation split, e.g. few-shot sessions): the numbers to rank hyper-parameters by. Steps with
 * no validated task are skipped by the AIA; undefined when no task has a split.
 */
export function validationSummary(V: AccuracyMatrix, sizes: readonly number[]): ValidationSummary | undefined {
  const T = checkSquare(V);
  const rowStats = (t: number): { macro: number; weighted: number } | undefined => {
    let s = 0;
    let m = 0;
    let num = 0;
    let den = 0;
    for (let j = 0; j <= t; j++) {
      const v = V[t]?.[j];
      const n = sizes[j] ?? 0;
      if (v === null || v === undefined || Number.isNaN(v) || n <= 0) continue;
      s += v;
      m++;
      num += n * v;
      den += n;
    }
    return m === 0 ? undefined : { macro: s / m, weighted: num / den };
  };
  const last = rowStats(T - 1);
  if (!last) return undefined;
  const curve: number[] = [];
  for (let t = 0; t < T; t++) curve.push(rowStats(t)?.weighted ?? Number.NaN);
  const defined = curve.filter((v) => !Number.isNaN(v));
  return { accTaskMacro: last.macro, accSampleWeighted: last.weighted, aiaSampleWeighted: mean(defined), curve };
}

// ---------------------------------------------------------------------------------------------
// Earlier names, kept so existing callers keep working; prefer the explicit names above.

/** @deprecated use `accuracyTaskMacroAt`. */
export const averageAccuracyAt = accuracyTaskMacroAt;

/** @deprecated use `finalAccuracyTaskMacro`. */
export const finalAverageAccuracy = finalAccuracyTaskMacro;

/** @deprecated use `accuracySampleWeightedAt` (this one falls back to task-macro without sizes). */
export function sampleWeightedAccuracyAt(R: AccuracyMatrix, t: number, testSizes?: readonly number[]): number {
  return testSizes ? accuracySampleWeightedAt(R, t, testSizes) : accuracyTaskMacroAt(R, t);
}

/** @deprecated use `accuracyCurveSampleWeighted` / `accuracyCurveTaskMacro`. */
export function accuracyCurve(R: AccuracyMatrix, testSizes?: readonly number[]): number[] {
  return testSizes ? accuracyCurveSampleWeighted(R, testSizes) : accuracyCurveTaskMacro(R);
}

/** @deprecated use `aiaSampleWeighted` (iCaRL) or `aiaTaskMacro`; this one is sample-weighted only when sizes are given. */
export function averageIncrementalAccuracy(R: AccuracyMatrix, testSizes?: readonly number[]): number {
  return testSizes ? aiaSampleWeighted(R, testSizes) : aiaTaskMacro(R);
}

/**
 * Continual test-time adaptation (CoTTA protocol, reference §2.1): the online error of one
 * adapter on each domain of the stream (each domain's predictions made before adapting on its
 * batch), the mean over domains (the published "mean"), and the mean of each pass when the domain
 * sequence is repeated (the long-stream check: the last pass against the first).
 */
export interface OnlineErrorSummary {
  /** Error in percent per (pass, domain) cell, in stream order: 100 · (1 − correct / total). */
  errors: number[];
  /** Mean of `errors` (domain-macro, as CoTTA's tables). */
  meanError: number;
  /** Mean error of each pass over the domain sequence. */
  passMeanErrors: number[];
}

export const TTA_METRIC_DEFINITIONS: readonly MetricDefinition[] = [
  { key: "tta_error", label: "Online error per domain", formula: "100 · (1 − correct_d / n_d), each batch predicted before adapting on it", source: "CoTTA (Wang et al. 2022) §4, cifar10c.py" },
  { key: "tta_mean_error", label: "Mean online error", formula: "(1/D) Σ_d error_d over the D domains of the stream (all passes)", source: "CoTTA Table 2 'Mean'" },
  { key: "tta_pass_mean_error", label: "Mean error of pass p", formula: "mean of error_d over the domains of pass p of a repeated sequence", source: "Mnemo (long-stream check)" },
];

export function onlineErrorSummary(correct: readonly number[], total: readonly number[], domainsPerPass: number): OnlineErrorSummary {
  if (correct.length !== total.length) throw new ShapeError(`onlineErrorSummary: ${correct.length} correct counts but ${total.length} totals`);
  if (!Number.isInteger(domainsPerPass) || domainsPerPass < 1) throw new ShapeError(`onlineErrorSummary: domainsPerPass must be a positive integer, got ${domainsPerPass}`);
  const errors = correct.map((c, i) => {
    const n = total[i] as number;
    return n > 0 ? (100 * (n - c)) / n : Number.NaN;
  });
  const mean = (xs: readonly number[]) => (xs.length === 0 ? Number.NaN : xs.reduce((a, b) => a + b, 0) / xs.length);
  const passMeanErrors: number[] = [];
  for (let p = 0; p * domainsPerPass < errors.length; p++) passMeanErrors.push(mean(errors.slice(p * domainsPerPass, (p + 1) * domainsPerPass)));
  return { errors, meanError: mean(errors), passMeanErrors };
}
