/**
 * Pseudo-label selection policies (self-training-tta.md §1.4): which unlabelled samples get their
 * predicted label, given one confidence per sample. Plain arrays, no tfjs.
 */

/** Fixed threshold: { i : conf_i ≥ θ } (inclusive, as `ConfidenceThreshold`), ascending. */
export function selectByThreshold(confidence: ArrayLike<number>, theta: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < confidence.length; i++) if ((confidence[i] as number) >= theta) out.push(i);
  return out;
}

/** numpy's default ("linear", type 7) quantile of the values at q ∈ [0, 1]. */
export function quantileType7(values: ArrayLike<number>, q: number): number {
  if (values.length === 0) throw new RangeError("quantile of an empty set");
  if (!(q >= 0 && q <= 1)) throw new RangeError(`quantile q must be in [0, 1], got ${q}`);
  const sorted = Float64Array.from(values).sort();
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return (sorted[lo] as number) + (h - lo) * ((sorted[hi] as number) - (sorted[lo] as number));
}

/**
 * Curriculum pseudo-labelling (Cascante-Bonilla et al. 2021): at round t = 1, 2, … the threshold is
 * the q = max(0, 1 − tΔ) quantile of the confidences, and every sample at or above it is selected
 * (ties included). Δ = 0.2 is the reference default. (The reference code's first call already uses
 * t = 2; here round 1 is round 1.)
 */
export function selectByCurriculum(confidence: ArrayLike<number>, round: number, step = 0.2): { threshold: number; selected: number[] } {
  if (!Number.isInteger(round) || round < 1) throw new RangeError(`curriculum round must be an integer ≥ 1, got ${round}`);
  if (!(step > 0 && step <= 1)) throw new RangeError(`curriculum step must be in (0, 1], got ${step}`);
  if (confidence.length === 0) return { threshold: Number.NaN, selected: [] };
  // Rounded so that 1 − 3·0.2 is 0.4, not 0.39999999999999997 (which moves the quantile).
  const q = Math.max(0, Math.round((1 - round * step) * 1e12) / 1e12);
  const threshold = quantileType7(confidence, q);
  return { threshold, selected: selectByThreshold(confidence, threshold) };
}

export type PseudoLabelPolicy =
  | { kind: "threshold"; theta: number }
  | { kind: "curriculum"; step: number }
  | { kind: "top-k"; fraction: number }
  /** Per-class thresholds from the transductive bound (selectByMsta): needs votes, not one confidence per sample. */
  | { kind: "msta" };

/**
 * Dispatch on a policy. `top-k` keeps the ⌈fraction·n⌉ most confident samples (ties broken by
 * index), the fixed-size variant of the curriculum.
 */
export function selectPseudoLabels(confidence: ArrayLike<number>, policy: PseudoLabelPolicy, round: number): number[] {
  switch (policy.kind) {
    case "threshold":
      return selectByThreshold(confidence, policy.theta);
    case "curriculum":
      return selectByCurriculum(confidence, round, policy.step).selected;
    case "top-k": {
      const n = confidence.length;
      const k = Math.min(n, Math.ceil(policy.fraction * n));
      const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => (confidence[b] as number) - (confidence[a] as number) || a - b);
      return order.slice(0, k).sort((a, b) => a - b);
    }
    case "msta":
      throw new RangeError("the msta policy needs class votes and probabilities: call selectByMsta(vote, prob, pred, k)");
  }
}

/**
 * MSTA / MSLA (Feofanov, Devijver, Amini; the tsim docstring's "MSTA"; self-training-tta.md §1.4):
 * one threshold θ_k per class, chosen on the unlabelled set by minimising a transductive bound on
 * the conditional error of the majority vote. `vote` [n, K] row-major holds the votes m(x, k) (the
 * classwise T-similarity c_k(x), or class probabilities for a softmax confidence), `prob` [n, K]
 * the class probabilities P(x, i) the bound is weighted with, `pred` the predicted class per row.
 *
 * The search follows the reference: 50 θ values in [min m(·,k), max m(·,k)), stopping once the
 * bound rose twice in a row (`risingTwice`); a class with Σ_x P(x, k) = 0 gets θ_k = 1. The bound's
 * constant factors (the reference divides by u twice) do not move the argmin and are kept as in
 * the reference so that values can be compared.
 */
