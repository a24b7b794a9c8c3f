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
  | { kind: "top-k"; fraction: number };

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
  }
}
