/**
 * Which training images of a semi-supervised task keep their label (self-training-tta.md §1.5, §3).
 *
 * IID: a uniform sample per class. SSB (sample-selection bias, Odonnat et al. 2024 `_pca_split`):
 * pixels are standardised over the task's training pool, each class is projected on its own first
 * principal component, and n_k images are drawn without replacement with P(x) ∝ exp(r·|PC1(x)|).
 * Class priors are kept; only the within-class distribution of the labelled part shifts.
 */
import type { RandomStream } from "@mnemo/core/rng";
import type { ImageSet } from "@mnemo/core";
import type { LabelsConfig } from "./schema.js";

/** Labelled count for a class of `n` images: at least 1, at most n. */
export function labelledCount(n: number, spec: Pick<LabelsConfig, "fraction" | "per_class">): number {
  if (n === 0) return 0;
  if (spec.per_class !== undefined) return Math.min(n, spec.per_class);
  return Math.min(n, Math.max(1, Math.round((spec.fraction as number) * n)));
}

/** P(x) ∝ exp(r·|p|), normalised (F12). Computed with the max subtracted, so large |p| cannot overflow. */
export function ssbWeights(projections: ArrayLike<number>, ratio: number): Float64Array {
  const n = projections.length;
  const out = new Float64Array(n);
  let max = -Infinity;
  for (let i = 0; i < n; i++) max = Math.max(max, ratio * Math.abs(projections[i] as number));
  let sum = 0;
  for (let i = 0; i < n; i++) sum += out[i] = Math.exp(ratio * Math.abs(projections[i] as number) - max);
  for (let i = 0; i < n; i++) out[i] = (out[i] as number) / sum;
  return out;
}

/**
 * k distinct positions drawn successively with probability ∝ weights (numpy's
 * `choice(replace=False, p=w)` distribution), via Efraimidis-Spirakis keys log(u)/w.
 */
export function weightedSampleWithoutReplacement(weights: ArrayLike<number>, k: number, rng: RandomStream): number[] {
  const n = weights.length;
  const keys = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const w = weights[i] as number;
    const u = 1 - rng.next(); // (0, 1]
    keys[i] = w > 0 ? Math.log(u) / w : -Infinity;
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => (keys[b] as number) - (keys[a] as number) || a - b);
  return order.slice(0, Math.min(k, n));
}

/** Per-pixel mean and std (std 1 where a pixel is constant, as StandardScaler does) over images `indices`. */
export function pixelScaler(set: ImageSet, indices: Int32Array): { mean: Float64Array; std: Float64Array } {
  const [h, w, c] = set.shape;
  const d = h * w * c;
  const mean = new Float64Array(d);
  const sq = new Float64Array(d);
  for (const i of indices) {
    const off = i * d;
    for (let p = 0; p < d; p++) {
      const v = set.images[off + p] as number;
      mean[p] = (mean[p] as number) + v;
      sq[p] = (sq[p] as number) + v * v;
    }
  }
  const n = Math.max(1, indices.length);
  const std = new Float64Array(d);
  for (let p = 0; p < d; p++) {
    const m = (mean[p] as number) / n;
    mean[p] = m;
    const v = (sq[p] as number) / n - m * m;
    std[p] = v > 1e-12 ? Math.sqrt(v) : 1;
  }
  return { mean, std };
}

/**
 * Projections of the (standardised) images on their first principal component, by power
 * iteration on the centred data (deterministic start; the sign does not matter, only |PC1|).
 */
export function firstComponentProjections(
  set: ImageSet,
  indices: Int32Array,
  scaler: { mean: Float64Array; std: Float64Array },
  iterations = 60,
): Float64Array {
  const d = scaler.mean.length;
  const n = indices.length;
  const x = new Float32Array(n * d);
  const centre = new Float64Array(d);
  for (let r = 0; r < n; r++) {
    const off = (indices[r] as number) * d;
    for (let p = 0; p < d; p++) {
      const v = ((set.images[off + p] as number) - (scaler.mean[p] as number)) / (scaler.std[p] as number);
      x[r * d + p] = v;
      centre[p] = (centre[p] as number) + v / n;
    }
  }
  for (let r = 0; r < n; r++) for (let p = 0; p < d; p++) x[r * d + p] = (x[r * d + p] as number) - (centre[p] as number);
  let v = new Float64Array(d);
  for (let p = 0; p < d; p++) v[p] = 1 + ((p * 7919) % 13) / 13; // fixed, not orthogonal to PC1 in practice
  const proj = new Float64Array(n);
  for (let it = 0; it < iterations; it++) {
    for (let r = 0; r < n; r++) {
      let s = 0;
      for (let p = 0; p < d; p++) s += (x[r * d + p] as number) * (v[p] as number);
      proj[r] = s;
    }
    const next = new Float64Array(d);
    for (let r = 0; r < n; r++) {
      const s = proj[r] as number;
      for (let p = 0; p < d; p++) next[p] = (next[p] as number) + s * (x[r * d + p] as number);
    }
    let norm = 0;
    for (let p = 0; p < d; p++) norm += (next[p] as number) ** 2;
    norm = Math.sqrt(norm);
    if (norm === 0) break;
    let change = 0;
    for (let p = 0; p < d; p++) {
      next[p] = (next[p] as number) / norm;
      change = Math.max(change, Math.abs((next[p] as number) - (v[p] as number)));
    }
    v = next;
    if (change < 1e-7) break;
  }
  for (let r = 0; r < n; r++) {
    let s = 0;
    for (let p = 0; p < d; p++) s += (x[r * d + p] as number) * (v[p] as number);
    proj[r] = s;
  }
  return proj;
}

export interface LabelSplit {
  labelled: Int32Array;
  unlabelled: Int32Array;
}

/**
 * Split one task's per-class training pools into labelled and unlabelled dataset indices
 * (both ascending). `classPools[k]` are the dataset indices of one class of the task.
 */
export function splitLabels(
  set: ImageSet,
  classPools: Int32Array[],
  spec: LabelsConfig,
  rngFor: (classPosition: number) => RandomStream,
): LabelSplit {
  const labelled: number[] = [];
  const unlabelled: number[] = [];
  const scaler = spec.selection === "ssb" ? pixelScaler(set, Int32Array.from(classPools.flatMap((p) => Array.from(p)))) : undefined;
  classPools.forEach((pool, k) => {
    const n = labelledCount(pool.length, spec);
    const rng = rngFor(k);
    let picked: number[];
    if (scaler) {
      const w = ssbWeights(firstComponentProjections(set, pool, scaler), spec.ssb_ratio);
      picked = weightedSampleWithoutReplacement(w, n, rng);
    } else picked = rng.sampleIndices(pool.length, n);
    const chosen = new Set(picked);
    pool.forEach((idx, pos) => (chosen.has(pos) ? labelled : unlabelled).push(idx));
  });
  return { labelled: Int32Array.from(labelled).sort(), unlabelled: Int32Array.from(unlabelled).sort() };
}
