/** Multi-layer perceptron on flattened inputs (van de Ven's Split-MNIST default: 2 x 400, ReLU). */
import * as tf from "@tensorflow/tfjs";
import type { Backbone, ForwardOptions, ForwardResult, InitializedModel, ParamTree, RandomStream } from "@mnemo/core";
import { ShapeError } from "@mnemo/core";
import { kaimingLinear } from "../layers/init.js";
import { applyHead, growHead, initHead } from "../layers/linear.js";

export interface MlpOptions {
  /** Input shape without the batch dimension; inputs are flattened. */
  inputShape: readonly number[];
  hidden?: readonly number[];
}

export function mlp(options: MlpOptions): Backbone {
  const inputSize = options.inputShape.reduce((a, b) => a * b, 1);
  const hidden = options.hidden ?? [400, 400];
  if (hidden.length === 0) throw new ShapeError("an MLP needs at least one hidden layer");
  const featureDim = hidden[hidden.length - 1] as number;

  return {
    name: "mlp",
    inputShape: options.inputShape,
    featureDim,
    headPrefix: "head.",
    // matMul, add and relu only: their gradients are differentiable again.
    supportsSecondOrder: true,
    init(rng: RandomStream, numClasses: number): InitializedModel {
      const params: ParamTree = {};
      let fanIn = inputSize;
      hidden.forEach((width, i) => {
        params[`fc${i}.weight`] = kaimingLinear(rng, fanIn, width);
        params[`fc${i}.bias`] = tf.zeros([width]);
        fanIn = width;
      });
      initHead(params, "head.", rng, featureDim, numClasses);
      return { params, state: {} };
    },
    apply(params: ParamTree, x: tf.Tensor, _options: ForwardOptions): ForwardResult {
      let h = tf.reshape(x, [x.shape[0] as number, inputSize]) as tf.Tensor2D;
      for (let i = 0; i < hidden.length; i++) {
        h = tf.relu(tf.add(tf.matMul(h, params[`fc${i}.weight`] as tf.Tensor2D), params[`fc${i}.bias`] as tf.Tensor)) as tf.Tensor2D;
      }
      const logits = applyHead(h, params, "head.");
      return { features: h, logits };
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
