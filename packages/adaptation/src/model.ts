/**
 * The model an adapter starts from: a functional backbone, its trained parameters and its BN
 * running statistics, and the stream's input normalisation. Adapters receive pixels in [0, 1]
 * (augmentations work there) and normalise them here before every forward pass.
 */
import * as tf from "@tensorflow/tfjs";
import type { Backbone, ParamTree } from "@mnemo/core";

export interface SourceModel {
  backbone: Backbone;
  /** Trained (source) parameters θ_0; never modified or disposed by an adapter. */
  params: ParamTree;
  /** BN running statistics of the source; only the `source` adapter reads them. */
  state: ParamTree;
  /** Per-channel mean and std of the 0..1 pixels (the training stream's), if inputs are normalised. */
  normalization?: { mean: readonly number[]; std: readonly number[] };
}

/** (x − mean) / std per channel; x is [B, H, W, C] in [0, 1]. */
export function normalizeInput(x: tf.Tensor4D, normalization: SourceModel["normalization"]): tf.Tensor4D {
  if (!normalization) return x;
  return tf.tidy(() => tf.div(tf.sub(x, tf.tensor1d([...normalization.mean])), tf.tensor1d([...normalization.std])) as tf.Tensor4D);
}

/**
 * Logits of `params` on pixels `x`. `batchStats`: BN normalises with this batch's own mean and
 * biased variance (train mode); the running statistics the backbone returns are dropped (never
 * used again, as in norm.py/tent.py/cotta.py). Otherwise the source's running statistics.
 * Every intermediate of the forward is freed here, so a caller outside `tf.tidy` leaks nothing
 * (CoTTA's anchor and teacher forwards once leaked every activation: 73 MB a batch on Conv-4, which
 * filled the 4 GiB wasm heap within a few domains and then stalled the run). Inside a gradient
 * function this is still differentiable: tfjs keeps what the backward pass needs.
 */
export function logitsOf(model: SourceModel, params: ParamTree, x: tf.Tensor4D, batchStats: boolean): tf.Tensor2D {
  return tf.tidy(() => model.backbone.apply(params, normalizeInput(x, model.normalization), { training: batchStats, state: model.state }).logits);
}

/** Keys of the BN affine parameters (γ, β): what Tent adapts. */
export function batchNormAffineKeys(params: ParamTree): string[] {
  return Object.keys(params)
    .filter((k) => k.endsWith(".gamma") || k.endsWith(".beta"))
    .sort();
}
