import { ShapeError } from "@mnemo/core/errors";

/**
 * - `"pycil"` (default): greedy mean matching, k-th pick = argmin over unpicked i of ‖μ − (S + f_i)/k‖₂
 *   (PyCIL `_construct_exemplar`; same rule in Avalanche, Mammoth and FACIL). Ties go to the lowest index.
 * - `"icarl-theano"`: the original iCaRL code: w ← μ; repeat { i ← argmax ⟨w, f_i⟩ over all i; rank i if new;
 *   w ← w + μ − f_i } until m distinct indices are ranked or `maxIterations` passes (it can re-pick, and
 *   may then return fewer than m).
 */
export type HerdingRule = "pycil" | "icarl-theano";

export interface HerdingOptions {
  rule?: HerdingRule;
  /** L2-normalise each feature row first, v/(‖v‖ + 1e-8) as PyCIL (default true; Avalanche uses raw features). */
  normalize?: boolean;
  /** Iteration cap of the `"icarl-theano"` rule (default 1000, as in the original code). */
  maxIterations?: number;
}

const EPSILON = 1e-8;

/** Validates herding options (also called by HerdingMemory's constructor to fail early); returns the iteration cap. */
export function checkHerdingOptions(options: HerdingOptions, owner: string): number {
  const rule = options.rule ?? "pycil";
  if (rule !== "pycil" && rule !== "icarl-theano") {
    throw new ShapeError(`${owner}: herding rule must be "pycil" or "icarl-theano", got ${JSON.stringify(rule)}`);
  }
  const maxIterations = options.maxIterations ?? 1000;
  if (!Number.isInteger(maxIterations) || maxIterations <= 0) {
    throw new ShapeError(`${owner}: herding maxIterations must be a positive integer, got ${maxIterations}`);
  }
  return maxIterations;
}

/**
 * iCaRL herding on one class: returns the indices of `m` rows of `features` in selection order.
 * Keeping the first m' of the result is exactly what re-running with m' would give for the "pycil" rule,
 * which is why exemplar sets are truncated, never re-herded. The class mean μ is not re-normalised.
 * Accumulates in float64 so the order does not depend on float32 summation order.
 */
export function herdingSelection(features: readonly Float32Array[], m: number, options: HerdingOptions = {}): number[] {
  const rule = options.rule ?? "pycil";
  const n = features.length;
  if (n === 0) throw new ShapeError("herdingSelection: features is empty; herding needs at least one sample of the class");
  const d = (features[0] as Float32Array).length;
  if (d === 0) throw new ShapeError("herdingSelection: feature rows have length 0");
  features.forEach((f, i) => {
    if (f.length !== d)
      throw new ShapeError(
        `herdingSelection: feature row ${i} has length ${f.length}, row 0 has ${d}; all rows must have the same dimension`,
      );
  });
  if (!Number.isInteger(m) || m < 0 || m > n) {
    throw new ShapeError(`herdingSelection: m must be an integer in [0, ${n}] (the class has ${n} samples), got ${m}`);
  }
  const maxIterations = checkHerdingOptions(options, "herdingSelection");

  const x = new Float64Array(n * d);
  const mu = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    const f = features[i] as Float32Array;
    let scale = 1;
    if (options.normalize ?? true) {
      let sq = 0;
      for (let j = 0; j < d; j++) sq += (f[j] as number) * (f[j] as number);
      scale = 1 / (Math.sqrt(sq) + EPSILON);
    }
    for (let j = 0; j < d; j++) {
      const v = (f[j] as number) * scale;
      x[i * d + j] = v;
      mu[j] = (mu[j] as number) + v;
    }
  }
  for (let j = 0; j < d; j++) mu[j] = (mu[j] as number) / n;
  return rule === "pycil" ? pycilRule(x, mu, n, d, m) : theanoRule(x, mu, n, d, m, maxIterations);
}

function pycilRule(x: Float64Array, mu: Float64Array, n: number, d: number, m: number): number[] {
  const picked = new Uint8Array(n);
  const sum = new Float64Array(d);
  const order: number[] = [];
  for (let k = 1; k <= m; k++) {
    let best = -1;
    let bestDist = Infinity;
    for (let i = 0; i < n; i++) {
      if (picked[i] === 1) continue;
      let dist = 0;
      for (let j = 0; j < d; j++) {
        const diff = (mu[j] as number) - ((sum[j] as number) + (x[i * d + j] as number)) / k;
        dist += diff * diff;
      }
      if (dist < bestDist) {
        bestDist = dist;
        best = i;
      }
    }
    picked[best] = 1;
    order.push(best);
    for (let j = 0; j < d; j++) sum[j] = (sum[j] as number) + (x[best * d + j] as number);
  }
  return order;
}

function theanoRule(x: Float64Array, mu: Float64Array, n: number, d: number, m: number, maxIterations: number): number[] {
  const picked = new Uint8Array(n);
  const w = Float64Array.from(mu);
  const order: number[] = [];
  for (let it = 0; order.length < m && it < maxIterations; it++) {
    let best = 0;
    let bestDot = -Infinity;
    for (let i = 0; i < n; i++) {
      let dot = 0;
      for (let j = 0; j < d; j++) dot += (w[j] as number) * (x[i * d + j] as number);
      if (dot > bestDot) {
        bestDot = dot;
        best = i;
      }
    }
    if (picked[best] === 0) {
      picked[best] = 1;
      order.push(best);
    }
    for (let j = 0; j < d; j++) w[j] = (w[j] as number) + (mu[j] as number) - (x[best * d + j] as number);
  }
  return order;
}
