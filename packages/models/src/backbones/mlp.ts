/** Multi-layer perceptron on flattened inputs (van de Ven's Split-MNIST default: 2 x 400, ReLU). */
import * as tf from "@tensorflow/tfjs";
import type { Backbone, ForwardOptions, ForwardResult, InitializedModel, ParamTree, RandomStream } from "@mnemo/core";
import { ShapeError } from "@mnemo/core";
import { requireState } from "./common.js";
import { kaimingLinear } from "../layers/init.js";
import { applyHead, growHead, initHead } from "../layers/linear.js";
import { batchNorm, initBatchNorm } from "../layers/batch-norm.js";

export interface MlpOptions {
  /** Input shape without the batch dimension; inputs are flattened. */
  inputShape: readonly number[];
  hidden?: readonly number[];
  /**
   * Batch norm after every hidden linear layer (fc → BN → ReLU, PyTorch BatchNorm1d semantics):
   * the BN backbone test-time adaptation needs (`@mnemo/adaptation`). Default false.
   */
  batchNorm?: boolean;
}

export function mlp(options: MlpOptions): Backbone {
  const inputSize = options.inputShape.reduce((a, b) => a * b, 1);
  const hidden = options.hidden ?? [400, 400];
  if (hidden.length === 0) throw new ShapeError("an MLP needs at least one hidden layer");
  const featureDim = hidden[hidden.length - 1] as number;
  const bn = options.batchNorm ?? false;

  return {
    name: "mlp",
    inputShape: options.inputShape,
    featureDim,
    headPrefix: "head.",
    // matMul, add and relu only: their gradients are differentiable again (the fused BN's are not).
    supportsSecondOrder: !bn,
    init(rng: RandomStream, numClasses: number): InitializedModel {
      const params: ParamTree = {};
      let fanIn = inputSize;
      hidden.forEach((width, i) => {
        params[`fc${i}.weight`] = kaimingLinear(rng, fanIn, width);
        params[`fc${i}.bias`] = tf.zeros([width]);
        fanIn = width;
      });
      const state: ParamTree = {};
      // BN's γ = 1, β = 0 and running (0, 1) draw nothing: the init stream is the same with or without BN.
      if (bn) hidden.forEach((width, i) => initBatchNorm(`fc${i}.bn`, width, params, state));
      initHead(params, "head.", rng, featureDim, numClasses);
      return { params, state };
    },
    apply(params: ParamTree, x: tf.Tensor, options: ForwardOptions): ForwardResult {
      let h = tf.reshape(x, [x.shape[0] as number, inputSize]) as tf.Tensor2D;
      const newState: ParamTree = {};
      for (let i = 0; i < hidden.length; i++) {
        const z = tf.add(tf.matMul(h, params[`fc${i}.weight`] as tf.Tensor2D), params[`fc${i}.bias`] as tf.Tensor);
        h = (bn ? batchNorm(z, `fc${i}.bn`, params, requireState(options, "mlp"), options.training, newState, true) : tf.relu(z)) as tf.Tensor2D;
      }
      const logits = applyHead(h, params, "head.");
      return bn && options.training ? { features: h, logits, state: newState } : { features: h, logits };
    },
    growHead(params: ParamTree, numClasses: number, rng: RandomStream): ParamTree {
      return growHead(params, "head.", numClasses, rng);
    },
    forwardMacs(numClasses: number): number {
      let macs = 0;
      let fanIn = inputSize;
      for (const width of hidden) {
        macs += fanIn * width;
        fanIn = width;
      }
      return macs + featureDim * numClasses;
    },
  };
}
