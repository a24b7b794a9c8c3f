/** Multi-layer perceptron on flattened inputs (van de Ven's Split-MNIST default: 2 x 400, ReLU). */
import * as tf from "@tensorflow/tfjs";
import type { Backbone, ForwardOptions, ForwardResult, InitializedModel, ParamTree, RandomStream } from "@mnemo/core";
import { ShapeError } from "@mnemo/core";

export interface MlpOptions {
  /** Input shape without the batch dimension; inputs are flattened. */
  inputShape: readonly number[];
  hidden?: readonly number[];
}

/** Kaiming-normal weights (fan_in, ReLU gain) from the seeded stream; zero biases. */
function kaimingNormal(rng: RandomStream, fanIn: number, fanOut: number): tf.Tensor2D {
  const std = Math.sqrt(2 / fanIn);
  return tf.tensor2d(rng.fillNormal(new Float32Array(fanIn * fanOut), 0, std), [fanIn, fanOut]);
}

/** PyTorch's default Linear init for the head: U(-1/sqrt(fan_in), 1/sqrt(fan_in)). */
export function linearHeadInit(rng: RandomStream, fanIn: number, fanOut: number): tf.Tensor2D {
  const bound = 1 / Math.sqrt(fanIn);
  return tf.tensor2d(rng.fillUniform(new Float32Array(fanIn * fanOut), -bound, bound), [fanIn, fanOut]);
}

/** Head parameters grown to `numClasses` columns: old columns kept, new ones initialised from `rng`. */
export function growLinearHead(params: ParamTree, prefix: string, numClasses: number, rng: RandomStream): ParamTree {
  const w = params[`${prefix}weight`];
  const b = params[`${prefix}bias`];
  if (!w || !b) throw new ShapeError(`no head parameters "${prefix}weight"/"${prefix}bias" in the tree`);
  const [fanIn, old] = w.shape as [number, number];
  if (numClasses < old) throw new ShapeError(`a head only grows: it has ${old} classes, asked for ${numClasses}`);
  if (numClasses === old) return { ...params };
  const extra = numClasses - old;
  const newW = tf.tidy(() => tf.concat([w, linearHeadInit(rng, fanIn, extra)], 1));
  const newB = tf.tidy(() => tf.concat([b, tf.zeros([extra])], 0));
  return { ...params, [`${prefix}weight`]: newW, [`${prefix}bias`]: newB };
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
    init(rng: RandomStream, numClasses: number): InitializedModel {
      const params: ParamTree = {};
      let fanIn = inputSize;
      hidden.forEach((width, i) => {
        params[`fc${i}.weight`] = kaimingNormal(rng, fanIn, width);
        params[`fc${i}.bias`] = tf.zeros([width]);
        fanIn = width;
      });
      params["head.weight"] = linearHeadInit(rng, featureDim, numClasses);
      params["head.bias"] = tf.zeros([numClasses]);
      return { params, state: {} };
    },
    apply(params: ParamTree, x: tf.Tensor, _options: ForwardOptions): ForwardResult {
      let h = tf.reshape(x, [x.shape[0] as number, inputSize]) as tf.Tensor2D;
      for (let i = 0; i < hidden.length; i++) {
        h = tf.relu(tf.add(tf.matMul(h, params[`fc${i}.weight`] as tf.Tensor2D), params[`fc${i}.bias`] as tf.Tensor)) as tf.Tensor2D;
      }
      const logits = tf.add(tf.matMul(h, params["head.weight"] as tf.Tensor2D), params["head.bias"] as tf.Tensor) as tf.Tensor2D;
      return { features: h, logits };
    },
    growHead(params: ParamTree, numClasses: number, rng: RandomStream): ParamTree {
      return growLinearHead(params, "head.", numClasses, rng);
    },
  };
}
