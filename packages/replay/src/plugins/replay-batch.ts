/** Turning buffer rows into training tensors, and appending them to the learner's batch. */
import * as tf from "@tensorflow/tfjs";
import { range, type Batch, type Normalization } from "@mnemo/core";
import { imagesToTensor } from "@mnemo/core/tf";

/** Train-time augmentation: float [0, 1] NHWC in, normalised out (the learner's contract). */
export type Augment = (x: tf.Tensor4D) => tf.Tensor4D;

/**
 * Float tensor of the first `count` packed uint8 images. Replayed images get the same train-time
 * augmentation as stream images (Mammoth and PyCIL apply the training transform to buffer samples).
 */
export function replayImages(
  images: Uint8Array,
  count: number,
  shape: readonly [number, number, number],
  normalization: Normalization | undefined,
  augment: Augment | undefined,
): tf.Tensor4D {
  const set = { images, labels: new Int32Array(0), count, shape };
  return tf.tidy(() => (augment ? augment(imagesToTensor(set, range(0, count))) : imagesToTensor(set, range(0, count), normalization)));
}

/** A new batch: the learner's rows first (stream, then what earlier plugins appended), then `x`/`y`. */
export function appendRows(batch: Batch, x: tf.Tensor, y: tf.Tensor1D, extras?: Record<string, tf.Tensor>): Batch {
  const out = tf.tidy(() => ({ x: tf.concat([batch.x, x]), y: tf.concat([batch.y, y]) as tf.Tensor1D }));
  return { ...out, streamCount: batch.streamCount, indices: batch.indices, raw: batch.raw, extras: { ...batch.extras, ...extras } };
}

/** Per-row softmax cross-entropy [n] with integer labels. */
export function rowCrossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Tensor1D {
  return tf.tidy(() => tf.neg(tf.sum(tf.mul(tf.oneHot(labels, logits.shape[1]), tf.logSoftmax(logits)), 1)) as tf.Tensor1D);
}

/**
 * The learner always adds mean softmax CE over every row of the batch. Methods whose objective weighs
 * rows differently (DER++: CE on the stream plus β·CE on one replay batch and none on the other; iCaRL
 * with BCE: no softmax CE at all) return Σ_i w_i·ce_i so that the total is their own objective:
 * w_i = target_i − 1/N cancels the learner's term row by row.
 */
export function reweightCrossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D, target: Float32Array): tf.Scalar {
  const n = logits.shape[0];
  const w = new Float32Array(n);
  for (let i = 0; i < n; i++) w[i] = (target[i] as number) - 1 / n;
  return tf.tidy(() => tf.sum(tf.mul(rowCrossEntropy(logits, labels), tf.tensor1d(w))) as tf.Scalar);
}
