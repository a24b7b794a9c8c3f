import { beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import {
  classwiseTSimilarity,
  diversityLoss,
  ensembleLoss,
  entropyConfidence,
  expectedCalibrationError,
  headsCrossEntropy,
  quantileType7,
  selectByCurriculum,
  selectByThreshold,
  selectPseudoLabels,
  softmaxEntropy,
  softmaxMargin,
  softmaxMax,
  tSimilarity,
  tSimilarityTensor,
} from "../src/index.js";
import { entropyRegulariser, mixInputs, mixupCrossEntropy, priorRegulariser } from "../src/arazo.js";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

const close = (got: ArrayLike<number>, want: number[], digits = 6) => {
  expect(got.length).toBe(want.length);
  want.forEach((w, i) => expect(got[i]).toBeCloseTo(w, digits));
};
const ln = (rows: number[][]) => rows.flat().map(Math.log);

// F1: M = 3 heads, B = 2 samples, K = 3; logits = ln p.
const F1 = [
  ln([[0.7, 0.2, 0.1], [0.5, 0.4, 0.1]]),
  ln([[0.6, 0.3, 0.1], [0.1, 0.8, 0.1]]),
  ln([[0.8, 0.1, 0.1], [0.3, 0.3, 0.4]]),
];

describe("T-similarity (reference §5 F1-F3)", () => {
  it("F1: s_T = 8/15 and 1/3, classwise rows sum to s_T", () => {
    close(tSimilarity(F1, 3), [8 / 15, 0.333333]);
    close(classwiseTSimilarity(F1, 3), [0.486667, 0.036667, 0.01, 0.076667, 0.226667, 0.03]);
    // Uniform heads give 1/K, identical one-hots give 1.
    close(tSimilarity([[0, 0, 0], [0, 0, 0], [0, 0, 0]], 3), [1 / 3]);
    close(tSimilarity([[60, 0, 0], [60, 0, 0]], 3), [1]);
    // Heads on different one-hots disagree completely.
    close(tSimilarity([[60, 0, 0], [0, 60, 0]], 3), [0]);
  });

  it("F1: the softmax max of the mean of the heads is 0.7 and 0.5", () => {
    const meanProbs = [0, 1].flatMap((b) => [0, 1, 2].map((k) => F1.reduce((a, h) => a + Math.exp(h[b * 3 + k] as number), 0) / 3));
    close(softmaxMax(meanProbs.map(Math.log), 3), [0.7, 0.5]);
  });

  it("F1: tensor version equals the array version", () => {
    const s = tf.tidy(() => tSimilarityTensor(F1.map((h) => tf.tensor2d(h, [2, 3]))).arraySync());
    close(s, [8 / 15, 1 / 3]);
  });

  it("F2: diversity loss and the total ensemble objective for γ = 1, 0.5, 2", () => {
    tf.tidy(() => {
      const d = diversityLoss(F1.map((h) => tf.tensor2d(h, [2, 3]))).dataSync()[0] as number;
      expect(d).toBeCloseTo(-0.433333, 6);
      const y = tf.tensor1d([0], "int32");
      const ceG = headsCrossEntropy([tf.tensor2d(ln([[0.7, 0.2, 0.1]]), [1, 3])], y).dataSync()[0] as number;
      expect(ceG).toBeCloseTo(0.356675, 6);
      const heads = [[0.6, 0.3, 0.1], [0.5, 0.25, 0.25], [0.8, 0.1, 0.1]].map((p) => tf.tensor2d(ln([p]), [1, 3]));
      const ceH = headsCrossEntropy(heads, y).dataSync()[0] as number;
      expect(ceH).toBeCloseTo(0.475705, 6);
      for (const [gamma, want] of [[1, 1.265714], [0.5, 1.049047], [2, 1.699047]] as const) expect(ceG + ceH - gamma * d).toBeCloseTo(want, 5);
    });
  });

  it("F2 through ensembleLoss: heads' CE − γ·D on features that select each head's logits, + CE_g = L", () => {
    tf.tidy(() => {
      // Features e0 (the labelled sample), e1, e2 (the two unlabelled samples of F1); head m's weight
      // rows are the logits it must give, bias 0, so h_m(e_i) = row i of W_m.
      const labelledHeads = [[0.6, 0.3, 0.1], [0.5, 0.25, 0.25], [0.8, 0.1, 0.1]];
      const params: Record<string, tf.Tensor> = {};
      for (let m = 0; m < 3; m++) {
        params[`tsim.h${m}.weight`] = tf.tensor2d([ln([labelledHeads[m] as number[]]), (F1[m] as number[]).slice(0, 3), (F1[m] as number[]).slice(3, 6)]);
        params[`tsim.h${m}.bias`] = tf.zeros([3]);
      }
      const fl = tf.tensor2d([[1, 0, 0]]);
      const fu = tf.tensor2d([[0, 1, 0], [0, 0, 1]]);
      const y = tf.tensor1d([0], "int32");
      const ceG = -Math.log(0.7);
      for (const [gamma, want] of [[1, 1.265714], [0.5, 1.049047], [2, 1.699047]] as const) {
        expect(ceG + (ensembleLoss(params, fl, y, fu, 3, gamma).dataSync()[0] as number)).toBeCloseTo(want, 5);
      }
      // γ = 0 or no unlabelled batch: the heads' CE alone.
      expect(ensembleLoss(params, fl, y, undefined, 3, 1).dataSync()[0]).toBeCloseTo(0.475705, 5);
    });
  });

  it("F3: ∂s_T/∂logits of sample 0 through tf gradients", () => {
    const grads = tf.tidy(() => {
      const zs = F1.map((h) => tf.tensor2d(h.slice(0, 3), [1, 3]));
      const g = tf.grads((...z: tf.Tensor[]) => tf.sum(tSimilarityTensor(z as tf.Tensor2D[])))(zs);
      return g.map((t) => Array.from(t.dataSync()));
    });
    close(grads[0] as number[], [0.074667, -0.045333, -0.029333], 5);
    close(grads[1] as number[], [0.098, -0.071, -0.027], 5);
    close(grads[2] as number[], [0.050667, -0.020333, -0.030333], 5);
  });
});

describe("softmax-based confidences", () => {
  it("softmax max, margin, entropy on known rows", () => {
    const z = ln([[0.7, 0.2, 0.1], [1 / 3, 1 / 3, 1 / 3]]);
    close(softmaxMax(z, 3), [0.7, 1 / 3]);
    close(softmaxMargin(z, 3), [0.5, 0]);
    close(softmaxEntropy([2, 1, 0, 0.5, 0.5, 0.5], 3), [0.832396, 1.098612]); // F8
    close(entropyConfidence(z, 3), [1 - softmaxEntropy(z, 3)[0]! / Math.log(3), 0]);
    expect(() => softmaxMax([1, 2, 3], 2)).toThrow(/not a whole number of rows/);
  });

  it("ECE: perfectly calibrated bins give 0, over-confidence gives the gap", () => {
    // 10 samples at confidence 0.8 of which 8 correct: calibrated.
    expect(expectedCalibrationError(new Array(10).fill(0.8), [1, 1, 1, 1, 1, 1, 1, 1, 0, 0]).ece).toBeCloseTo(0, 12);
    // Confidence 0.9 but half correct: ECE 0.4.
    expect(expectedCalibrationError(new Array(4).fill(0.9), [1, 0, 1, 0]).ece).toBeCloseTo(0.4, 12);
    // Two bins weighted by their size.
    const r = expectedCalibrationError([0.95, 0.95, 0.3, 0.3], [1, 1, 1, 0], 10);
    expect(r.ece).toBeCloseTo(0.5 * 0.05 + 0.5 * 0.2, 12);
    expect(r.bins.filter((b) => b.count > 0).map((b) => b.count)).toEqual([2, 2]);
  });
});

// F10/F11 fixtures.
const conf = [0.95, 0.42, 0.81, 0.8, 0.67, 0.99, 0.55, 0.73, 0.88, 0.3];
const yhat = [3, 1, 3, 0, 2, 7, 1, 5, 3, 9];

describe("pseudo-label policies (F10, F11)", () => {
  it("F10 fixed threshold is inclusive", () => {
    const s = selectByThreshold(conf, 0.8);
    expect(s).toEqual([0, 2, 3, 5, 8]);
    expect(s.map((i) => yhat[i])).toEqual([3, 3, 0, 7, 3]);
    expect(selectByThreshold(conf, 0.7)).toEqual([0, 2, 3, 5, 7, 8]);
  });

  it("F11 curriculum: type-7 quantile thresholds and selections per round", () => {
    const rounds = [1, 2, 3, 4, 5].map((t) => selectByCurriculum(conf, t, 0.2));
    [0.894, 0.804, 0.706, 0.524, 0.3].forEach((thr, i) => expect(rounds[i]?.threshold).toBeCloseTo(thr, 9));
    expect(rounds[0]?.selected).toEqual([0, 5]);
    expect(rounds[1]?.selected).toEqual([0, 2, 5, 8]);
    expect(rounds[2]?.selected).toEqual([0, 2, 3, 5, 7, 8]);
    expect(rounds[3]?.selected).toEqual([0, 2, 3, 4, 5, 6, 7, 8]);
    expect(rounds[4]?.selected.length).toBe(10);
    // Ties are included: with conf[3] = 0.81, round 2's threshold is 0.81 and selects 5.
    const tied = [...conf];
    tied[3] = 0.81;
    const t2 = selectByCurriculum(tied, 2, 0.2);
    expect(t2.threshold).toBeCloseTo(0.81, 12);
    expect(t2.selected).toEqual([0, 2, 3, 5, 8]);
    expect(quantileType7([1, 2, 3, 4], 0.5)).toBe(2.5);
  });

  it("top-k keeps the most confident fraction", () => {
    expect(selectPseudoLabels(conf, { kind: "top-k", fraction: 0.2 }, 1)).toEqual([0, 5]);
    expect(selectPseudoLabels(conf, { kind: "curriculum", step: 0.2 }, 1)).toEqual([0, 5]);
    expect(selectPseudoLabels(conf, { kind: "curriculum", step: 0.2 }, 3)).toEqual([0, 2, 3, 5, 7, 8]);
    expect(selectPseudoLabels(conf, { kind: "threshold", theta: 0.8 }, 7)).toEqual([0, 2, 3, 5, 8]);
  });
});

describe("Arazo et al. losses (F13)", () => {
  it("mixup CE, R_A, R_H and the total", () => {
    tf.tidy(() => {
      const z = tf.tensor2d([[2, 0.5, -1], [0, 1, 0.5]]);
      const t = tf.tensor2d([[1, 0, 0], [0.2, 0.7, 0.1]]);
      const ce = mixupCrossEntropy(z, t, Int32Array.from([1, 0]), 0.3).dataSync()[0] as number;
      const ra = priorRegulariser(z).dataSync()[0] as number;
      const rh = entropyRegulariser(z).dataSync()[0] as number;
      expect(ce).toBeCloseTo(1.32079, 5);
      expect(ra).toBeCloseTo(1.183803, 5);
      // The KL form Σ p_c log(p_c / h̄_c) differs by the constant ln C.
      expect(ra - Math.log(3)).toBeCloseTo(0.085191, 5);
      expect(rh).toBeCloseTo(0.820888, 5);
      expect(ce + 0.8 * ra + 0.4 * rh).toBeCloseTo(2.596188, 5);
      close(mixInputs(tf.tensor2d([[1, 0], [0, 2]]), Int32Array.from([1, 0]), 0.3).dataSync(), [0.3, 1.4, 0.7, 0.6]);
    });
  });
});