export function mstaThresholds(vote: ArrayLike<number>, prob: ArrayLike<number>, pred: ArrayLike<number>, k: number, samplingRate = 50): Float64Array {
  const n = pred.length;
  if (vote.length !== n * k || prob.length !== n * k) throw new RangeError(`msta: vote (${vote.length}) and prob (${prob.length}) must both be [${n} rows × ${k} classes]`);
  const mass = new Float64Array(k);
  for (let t = 0; t < n; t++) for (let c = 0; c < k; c++) mass[c] = (mass[c] as number) + (prob[t * k + c] as number);
  const out = new Float64Array(k);
  for (let c = 0; c < k; c++) {
    if (mass[c] === 0) {
      out[c] = 1;
      continue;
    }
    let lo = Infinity;
    let hi = -Infinity;
    for (let t = 0; t < n; t++) {
      lo = Math.min(lo, vote[t * k + c] as number);
      hi = Math.max(hi, vote[t * k + c] as number);
    }
    const errors: number[] = [];
    let best = 0;
    for (let s = 0; s < samplingRate; s++) {
      const theta = lo + (s * (hi - lo)) / samplingRate;
      let numerator = 0;
      for (let i = 0; i < k; i++) {
        if (i === c || mass[i] === 0) continue;
        numerator += ((mass[i] as number) / n) * jointBayesRisk(vote, prob, pred, k, i, c, theta, mass[i] as number, samplingRate);
      }
      numerator /= n;
      let covered = 0;
      for (let t = 0; t < n; t++) if (pred[t] === c && (vote[t * k + c] as number) >= theta) covered++;
      const error = numerator / (covered === 0 ? 1e-8 : covered / n);
      errors.push(error);
      if (error < (errors[best] as number)) best = s;
      if (risingTwice(errors)) break;
    }
    out[c] = lo + (best * (hi - lo)) / samplingRate;
  }
  return out;
}

/** Stop rule of the reference: after 4 values, the last rose and the one before did not fall. */
function risingTwice(values: number[]): boolean {
  const m = values.length;
  return m > 4 && (values[m - 1] as number) > (values[m - 2] as number) && (values[m - 2] as number) >= (values[m - 3] as number);
}

/**
 * JBR(i, j) at θ = min over γ_s = θ + (1 − θ)·s/S (s = 1..S) of I + max(0, K − M)/γ, where, weighted
 * by P(x, i)/u_i: I = mass of θ ≤ m(x, j) < γ, M = Σ of m(x, j) over the same rows, K = Σ of
 * m(x, j) over the rows predicted j. Exported for the reference test.
 */
export function jointBayesRisk(vote: ArrayLike<number>, prob: ArrayLike<number>, pred: ArrayLike<number>, k: number, i: number, j: number, theta: number, ui?: number, samplingRate = 50): number {
  const n = pred.length;
  let u = ui ?? 0;
  if (ui === undefined) for (let t = 0; t < n; t++) u += prob[t * k + i] as number;
  let kij = 0;
  for (let t = 0; t < n; t++) if (pred[t] === j) kij += (prob[t * k + i] as number) * (vote[t * k + j] as number);
  kij /= u;
  const bounds: number[] = [];
  let inf = Infinity;
  for (let s = 0; s < samplingRate; s++) {
    const gamma = theta + ((s + 1) * (1 - theta)) / samplingRate;
    let mI = 0;
    let mM = 0;
    for (let t = 0; t < n; t++) {
      const v = vote[t * k + j] as number;
      if (v >= theta && v < gamma) {
        mI += prob[t * k + i] as number;
        mM += v * (prob[t * k + i] as number);
      }
    }
    const a = kij - mM / u;
    const bound = mI / u + Math.max(0, a) / gamma;
    bounds.push(bound);
    inf = Math.min(inf, bound);
    if (risingTwice(bounds)) break;
  }
  return inf;
}

/** MSTA selection: rows whose vote for their predicted class reaches that class's θ_k. */
export function selectByMsta(vote: ArrayLike<number>, prob: ArrayLike<number>, pred: ArrayLike<number>, k: number): { thresholds: Float64Array; selected: number[] } {
  const thresholds = mstaThresholds(vote, prob, pred, k);
  const selected: number[] = [];
  for (let t = 0; t < pred.length; t++) {
    const c = pred[t] as number;
    if ((vote[t * k + c] as number) >= (thresholds[c] as number)) selected.push(t);
  }
  return { thresholds, selected };
}
