/**
 * Conv-4 (Vinyals et al. 2016; the MAML / ProtoNet backbone): 4 × [conv3×3 64, BN, ReLU,
 * max-pool 2] → flatten → linear head. Convs have no bias (BN's β makes it redundant).
 * Features: 64·⌊h/16⌋·⌊w/16⌋ (256 on 32×32 inputs, 64 on 28×28 MNIST).
 */
import * as tf from "@tensorflow/tfjs";
import type { Backbone, ForwardOptions, ForwardResult, InitializedModel, ParamTree, RandomStream } from "@mnemo/core";
import { ShapeError } from "@mnemo/core";
import { initBatchNorm } from "../layers/batch-norm.js";
import { convBn } from "../layers/conv-bn.js";
import { kaimingConv } from "../layers/init.js";
import { applyHead, growHead, initHead } from "../layers/linear.js";
import { asImages, checkInputShape, requireState } from "./common.js";

export interface Conv4Options {
  /** [height, width, channels]; default [32, 32, 3]. */
  inputShape?: readonly number[];
  /** Filters per block; default 64. */
  width?: number;
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

  return {
    name: "conv4",
    inputShape,
    featureDim,
    headPrefix: head,
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
  };
}
