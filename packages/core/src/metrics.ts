/**
 * Every continual-learning metric derived from the accuracy matrix, in one place.
 *
 * R[i][j] = test accuracy (percent) on the classes of task j after training through task i,
 * 0-based. Entries j > i are only needed for FWT; `null` marks an entry that was not
 * evaluated. Definitions follow ../shared/reference/algorithms.md §1:
 *
 * | metric | formula |
 * |---|---|
 * | finalAverageAccuracy (ACC, GEM) | (1/T) Σ_j R[T-1][j] |
 * | averageAccuracyAt(t) | (1/(t+1)) Σ_{j≤t} R[t][j] (task-macro) |
 * | sampleWeightedAccuracyAt(t) (A_t) | Σ_{j≤t} n_j R[t][j] / Σ_{j≤t} n_j (what PyCIL/TEEN print) |
 * | averageIncrementalAccuracy (AIA, iCaRL) | (1/T) Σ_t A_t |
 * | backwardTransfer (BWT, GEM) | (1/(T-1)) Σ_{j<T-1} (R[T-1][j] - R[j][j]) |
 * | forwardTransfer (FWT, GEM) | (1/(T-1)) Σ_{i≥1} (R[i-1][i] - b_i) |
 * | forgettingOfTask(j, k) (Chaudhry) | max_{l∈[j,k-1]} R[l][j] - R[k][j] |
 * | averageForgetting(k) (F_k) | (1/k) Σ_{j<k} f_j^k |
 *
 * FSCIL session metrics use per-class accuracies (see `fscilSessionMetrics`).
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

/** Task-macro average of row t over tasks 0..t. */
export function averageAccuracyAt(R: AccuracyMatrix, t: number): number {
  let s = 0;
  for (let j = 0; j <= t; j++) s += entry(R, t, j);
  return s / (t + 1);
}

/** ACC: average over all tasks after the last one (GEM). */
export function finalAverageAccuracy(R: AccuracyMatrix): number {
  const T = checkSquare(R);
  return averageAccuracyAt(R, T - 1);
}

/**
 * A_t: accuracy over all test samples of the classes seen up to task t. `testSizes[j]` is the
 * number of test samples of task j; equal sizes reduce it to `averageAccuracyAt`.
 */
export function sampleWeightedAccuracyAt(R: AccuracyMatrix, t: number, testSizes?: readonly number[]): number {
  if (!testSizes) return averageAccuracyAt(R, t);
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

/** A_t for every t. */
export function accuracyCurve(R: AccuracyMatrix, testSizes?: readonly number[]): number[] {
  const T = checkSquare(R);
  return Array.from({ length: T }, (_, t) => sampleWeightedAccuracyAt(R, t, testSizes));
}

/** AIA (iCaRL): mean of A_t over all steps. */
export function averageIncrementalAccuracy(R: AccuracyMatrix, testSizes?: readonly number[]): number {
  const curve = accuracyCurve(R, testSizes);
  return curve.reduce((a, b) => a + b, 0) / curve.length;
}

/** BWT (GEM). Undefined (NaN) for a single task. */
export function backwardTransfer(R: AccuracyMatrix): number {
  const T = checkSquare(R);
  if (T < 2) return Number.NaN;
  let s = 0;
  for (let j = 0; j < T - 1; j++) s += entry(R, T - 1, j) - entry(R, j, j);
  return s / (T - 1);
}

/** FWT (GEM) with baseline b_j = accuracy of the randomly initialised model on task j. */
export function forwardTransfer(R: AccuracyMatrix, baseline: readonly number[]): number {
  const T = checkSquare(R);
  if (T < 2) return Number.NaN;
  if (baseline.length !== T) throw new ShapeError(`FWT baseline must have ${T} entries, got ${baseline.length}`);
  let s = 0;
  for (let i = 1; i < T; i++) s += entry(R, i - 1, i) - (baseline[i] as number);
  return s / (T - 1);
}

/** f_j^k (Chaudhry et al.): best earlier accuracy on task j minus accuracy after task k (j < k). */
export function forgettingOfTask(R: AccuracyMatrix, j: number, k: number): number {
  if (!(j < k)) throw new ShapeError(`forgetting of task ${j} after step ${k} needs j < k`);
  let best = -Infinity;
  for (let l = j; l <= k - 1; l++) best = Math.max(best, entry(R, l, j));
  return best - entry(R, k, j);
}

/** F_k: mean forgetting over tasks 0..k-1 after step k (0-based). Defaults to the last step. */
export function averageForgetting(R: AccuracyMatrix, k?: number): number {
  const T = checkSquare(R);
  const step = k ?? T - 1;
  if (step < 1) return Number.NaN;
  let s = 0;
  for (let j = 0; j < step; j++) s += forgettingOfTask(R, j, step);
  return s / step;
}

/** F_k for k = 1..T-1 (per-step forgetting). */
export function forgettingCurve(R: AccuracyMatrix): number[] {
  const T = checkSquare(R);
  return Array.from({ length: T - 1 }, (_, i) => averageForgetting(R, i + 1));
}

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

export function harmonicMean(a: number, b: number): number {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.NaN;
  return a + b === 0 ? 0 : (2 * a * b) / (a + b);
}

/** FSCIL summary over sessions: AVG = mean session accuracy, PD = first - last. */
export function fscilSummary(sessionAccuracies: readonly number[]): { average: number; performanceDrop: number } {
  if (sessionAccuracies.length === 0) throw new ShapeError("no sessions");
  const average = sessionAccuracies.reduce((a, b) => a + b, 0) / sessionAccuracies.length;
  return {
    average,
    performanceDrop: (sessionAccuracies[0] as number) - (sessionAccuracies[sessionAccuracies.length - 1] as number),
  };
}

export interface MetricSummary {
  finalAverageAccuracy: number;
  averageIncrementalAccuracy: number;
  backwardTransfer: number;
  forgetting: number;
  /** Present only when a baseline was given. */
  forwardTransfer?: number;
  accuracyCurve: number[];
  forgettingCurve: number[];
}

/** All task-level metrics of a complete matrix. */
export function summarize(R: AccuracyMatrix, options: { testSizes?: readonly number[]; baseline?: readonly number[] } = {}): MetricSummary {
  const summary: MetricSummary = {
    finalAverageAccuracy: finalAverageAccuracy(R),
    averageIncrementalAccuracy: averageIncrementalAccuracy(R, options.testSizes),
    backwardTransfer: backwardTransfer(R),
    forgetting: averageForgetting(R),
    accuracyCurve: accuracyCurve(R, options.testSizes),
    forgettingCurve: forgettingCurve(R),
  };
  if (options.baseline) summary.forwardTransfer = forwardTransfer(R, options.baseline);
  return summary;
}
