/**
 * conv → batch norm (→ + residual) (→ ReLU) as one unit. Training: the conv, then the fused
 * training-mode batch norm (which also adds the residual and applies the ReLU). Eval: BN is folded
 * into the conv (W·s, bias β − μ·s with s = γ/√(σ²+ε)) inside @mnemo/kernels' convBnInference, so
 * the whole unit is one kernel call with no extra passes.
 */
import * as tf from "@tensorflow/tfjs";
import { ShapeError, type ParamTree } from "@mnemo/core";
import { convBnInference } from "@mnemo/kernels";
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
  // One kernel on wasm: BN folded in, the residual add and ReLU in the convolution's output pass.
  return convBnInference({
    x,
    filter: w,
    gamma: gamma as tf.Tensor1D,
    beta: beta as tf.Tensor1D,
    mean: mean as tf.Tensor1D,
    variance: variance as tf.Tensor1D,
    epsilon: BN_EPSILON,
    strides: stride,
    pad: samePadding(w.shape[0]),
    relu,
    ...(residual ? { residual } : {}),
  });
}
