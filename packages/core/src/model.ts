/**
 * The functional model contract shared by every package: a backbone is a pure function of its
 * parameters and input, with mutable state (batch-norm running statistics) kept apart.
 */
import type * as tf from "@tensorflow/tfjs";
import type { ParamTree } from "./param-tree.js";
import type { RandomStream } from "./rng.js";

export interface ForwardOptions {
  /** Training mode: batch statistics for BN, and the updated running statistics are returned. */
  training: boolean;
  /** Non-trainable state (BN running mean/var). Required when the backbone has BN. */
  state?: ParamTree;
  /**
   * Build the forward pass from ops whose gradients are differentiable again, so a gradient of a
   * gradient is exact (second-order MAML / OML). Slower; only backbones with
   * `supportsSecondOrder` honour it.
   */
  differentiableTwice?: boolean;
}

export interface ForwardResult {
  /** Penultimate features, [batch, featureDim]. */
  features: tf.Tensor2D;
  /** Head outputs, [batch, numClasses]. */
  logits: tf.Tensor2D;
  /** Updated state in training mode (new tensors; the caller swaps and disposes the old). */
  state?: ParamTree;
}

export type ForwardFn = (params: ParamTree, x: tf.Tensor, options: ForwardOptions) => ForwardResult;

export interface InitializedModel {
  params: ParamTree;
  state: ParamTree;
}

export interface Backbone {
  /** e.g. "mlp", "conv4", "resnet32". */
  readonly name: string;
  /** Input shape without the batch dimension, e.g. [32, 32, 3] or [784]. */
  readonly inputShape: readonly number[];
  readonly featureDim: number;
  /** Initial parameters (Kaiming init from the given stream) and state. */
  init(rng: RandomStream, numClasses: number): InitializedModel;
  apply: ForwardFn;
  /**
   * Parameters of a head grown to `numClasses` outputs: old rows are kept, new rows are
   * initialised from `rng`. Returns a new tree sharing the non-head tensors with `params`.
   */
  growHead(params: ParamTree, numClasses: number, rng: RandomStream): ParamTree;
  /** Prefix of the head's parameters (e.g. "head."), so methods can select or freeze it. */
  readonly headPrefix: string;
  /**
   * The forward pass can be differentiated twice exactly (natively, or via
   * `ForwardOptions.differentiableTwice`). Backbones without it must not be used for
   * second-order meta-gradients: fused kernels there have no gradient of their gradient.
   */
  readonly supportsSecondOrder?: boolean;
  /**
   * Multiply-accumulates of one image's forward pass with a `numClasses`-way head, counted
   * analytically over convolutions and linear layers (BN, ReLU, pooling and additions are left
   * out, as in He et al. 2016 and thop/ptflops); FLOPs = 2 x MACs.
   */
  forwardMacs?(numClasses: number): number;
}
