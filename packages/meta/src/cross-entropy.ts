/**
 * Softmax cross-entropy that is differentiable twice, for second-order MAML and OML.
 *
 * In tfjs 4.22 a gradient OF a gradient is wrong through any op whose gradient reads the op's
 * saved OUTPUT (Exp, Tanh, Sigmoid, Softmax, and `tf.losses.softmaxCrossEntropy`, a customGrad):
 * saved outputs carry no tape lineage, so every term through them silently drops out (measured:
 * the Hessian-vector product of a 2×3 cross-entropy came out −0.199 where finite differences give
 * −0.125; `sum(exp(x))` throws "Cannot compute gradient"). Ops whose gradients read their INPUTS
 * (Mul, Log, Sum, Relu, MatMul...) are fine. Here exp's gradient recomputes exp from its input, and
 * the row maximum subtracted for stability is a constant for differentiation (the result does not
 * depend on it), which keeps `Max` and its `Equal`-based gradient out of every derivative.
 * Agrees with finite differences to second order (test/cross-entropy.test.ts).
 */
import * as tf from "@tensorflow/tfjs";

/** exp whose gradient (at every order) is built from its input: d/dx exp = exp(x), recomputed. */
export const expTwice: (x: tf.Tensor) => tf.Tensor = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [x, save] = args as [tf.Tensor, tf.GradSaveFunc];
  save([x]);
  return { value: tf.exp(x), gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.mul(dy, expTwice(saved[0] as tf.Tensor)) };
}) as (x: tf.Tensor) => tf.Tensor;

/** Row maxima (last axis, kept) with a zero gradient. */
const rowMaxConstant = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const x = args[0] as tf.Tensor;
  return { value: tf.max(x, -1, true), gradFunc: () => tf.zerosLike(x) };
}) as (x: tf.Tensor) => tf.Tensor;

/** Mean over rows of −log softmax(logits)[label]; `labels` are class indices. */
export function crossEntropy(logits: tf.Tensor, labels: tf.Tensor | Int32Array | number[]): tf.Scalar {
  return tf.tidy(() => {
    const n = logits.shape[logits.shape.length - 1] as number;
    // One class (a continual learner's first chunk of one class): −log softmax = 0, gradient 0;
    // kept on the logits so the tape still connects (tf.oneHot refuses depth 1).
    if (n === 1) return tf.mul(tf.sum(logits), 0) as tf.Scalar;
    const y = labels instanceof tf.Tensor ? labels.toInt() : tf.tensor1d(Int32Array.from(labels), "int32");
    const shifted = tf.sub(logits, rowMaxConstant(logits));
    const logProb = tf.sub(shifted, tf.log(tf.sum(expTwice(shifted), -1, true)));
    return tf.neg(tf.mean(tf.sum(tf.mul(tf.oneHot(y, n), logProb), -1))) as tf.Scalar;
  });
}
