/** Pieces shared by the convolutional backbones. */
import type * as tf from "@tensorflow/tfjs";
import { ShapeError, type ForwardOptions, type ParamTree } from "@mnemo/core";

/** The state a forward pass reads, checked once so layers can index it freely. */
export function requireState(options: ForwardOptions, name: string): ParamTree {
  if (!options.state) {
    throw new ShapeError(`${name}: options.state is required (batch-norm running statistics from init().state)`);
  }
  return options.state;
}

/** Inputs must be [batch, ...inputShape]; flat [batch, h·w·c] rows are reshaped. */
export function asImages(x: tf.Tensor, inputShape: readonly number[], name: string): tf.Tensor4D {
  const [h, w, c] = inputShape as [number, number, number];
  if (x.rank === 4 && x.shape[1] === h && x.shape[2] === w && x.shape[3] === c) return x as tf.Tensor4D;
  if (x.rank === 2 && x.shape[1] === h * w * c) return x.reshape([x.shape[0] as number, h, w, c]);
  throw new ShapeError(`${name}: expected input [batch, ${h}, ${w}, ${c}] (NHWC) or [batch, ${h * w * c}], got [${x.shape}]`);
}

export function checkInputShape(shape: readonly number[], name: string): void {
  if (shape.length !== 3 || shape.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new ShapeError(`${name}: inputShape must be [height, width, channels], got [${shape}]`);
  }
}
