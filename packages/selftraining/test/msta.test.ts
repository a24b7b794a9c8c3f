/**
 * MSTA (self-training-tta.md §1.4): per-class thresholds from the transductive bound. The reference
 * has no hand fixture; the expected values below come from a plain-Python transliteration of the
 * reference's `c_optimal_threshold_vector` / `c_joint_bayes_risk` run on these inputs (numpy 2.4.6).
 */
import { describe, expect, it } from "vitest";
import { argmaxRows, jointBayesRisk, mstaThresholds, selectByMsta, selectPseudoLabels, softmax } from "../src/index.js";

// 24 rows × 3 classes: vote = softmax(zv) (the votes m(x, k)), prob = softmax(zp) (P(x, i)), pred = argmax prob.
const zv = [
  0.0, 1.86, -2.48, 2.48, -2.38, 1.82, -0.64, 0.54, -0.44, -2.31, 1.84, -1.12, 1.24, -2.39, 2.24, 2.0, 0.58, -2.46, -1.75, 1.81, 1.7, -1.55, -2.4, -0.27, 2.15, 0.62, -1.27, 0.99,
  1.78, 2.31, -2.4, -2.41, -2.43, -0.37, 0.66, 1.58, 2.5, 1.75, -0.11, -0.27, -2.43, -1.41, -2.43, 0.7, 2.37, 0.9, 1.72, -2.38, 2.2, -2.44, 1.45, -1.46, 0.74, 0.06, -1.82, 1.69, -1.54,
  1.93, -2.44, 2.41, 1.32, 0.78, -2.32, -2.27, 1.66, 1.31, -0.74, -2.45, 0.23, 2.46, 0.82, -1.67,
];
const zp = [
  1.5, 2.3, -2.61, 0.53, -2.99, 1.74, 0.82, 1.73, -0.27, -2.97, 0.03, -1.34, 1.84, -0.41, 2.56, 1.06, -1.0, -3.02, -1.22, 2.8, 2.64, -1.06, -3.08, -1.65, 1.19, 1.39, 0.48, 1.64, 0.84,
  0.37, -3.04, -1.7, -0.57, 1.03, 0.66, 0.08, 0.54, 0.91, 0.85, 1.28, -1.13, -1.75, -3.4, -0.53, 2.17, 2.05, 2.68, -1.82, 0.63, -3.39, 0.72, -0.32, 2.09, 0.81, -1.99, -0.12, -2.29, 1.73,
  -0.6, 3.21, 1.24, -0.53, -3.29, -2.35, 2.22, 2.54, 0.26, -2.54, -1.3, 0.85, 0.89, 0.04,
];
const K = 3;
const vote = softmax(zv, K);
const prob = softmax(zp, K);
const pred = argmaxRows(prob, K);

describe("MSTA thresholds (transductive bound, reference port)", () => {
  it("predictions of the fixture", () => {
    expect(Array.from(pred)).toEqual([1, 2, 1, 1, 2, 0, 1, 0, 1, 0, 2, 0, 1, 0, 2, 1, 2, 1, 1, 2, 0, 2, 0, 1]);
  });

  it("joint Bayes risk JBR(i, j) at a given θ matches the reference", () => {
    expect(jointBayesRisk(vote, prob, pred, K, 0, 1, 0.3)).toBeCloseTo(0.29069204816527705, 12);
    expect(jointBayesRisk(vote, prob, pred, K, 2, 0, 0.2)).toBeCloseTo(0.09768774227994631, 12);
  });

  it("per-class θ_k and the selection match the reference (rows 8 and 23 stay unlabelled)", () => {
    const theta = mstaThresholds(vote, prob, pred, K);
    [0.07244031641159207, 0.2657397441928976, 0.09188185774736564].forEach((w, c) => expect(theta[c]).toBeCloseTo(w, 12));
    const { selected } = selectByMsta(vote, prob, pred, K);
    expect(selected).toEqual(Array.from({ length: 24 }, (_, i) => i).filter((i) => i !== 8 && i !== 23));
  });

  it("a class no row can belong to (Σ P(x, k) = 0) gets θ_k = 1", () => {
    const p = Float64Array.from(prob, (v, e) => (e % K === 2 ? 0 : v));
    expect(mstaThresholds(vote, p, pred, K)[2]).toBe(1);
  });

  it("selectPseudoLabels refuses msta (it needs votes, not one confidence per row)", () => {
    expect(() => selectPseudoLabels([0.5], { kind: "msta" }, 1)).toThrow(/selectByMsta/);
  });
});
