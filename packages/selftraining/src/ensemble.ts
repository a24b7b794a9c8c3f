/**
 * The T-similarity ensemble (self-training-tta.md §1.1, §1.3): M linear heads on the backbone's
 * DETACHED features, trained by their own cross-entropy on labelled data and by the diversity term
 * on unlabelled data; the backbone is trained only by the prediction head's cross-entropy.
 *
 * The heads live in the model's ParamTree under `tsim.h<m>.weight/bias`, so the learner's optimizer,
 * checkpoints and EMA copies treat them like any other parameter; backbones ignore the keys.
 */
import * as tf from "@tensorflow/tfjs";
import type { ParamTree, RandomStream } from "@mnemo/core";
import { growLinearHead, linearWeight } from "@mnemo/models";

export const ENSEMBLE_PREFIX = "tsim.h";

export function headPrefix(m: number): string {
  return `${ENSEMBLE_PREFIX}${m}.`;
}

/** True if `key` belongs to an ensemble head. */
export function isEnsembleKey(key: string): boolean {
  return key.startsWith(ENSEMBLE_PREFIX);
}

/**
 * Adds M heads [featureDim, numClasses] to `params` (new tree; other tensors shared), or grows
 * existing ones to `numClasses` (old columns kept). Tensors replaced are NOT disposed: the caller
 * owns the old tree.
 */
export function ensureEnsembleHeads(params: ParamTree, m: number, featureDim: number, numClasses: number, rng: RandomStream): ParamTree {
  let out: ParamTree = { ...params };
  for (let h = 0; h < m; h++) {
    const p = headPrefix(h);
    if (!out[`${p}weight`]) {
      out[`${p}weight`] = linearWeight(rng, featureDim, numClasses);
      out[`${p}bias`] = tf.zeros([numClasses]);
    } else out = growLinearHead(out, p, numClasses, rng);
  }
  return out;
}

/** Logits of every head on `features` (already detached by the caller when training). */
export function ensembleLogits(params: ParamTree, features: tf.Tensor2D, m: number): tf.Tensor2D[] {
  return Array.from({ length: m }, (_, h) => {
    const p = headPrefix(h);
    return tf.add(tf.matMul(features, params[`${p}weight`] as tf.Tensor2D), params[`${p}bias`] as tf.Tensor) as tf.Tensor2D;
  });
}

/** Identity forward, zero gradient (tfjs has no stopGradient op). */
export const stopGradient: (x: tf.Tensor2D) => tf.Tensor2D = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const x = args[0] as tf.Tensor;
  return { value: x.clone(), gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy) };
}) as unknown as (x: tf.Tensor2D) => tf.Tensor2D;

/** s_T per row from head logits, differentiable: (‖Σ_m p_m‖² − Σ_m ‖p_m‖²) / (M(M−1)). */
export function tSimilarityTensor(headLogits: tf.Tensor2D[]): tf.Tensor1D {
  const m = headLogits.length;
  if (m < 2) throw new RangeError(`T-similarity needs at least 2 heads, got ${m}`);
  return tf.tidy(() => {
    const probs = headLogits.map((z) => tf.softmax(z));
    const sum = probs.reduce((a, b) => tf.add(a, b));
    const sq = probs.map((p) => tf.sum(tf.square(p), 1)).reduce((a, b) => tf.add(a, b));
    return tf.div(tf.sub(tf.sum(tf.square(sum), 1), sq), m * (m - 1)) as tf.Tensor1D;
  });
}

/** DiversityLoss D = −mean_x s_T(x) on unlabelled data (the objective SUBTRACTS γ·D). */
export function diversityLoss(headLogits: tf.Tensor2D[]): tf.Scalar {
  return tf.tidy(() => tf.neg(tf.mean(tSimilarityTensor(headLogits))) as tf.Scalar);
}

/** Mean over heads of each head's softmax cross-entropy on integer labels. */
export function headsCrossEntropy(headLogits: tf.Tensor2D[], labels: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => {
    const k = (headLogits[0] as tf.Tensor2D).shape[1] as number;
    const oneHot = tf.oneHot(labels, k);
    const ces = headLogits.map((z) => tf.losses.softmaxCrossEntropy(oneHot, z) as tf.Scalar);
    return tf.div(ces.reduce((a, b) => tf.add(a, b)), headLogits.length) as tf.Scalar;
  });
}

/**
 * The ensemble's part of the objective, L_heads = (1/M) Σ_m CE(h_m(φ(x_l)), y_l) − γ·D(x_u), with
 * features detached here, so it trains the heads only (the reference's gradient isolation). The
 * prediction head's CE(g(φ(x_l)), y_l) is the learner's own loss.
 */
export function ensembleLoss(
  params: ParamTree,
  labelledFeatures: tf.Tensor2D,
  labels: tf.Tensor1D,
  unlabelledFeatures: tf.Tensor2D | undefined,
  m: number,
  gamma: number,
): tf.Scalar {
  return tf.tidy(() => {
    const ce = headsCrossEntropy(ensembleLogits(params, stopGradient(labelledFeatures), m), labels);
    if (!unlabelledFeatures || gamma === 0) return ce;
    const d = diversityLoss(ensembleLogits(params, stopGradient(unlabelledFeatures), m));
    return tf.sub(ce, tf.mul(d, gamma)) as tf.Scalar;
  });
}
