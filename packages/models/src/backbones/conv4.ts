/**
 * Conv-4 (Vinyals et al. 2016; the MAML / ProtoNet backbone): 4 × [conv3×3 64, BN, ReLU,
 * max-pool 2] → flatten → linear head. Convs have no bias (BN's β makes it redundant).
 * Features: 64·⌊h/16⌋·⌊w/16⌋ (256 on 32×32 inputs, 64 on 28×28 MNIST).
 */
import * as tf from "@tensorflow/tfjs";
import type { Backbone, ForwardOptions, ForwardResult, InitializedModel, ParamTree, RandomStream } from "@mnemo/core";
import { ShapeError } from "@mnemo/core";
import { initBatchNorm } from "../layers/batch-norm.js";
import { BN_EPSILON, BN_MOMENTUM } from "../layers/batch-norm.js";
import { convBn } from "../layers/conv-bn.js";
import { batchNormTwice, conv2dTwice, maxPool2Twice, reluTwice } from "../layers/twice.js";
import { kaimingConv } from "../layers/init.js";
import { applyHead, growHead, initHead } from "../layers/linear.js";
import { asImages, checkInputShape, requireState } from "./common.js";

export interface Conv4Options {
  /** [height, width, channels]; default [32, 32, 3]. */
  inputShape?: readonly number[];
  /** Filters per block; default 64. */
  width?: number;
  /**
   * Only for finite-difference checks of second-order gradients: on the differentiableTwice
   * path, ReLU and max-pool become smooth surrogates of width δ (layers/twice.ts reluTwice).
   * 0 (default) = the real network.
   */
  smoothRelu?: number;
}

export function conv4(options: Conv4Options = {}): Backbone {
  const inputShape = options.inputShape ?? [32, 32, 3];
  checkInputShape(inputShape, "conv4");
  const width = options.width ?? 64;
  let [h, w] = inputShape as [number, number, number];
  for (let i = 0; i < 4; i++) {
    h = Math.floor(h / 2);
    w = Math.floor(w / 2);
  }
  if (h < 1 || w < 1) throw new ShapeError(`conv4: input [${inputShape}] is too small for 4 max-pools (needs at least 16×16)`);
  const featureDim = width * h * w;
  const head = "head.";
  const smooth = options.smoothRelu ?? 0;

  return {
    name: "conv4",
    inputShape,
    featureDim,
    headPrefix: head,
    supportsSecondOrder: true,
    init(rng: RandomStream, numClasses: number): InitializedModel {
      const params: ParamTree = {};
      const state: ParamTree = {};
      let inC = inputShape[2] as number;
      for (let i = 0; i < 4; i++) {
        params[`block${i}.conv.weight`] = kaimingConv(rng, 3, 3, inC, width);
        initBatchNorm(`block${i}.bn`, width, params, state);
        inC = width;
      }
      initHead(params, head, rng, featureDim, numClasses);
      return { params, state };
    },
    apply(params: ParamTree, x: tf.Tensor, options: ForwardOptions): ForwardResult {
      const state = requireState(options, "conv4");
      const newState: ParamTree = {};
      let y = asImages(x, inputShape, "conv4");
      if (options.differentiableTwice) return applyTwice(params, state, y, options.training, featureDim, head, smooth);
      for (let i = 0; i < 4; i++) {
        y = convBn(y, { conv: `block${i}.conv.weight`, bn: `block${i}.bn`, relu: true }, params, state, options.training, newState);
        y = tf.maxPool(y, 2, 2, "valid");
      }
      const features = tf.reshape(y, [y.shape[0], featureDim]) as tf.Tensor2D;
      const logits = applyHead(features, params, head);
      return options.training ? { features, logits, state: newState } : { features, logits };
    },
    growHead(params: ParamTree, numClasses: number, rng: RandomStream): ParamTree {
      return growHead(params, head, numClasses, rng);
    },
    forwardMacs(numClasses: number): number {
      // 3x3 "same" convs at the current size, each followed by a 2x2 max-pool.
      let [ih, iw, inC] = inputShape as [number, number, number];
      let macs = 0;
      for (let i = 0; i < 4; i++) {
        macs += ih * iw * 9 * inC * width;
        ih = Math.floor(ih / 2);
        iw = Math.floor(iw / 2);
        inC = width;
      }
      return macs + featureDim * numClasses;
    },
  };
}

/**
 * The same network from twice-differentiable ops (layers/twice.ts), for second-order
 * meta-gradients: the fused BN and Winograd/conv kernels have no gradient of their gradient.
 * Same numbers as the fast path up to float rounding (test/backbones.test.ts).
 */
function applyTwice(params: ParamTree, state: ParamTree, x: tf.Tensor4D, training: boolean, featureDim: number, head: string, smooth: number): ForwardResult {
  const newState: ParamTree = {};
  let y = x;
  for (let i = 0; i < 4; i++) {
    const w = params[`block${i}.conv.weight`] as tf.Tensor4D;
    const gamma = params[`block${i}.bn.gamma`] as tf.Tensor;
    const beta = params[`block${i}.bn.beta`] as tf.Tensor;
    const c = conv2dTwice(y, w);
    if (training) {
      const bn = batchNormTwice(c, gamma, beta, BN_EPSILON, true, smooth);
      const n = c.size / (c.shape[3] as number);
      const unbiased = n > 1 ? n / (n - 1) : 1;
      // Running statistics never reach the loss, so no gradient flows through them.
      const { mean, variance } = bn;
      newState[`block${i}.bn.mean`] = tf.add(tf.mul(state[`block${i}.bn.mean`] as tf.Tensor, 1 - BN_MOMENTUM), tf.mul(mean, BN_MOMENTUM));
      newState[`block${i}.bn.var`] = tf.add(tf.mul(state[`block${i}.bn.var`] as tf.Tensor, 1 - BN_MOMENTUM), tf.mul(variance, BN_MOMENTUM * unbiased));
      y = bn.y as tf.Tensor4D;
    } else {
      const scale = tf.mul(gamma, tf.rsqrt(tf.add(state[`block${i}.bn.var`] as tf.Tensor, BN_EPSILON)));
      y = reluTwice(tf.add(tf.mul(tf.sub(c, state[`block${i}.bn.mean`] as tf.Tensor), scale), beta), smooth) as tf.Tensor4D;
    }
    y = maxPool2Twice(y, smooth);
  }
  const features = tf.reshape(y, [y.shape[0], featureDim]) as tf.Tensor2D;
  const logits = applyHead(features, params, head);
  return training ? { features, logits, state: newState } : { features, logits };
}
