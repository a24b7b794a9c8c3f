import { Matrix } from "ml-matrix";
import { ShapeError } from "@mnemo/core";
import { normalizeRowsInPlace, toDense, toMatrix, type DenseMatrix, type FeatureInput } from "./dense.js";

/**
 * How novel prototypes borrow from base prototypes.
 * - "soft_proto" (TEEN default, the only mode the official code runs): calibrate each novel class mean
 *   with a softmax-weighted mix of normalised base prototypes (§6.1).
 * - "hard_proto": Δ_c = the single most cosine-similar base prototype (the τ → ∞ limit of soft_proto).
 * - "soft_embed": calibrate every support embedding separately, then average the calibrated shots.
 * The official repo lists the last two as `soft_mode` choices but raises NotImplementedError for them;
 * these definitions are ours (see README).
 */
export type TeenMode = "soft_proto" | "soft_embed" | "hard_proto";

export interface TeenCalibrationOptions {
  /** Weight on the base-derived term Δ (code `shift_weight`): p' = (1−α)·n(p) + α·Δ. Default 0.5; CIFAR-100 script uses 0.1. */
  alpha?: number;
  /** Softmax temperature τ on cosine similarities (code `softmax_t`). Default 16. 0 = uniform weights, Infinity = hard. */
  tau?: number;
}

export interface ResolvedTeenCalibration {
  alpha: number;
  tau: number;
}

export function resolveCalibration(options: TeenCalibrationOptions): ResolvedTeenCalibration {
  const alpha = options.alpha ?? 0.5;
  const tau = options.tau ?? 16;
  if (!(alpha >= 0 && alpha <= 1)) throw new ShapeError(`alpha must be in [0, 1] (weight on the base-derived term), got ${alpha}`);
  if (!(tau >= 0)) throw new ShapeError(`tau must be ≥ 0 (0 = uniform weights, Infinity = nearest base prototype), got ${tau}`);
  return { alpha, tau };
}

/** Row-normalised copy of the base prototypes: b̂_b = n(p_b). */
export function normalizedBase(base: DenseMatrix): Float64Array {
  if (base.rows === 0) throw new ShapeError("TEEN calibration needs at least one base prototype; fit the base session first");
  const b = Float64Array.from(base.data);
  normalizeRowsInPlace(b, base.rows, base.cols);
  return b;
}

/**
 * p'_r = (1−α)·n(x_r) + α·Δ_r for every row r of `rows` (not re-normalised, as in the code, ‖p'‖ ≤ 1), with
 * Δ_r = n(Σ_b w_{r,b} b̂_b), w_r = softmax_b(τ·n(x_r)·b̂_b); `hard` replaces the softmax by a one-hot argmax.
 */
export function calibrateRows(rows: DenseMatrix, baseHat: Float64Array, baseCount: number, cal: ResolvedTeenCalibration, hard: boolean): Float64Array {
  const d = rows.cols;
  if (baseHat.length !== baseCount * d) {
    throw new ShapeError(`novel prototypes are ${d}-d but base prototypes have ${baseHat.length / Math.max(1, baseCount)} columns; both must come from the same backbone`);
  }
  const { alpha, tau } = cal;
  const useHard = hard || tau === Infinity;
  const out = Float64Array.from(rows.data);
  normalizeRowsInPlace(out, rows.rows, d);
  const sims = new Float64Array(baseCount);
  const delta = new Float64Array(d);
  for (let r = 0; r < rows.rows; r++) {
    const o = r * d;
    let maxSim = -Infinity;
    let argmax = 0;
    for (let b = 0; b < baseCount; b++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += out[o + j] * baseHat[b * d + j];
      sims[b] = s;
      if (s > maxSim) {
        maxSim = s;
        argmax = b;
      }
    }
    delta.fill(0);
    if (useHard) {
      for (let j = 0; j < d; j++) delta[j] = baseHat[argmax * d + j];
    } else {
      // softmax(τ·s) with the max subtracted, so large τ cannot overflow exp.
      let z = 0;
      for (let b = 0; b < baseCount; b++) {
        const w = Math.exp(tau * (sims[b] - maxSim));
        sims[b] = w;
        z += w;
      }
      for (let b = 0; b < baseCount; b++) {
        const w = sims[b] / z;
        for (let j = 0; j < d; j++) delta[j] += w * baseHat[b * d + j];
      }
    }
    normalizeRowsInPlace(delta, 1, d);
    for (let j = 0; j < d; j++) out[o + j] = (1 - alpha) * out[o + j] + alpha * delta[j];
  }
  return out;
}

/**
 * TEEN calibration (algorithms.md §6.1) of novel prototypes (raw class means, one row each) against base
 * prototypes (raw base class means). Returns the calibrated prototypes p' as a Matrix, one row per novel row.
 */
export function teenCalibrate(
  novelPrototypes: FeatureInput,
  basePrototypes: FeatureInput,
  options: TeenCalibrationOptions & { mode?: "soft_proto" | "hard_proto" } = {},
): Matrix {
  const novel = toDense(novelPrototypes, "novel prototypes");
  const base = toDense(basePrototypes, "base prototypes");
  const cal = resolveCalibration(options);
  const out = calibrateRows(novel, normalizedBase(base), base.rows, cal, options.mode === "hard_proto");
  return toMatrix({ data: out, rows: novel.rows, cols: novel.cols });
}
