import { Matrix } from "ml-matrix";
import { ShapeError } from "@mnemo/core";
import { normalizeRowsInPlace, type DenseMatrix } from "./dense.js";
import { argmaxScores, linearScores, rowSquaredNorms, type LinearScorer } from "./linear-scores.js";

export type Metric = "euclidean" | "sqeuclidean" | "cosine";

/** Build the linear scorer for prototypes P (C×d, row-major) under `metric` (see linear-scores.ts). */
export function scorerFor(prototypes: Float64Array, classes: number, dim: number, metric: Metric): LinearScorer {
  if (metric === "cosine") {
    const w = prototypes.slice();
    normalizeRowsInPlace(w, classes, dim);
    return { weights: w, bias: null, classes, dim };
  }
  const w = new Float64Array(classes * dim);
  const bias = new Float64Array(classes);
  for (let c = 0; c < classes; c++) {
    let s = 0;
    for (let j = 0; j < dim; j++) {
      const v = prototypes[c * dim + j];
      w[c * dim + j] = 2 * v;
      s += v * v;
    }
    bias[c] = -s;
  }
  return { weights: w, bias, classes, dim };
}

/** Predicted class labels; throws on rows whose features are NaN (they match no class). */
export function predictLabels(x: DenseMatrix, scorer: LinearScorer, labels: Int32Array, rowScale: Float64Array | null = null): Int32Array {
  const idx = argmaxScores(x, scorer, rowScale);
  for (let i = 0; i < idx.length; i++) {
    const k = idx[i];
    if (k < 0) throw new ShapeError(`query row ${i} has non-finite features (NaN/Infinity); check the backbone output`);
    idx[i] = labels[k];
  }
  return idx;
}

/**
 * Scores with "higher is better" for every metric: −‖x−μ‖² (sqeuclidean), −‖x−μ‖ (euclidean) or cos(x, μ).
 * Columns follow the classifier's ascending class order.
 */
export function scoreMatrix(x: DenseMatrix, scorer: LinearScorer, metric: Metric): Matrix {
  const s = linearScores(x, scorer);
  const C = scorer.classes;
  const out = new Matrix(x.rows, C);
  const sq = rowSquaredNorms(x);
  for (let i = 0; i < x.rows; i++) {
    for (let c = 0; c < C; c++) {
      const v = s[i * C + c];
      let score: number;
      if (metric === "cosine") score = v / Math.max(Math.sqrt(sq[i]), 1e-12);
      else {
        // Clamp: the expanded form can go slightly negative through cancellation when x ≈ μ.
        const d2 = Math.max(0, sq[i] - v);
        score = metric === "sqeuclidean" ? -d2 : -Math.sqrt(d2);
      }
      out.set(i, c, score);
    }
  }
  return out;
}
