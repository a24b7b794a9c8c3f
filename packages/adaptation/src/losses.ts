/** The adaptation objectives and the gate statistic, as tf ops on logits [B, K]. */
import * as tf from "@tensorflow/tfjs";

/** Tent's loss: mean over the batch of H(softmax(z)) = −Σ_c p_c log p_c (reference F8). */
export function meanEntropy(logits: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => {
    const logp = tf.logSoftmax(logits);
    return tf.neg(tf.mean(tf.sum(tf.mul(tf.exp(logp), logp), 1))) as tf.Scalar;
  });
}

/**
 * CoTTA's loss (Eq. 5): mean over the batch of −Σ_c softmax(target)_c · log softmax(student)_c.
 * `target` are teacher logits (the augmentation average of logits, softmax after): no gradient.
 */
export function softTargetCrossEntropy(target: tf.Tensor2D, student: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => {
    const p = tf.softmax(target); // computed outside the gradient tape: a constant
    return tf.neg(tf.mean(tf.sum(tf.mul(p, tf.logSoftmax(student)), 1))) as tf.Scalar;
  });
}

/** mean_batch max_c softmax(z)_c: the anchor confidence CoTTA's gate compares with p_th. */
export function meanMaxSoftmax(logits: tf.Tensor2D): number {
  const m = tf.tidy(() => tf.mean(tf.max(tf.softmax(logits), 1)));
  const v = m.dataSync()[0] as number;
  m.dispose();
  return v;
}
