/** iCaRL's two distillation losses, as pure functions of logits (called inside the gradient tape). */
import * as tf from "@tensorflow/tfjs";
import { reweightCrossEntropy } from "./replay-batch.js";

/**
 * PyCIL `_KD_loss`: −(1/N) Σ_i Σ_{c<K} softmax(z_old/T)_ic · log_softmax(z[:, :K]/T)_ic, with K the old
 * model's classes. Added to the learner's CE unscaled (PyCIL has no T² factor).
 */
export function knowledgeDistillation(logits: tf.Tensor2D, oldLogits: tf.Tensor2D, temperature: number): tf.Scalar {
  return tf.tidy(() => {
    const [n, k] = oldLogits.shape;
    const soft = tf.softmax(tf.div(oldLogits, temperature));
    const logp = tf.logSoftmax(tf.div(logits.slice([0, 0], [n, k]), temperature));
    return tf.div(tf.neg(tf.sum(tf.mul(soft, logp))), n) as tf.Scalar;
  });
}

/**
 * The original iCaRL loss (Rebuffi et al., Theano code): sigmoid + binary cross-entropy over every class
 * of the head, one-hot targets for the new classes and the old network's sigmoid outputs for the old
 * ones, averaged over rows and classes. It replaces softmax CE, so the learner's CE is cancelled.
 */
export function icarlBinaryLoss(logits: tf.Tensor2D, labels: tf.Tensor1D, oldLogits: tf.Tensor2D | undefined): tf.Scalar {
  return tf.tidy(() => {
    const [n, c] = logits.shape;
    let targets = tf.oneHot(labels, c).toFloat() as tf.Tensor2D;
    if (oldLogits) {
      const k = oldLogits.shape[1];
      targets = tf.concat([tf.sigmoid(oldLogits), targets.slice([0, k], [n, c - k])], 1);
    }
    const bce = tf.losses.sigmoidCrossEntropy(targets, logits) as tf.Scalar;
    return tf.add(bce, reweightCrossEntropy(logits, labels, new Float32Array(n))) as tf.Scalar;
  });
}
