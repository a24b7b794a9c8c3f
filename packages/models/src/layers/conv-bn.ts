/**
 * conv → batch norm (→ + residual) (→ ReLU) as one unit. Training: the conv, then the fused training-mode
 * batch norm. Eval: BN is folded into the conv (W·s, bias β − μ·s with s = γ/√(σ²+ε)) so the
 * whole unit is ONE fused XNNPACK convolution with bias and ReLU: no extra passes at inference.
 */
import * as tf from "@tensorflow/tfjs";
import { ShapeError, type ParamTree } from "@mnemo/core";
import { fusedConvResidual } from "@mnemo/kernels";
import { BN_EPSILON, batchNorm } from "./batch-norm.js";
import { conv, samePadding } from "./conv.js";

export interface ConvBnSpec {
  /** Parameter key of the conv filter. */
  conv: string;
  /** Prefix of the BN parameters and state. */
  bn: string;
  stride?: number;
  relu?: boolean;
  /** Added after batch norm, before the ReLU (a residual block's shortcut); x's output shape. */
  residual?: tf.Tensor4D;
}

export function convBn(
  x: tf.Tensor4D,
  spec: ConvBnSpec,
  params: ParamTree,
  state: ParamTree,
  training: boolean,
  newState: ParamTree,
): tf.Tensor4D {
  const stride = spec.stride ?? 1;
  const relu = spec.relu ?? false;
  const residual = spec.residual;
  if (training) return batchNorm(conv(x, params, spec.conv, stride), spec.bn, params, state, true, newState, relu, residual) as tf.Tensor4D;
  const w = params[spec.conv] as tf.Tensor4D | undefined;
  const gamma = params[`${spec.bn}.gamma`];
  const beta = params[`${spec.bn}.beta`];
  const mean = state[`${spec.bn}.mean`];
  const variance = state[`${spec.bn}.var`];
  if (!w || !gamma || !beta || !mean || !variance) {
    throw new ShapeError(`conv-bn: missing "${spec.conv}" or BN "${spec.bn}.*" parameters/state (was the state from init()?)`);
  }
  const scale = tf.mul(gamma, tf.rsqrt(tf.add(variance, BN_EPSILON)));
  const bias = tf.sub(beta, tf.mul(mean, scale)) as tf.Tensor1D;
  const filter = tf.mul(w, scale) as tf.Tensor4D;
  const pad = samePadding(w.shape[0]);
  // A block's closing add + ReLU: inside the convolution's output pass where the backend can.
  if (residual) return fusedConvResidual({ x, filter, bias, residual, strides: stride, pad, relu });
  return tf.fused.conv2d({ x, filter, strides: stride, pad, bias, activation: relu ? "relu" : "linear" });
}
