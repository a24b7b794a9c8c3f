/**
 * Confirmation-bias counter-measures of Arazo et al. (IJCNN 2020; self-training-tta.md §4): mixup
 * of pseudo-labelled inputs with soft targets, and the two regularisers that keep the predictions
 * from collapsing onto a few classes (R_A) or staying flat (R_H).
 */
import * as tf from "@tensorflow/tfjs";
import type { RandomStream } from "@mnemo/core";

/** Soft-target cross-entropy −Σ_c t_c log softmax(z)_c, averaged over the batch. */
export function softCrossEntropy(logits: tf.Tensor2D, targets: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => tf.neg(tf.mean(tf.sum(tf.mul(targets, tf.logSoftmax(logits)), 1))) as tf.Scalar);
}

/** Mixup loss λ·CE(h(x̃), ỹ) + (1−λ)·CE(h(x̃), ỹ[π]) on the logits h(x̃) of the mixed inputs. */
export function mixupCrossEntropy(mixedLogits: tf.Tensor2D, targets: tf.Tensor2D, permutation: Int32Array, lambda: number): tf.Scalar {
  return tf.tidy(() => {
    const permuted = tf.gather(targets, tf.tensor1d(permutation, "int32")) as tf.Tensor2D;
    return tf.add(tf.mul(softCrossEntropy(mixedLogits, targets), lambda), tf.mul(softCrossEntropy(mixedLogits, permuted), 1 - lambda)) as tf.Scalar;
  });
}

/** x̃ = λx + (1−λ)x[π]. */
export function mixInputs(x: tf.Tensor, permutation: Int32Array, lambda: number): tf.Tensor {
  return tf.tidy(() => tf.add(tf.mul(x, lambda), tf.mul(tf.gather(x, tf.tensor1d(permutation, "int32")), 1 - lambda)));
}

/** R_A = −Σ_c (1/C) log h̄_c, h̄ the batch-mean softmax (the reference code's form; KL form + log C). */
export function priorRegulariser(logits: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => {
    const c = logits.shape[1] as number;
    const mean = tf.mean(tf.softmax(logits), 0);
    return tf.div(tf.neg(tf.sum(tf.log(mean))), c) as tf.Scalar;
  });
}

/** R_H = −mean_i Σ_c h_ic log h_ic (mean prediction entropy). */
export function entropyRegulariser(logits: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => tf.neg(tf.mean(tf.sum(tf.mul(tf.softmax(logits), tf.logSoftmax(logits)), 1))) as tf.Scalar);
}

/** Gamma(shape, 1) by Marsaglia-Tsang (shape < 1 boosted by U^(1/shape)). */
function gammaSample(rng: RandomStream, shape: number): number {
  if (shape < 1) return gammaSample(rng, shape + 1) * Math.pow(1 - rng.next(), 1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = rng.normal();
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = 1 - rng.next();
    if (Math.log(u) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v;
  }
}

/** λ ~ Beta(α, α) (α = 1 is uniform, Arazo's default). */
export function betaSample(rng: RandomStream, alpha: number): number {
  if (!(alpha > 0)) throw new RangeError(`mixup alpha must be > 0, got ${alpha}`);
  if (alpha === 1) return rng.next();
  const a = gammaSample(rng, alpha);
  const b = gammaSample(rng, alpha);
  return a / (a + b);
}
