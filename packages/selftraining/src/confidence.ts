/**
 * Confidence measures on class scores, as plain functions on row-major arrays (no tfjs), so any
 * family can use them: replay choosing confident samples, prototypes rejecting unsure ones,
 * self-training selecting pseudo-labels. Definitions: self-training-tta.md §1.2.
 *
 * Layout: `logits` is [n, k] row-major (`logits[i * k + c]`); every function returns one value per row.
 */

function checkRows(length: number, k: number, what: string): number {
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`${what}: the number of classes must be a positive integer, got ${k}`);
  if (length % k !== 0) throw new RangeError(`${what}: ${length} scores are not a whole number of rows of ${k} classes`);
  return length / k;
}

/** Row-wise softmax (max subtracted first, so large logits do not overflow). */
export function softmax(logits: ArrayLike<number>, k: number): Float64Array {
  const n = checkRows(logits.length, k, "softmax");
  const out = new Float64Array(logits.length);
  for (let i = 0; i < n; i++) {
    let max = -Infinity;
    for (let c = 0; c < k; c++) max = Math.max(max, logits[i * k + c] as number);
    let sum = 0;
    for (let c = 0; c < k; c++) sum += out[i * k + c] = Math.exp((logits[i * k + c] as number) - max);
    for (let c = 0; c < k; c++) out[i * k + c] = (out[i * k + c] as number) / sum;
  }
  return out;
}

/** Index of the largest score of each row (first on ties). */
export function argmaxRows(scores: ArrayLike<number>, k: number): Int32Array {
  const n = checkRows(scores.length, k, "argmaxRows");
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 1; c < k; c++) if ((scores[i * k + c] as number) > (scores[i * k + best] as number)) best = c;
    out[i] = best;
  }
  return out;
}

/** max_c softmax(z)_c: the baseline confidence of self-training (Lee 2013). In [1/k, 1]. */
export function softmaxMax(logits: ArrayLike<number>, k: number): Float64Array {
  const p = softmax(logits, k);
  const n = p.length / k;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let m = 0;
    for (let c = 0; c < k; c++) m = Math.max(m, p[i * k + c] as number);
    out[i] = m;
  }
  return out;
}

/** Top-1 minus top-2 softmax probability. In [0, 1]; 0 when the two best classes tie. */
export function softmaxMargin(logits: ArrayLike<number>, k: number): Float64Array {
  const p = softmax(logits, k);
  const n = p.length / k;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let a = -Infinity;
    let b = -Infinity;
    for (let c = 0; c < k; c++) {
      const v = p[i * k + c] as number;
      if (v > a) {
        b = a;
        a = v;
      } else if (v > b) b = v;
    }
    out[i] = k === 1 ? 1 : a - b;
  }
  return out;
}

/** Shannon entropy H(softmax(z)) = −Σ p log p in nats. HIGHER means LESS confident. */
export function softmaxEntropy(logits: ArrayLike<number>, k: number): Float64Array {
  const p = softmax(logits, k);
  const n = p.length / k;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let h = 0;
    for (let c = 0; c < k; c++) {
      const v = p[i * k + c] as number;
      if (v > 0) h -= v * Math.log(v);
    }
    out[i] = h;
  }
  return out;
}

/** 1 − H/log k: entropy turned into a confidence in [0, 1] (1 = one-hot, 0 = uniform). */
export function entropyConfidence(logits: ArrayLike<number>, k: number): Float64Array {
  const h = softmaxEntropy(logits, k);
  return k === 1 ? h.map(() => 1) : h.map((v) => 1 - v / Math.log(k));
}

function headProbs(heads: readonly ArrayLike<number>[], k: number, what: string): { probs: Float64Array[]; n: number } {
  if (heads.length < 2) throw new RangeError(`${what}: needs at least 2 heads, got ${heads.length}`);
  const n = checkRows((heads[0] as ArrayLike<number>).length, k, what);
  const probs = heads.map((h, m) => {
    if (h.length !== n * k) throw new RangeError(`${what}: head ${m} has ${h.length} scores, head 0 has ${n * k}`);
    return softmax(h, k);
  });
  return { probs, n };
}

/**
 * Classwise T-similarity c_k(x) = 1/(M(M−1)) Σ_{i≠j} p_{i,k}(x) p_{j,k}(x) over the M heads'
 * LOGITS (softmax inside), [n, k] row-major; Σ_k c_k(x) = s_T(x). Uses Σ_{i≠j} a_i a_j = (Σa)² − Σa².
 */
export function classwiseTSimilarity(heads: readonly ArrayLike<number>[], k: number): Float64Array {
  const { probs, n } = headProbs(heads, k, "classwiseTSimilarity");
  const m = probs.length;
  const out = new Float64Array(n * k);
  for (let e = 0; e < n * k; e++) {
    let s = 0;
    let sq = 0;
    for (const p of probs) {
      const v = p[e] as number;
      s += v;
      sq += v * v;
    }
    out[e] = (s * s - sq) / (m * (m - 1));
  }
  return out;
}

/**
 * T-similarity s_T(x) = 1/(M(M−1)) Σ_{i≠j} ⟨p_i(x), p_j(x)⟩ (Odonnat et al. 2024, Def. 3.1), from
 * the M heads' logits. In [0, 1]: 1 iff all heads give the same one-hot, 1/k for uniform heads,
 * 0 for heads that put all mass on different classes.
 */
export function tSimilarity(heads: readonly ArrayLike<number>[], k: number): Float64Array {
  const c = classwiseTSimilarity(heads, k);
  const n = c.length / k;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < k; j++) s += c[i * k + j] as number;
    out[i] = s;
  }
  return out;
}

/** Names of the confidence measures a config can choose. */
export type ConfidenceName = "softmax" | "margin" | "entropy" | "tsim";

export interface CalibrationBin {
  lo: number;
  hi: number;
  count: number;
  meanConfidence: number;
  accuracy: number;
}

/**
 * Expected calibration error with `bins` equal-width bins on [0, 1] (Guo et al. 2017):
 * Σ_b (|B_b|/n)·|acc(B_b) − conf(B_b)|. Bins are (lo, hi], the first one [0, hi]. Returns the ECE
 * (a fraction, not percent) and the bins (for reliability diagrams).
 */
export function expectedCalibrationError(
  confidence: ArrayLike<number>,
  correct: ArrayLike<boolean | number>,
  bins = 15,
): { ece: number; bins: CalibrationBin[] } {
  if (confidence.length !== correct.length) throw new RangeError(`ECE: ${confidence.length} confidences but ${correct.length} correctness flags`);
  const n = confidence.length;
  const sums = Array.from({ length: bins }, () => ({ count: 0, conf: 0, hits: 0 }));
  for (let i = 0; i < n; i++) {
    const c = Math.min(1, Math.max(0, confidence[i] as number));
    const b = Math.min(bins - 1, Math.max(0, Math.ceil(c * bins) - 1));
    const s = sums[b] as { count: number; conf: number; hits: number };
    s.count++;
    s.conf += c;
    s.hits += correct[i] ? 1 : 0;
  }
  let ece = 0;
  const out = sums.map((s, b) => {
    const meanConfidence = s.count ? s.conf / s.count : 0;
    const accuracy = s.count ? s.hits / s.count : 0;
    if (n) ece += (s.count / n) * Math.abs(accuracy - meanConfidence);
    return { lo: b / bins, hi: (b + 1) / bins, count: s.count, meanConfidence, accuracy };
  });
  return { ece: n ? ece : Number.NaN, bins: out };
}
