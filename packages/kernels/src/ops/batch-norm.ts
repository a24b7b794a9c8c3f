/**
 * `batchNormTrain`: training-mode batch norm (+ optional ReLU) over the last axis as ONE op with
 * a closed-form gradient, backed by fused kernels on wasm and cpu. On any other backend it is
 * the equivalent composite of standard ops, so callers never need to care.
 */
import * as tf from "@tensorflow/tfjs";
import { BATCH_NORM_TRAIN, BATCH_NORM_TRAIN_GRAD, batchNormKernelConfigs, type BatchNormAttrs } from "../kernels/batch-norm.js";

export interface BatchNormTrainResult {
  /** Normalised (and ReLU'd when asked) output, shaped like x. */
  y: tf.Tensor;
  /** Batch mean per channel. */
  mean: tf.Tensor1D;
  /** Biased batch variance per channel (what the normalisation used). */
  variance: tf.Tensor1D;
}

let registered = false;

/** Registers the fused kernels (wasm + cpu) and their gradient. Idempotent. */
export function registerBatchNormOps(): void {
  if (registered) return;
  for (const k of batchNormKernelConfigs) {
    if (!tf.getKernel(k.kernelName, k.backendName)) tf.registerKernel(k);
  }
  tf.registerGradient({
    kernelName: BATCH_NORM_TRAIN,
    inputsToSave: ["x", "gamma"],
    outputsToSave: [true, true, true],
    gradFunc: (dys: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: tf.NamedAttrMap) => {
      const [dy, dMean, dVar] = dys as tf.Tensor[];
      const [x, gamma, y, mean, variance] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
      const [dx, dGamma, dBeta, dResidual] = tf
        .engine()
        .runKernel(
          BATCH_NORM_TRAIN_GRAD,
          { dy, dMean, dVar, x, y, gamma, mean, variance } as unknown as tf.NamedTensorMap,
          attrs,
        ) as tf.Tensor[];
      const grads: Record<string, () => tf.Tensor> = { x: () => dx as tf.Tensor, gamma: () => dGamma as tf.Tensor, beta: () => dBeta as tf.Tensor };
      // The residual's gradient is the ReLU-masked dy (the kernel's fourth output), or dy itself.
      if (attrs["residual"]) grads["residual"] = () => (attrs["relu"] ? (dResidual as tf.Tensor) : (dy as tf.Tensor));
      return grads;
    },
  });
  registered = true;
}

function composite(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, attrs: BatchNormAttrs, residual?: tf.Tensor): BatchNormTrainResult {
  const axes = x.shape.slice(0, -1).map((_, i) => i);
  const { mean, variance } = tf.moments(x, axes);
  const scale = tf.mul(gamma, tf.rsqrt(tf.add(variance, attrs.epsilon)));
  let y = tf.add(tf.mul(tf.sub(x, mean), scale), beta);
  if (residual) y = tf.add(y, residual);
  if (attrs.relu) y = tf.relu(y);
  return { y, mean: mean as tf.Tensor1D, variance: variance as tf.Tensor1D };
}

export function batchNormTrain(
  x: tf.Tensor,
  gamma: tf.Tensor,
  beta: tf.Tensor,
  options: { epsilon?: number; relu?: boolean; residual?: tf.Tensor } = {},
): BatchNormTrainResult {
  const { residual } = options;
  if (residual && !tf.util.arraysEqual(residual.shape, x.shape)) {
    throw new Error(`batchNormTrain: residual shape [${residual.shape}] must equal x's [${x.shape}]`);
  }
  const attrs: BatchNormAttrs = { epsilon: options.epsilon ?? 1e-5, relu: options.relu ?? false, residual: residual !== undefined };
  registerBatchNormOps();
  if (x.dtype !== "float32" || !tf.getKernel(BATCH_NORM_TRAIN, tf.getBackend())) return composite(x, gamma, beta, attrs, residual);
  const inputs = residual ? { x, gamma, beta, residual } : { x, gamma, beta };
  const [y, mean, variance] = tf
    .engine()
    .runKernel(BATCH_NORM_TRAIN, inputs as unknown as tf.NamedTensorMap, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
  return { y: y as tf.Tensor, mean: mean as tf.Tensor1D, variance: variance as tf.Tensor1D };
}
