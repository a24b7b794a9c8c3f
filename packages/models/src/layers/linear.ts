/** The linear classification head, [featureDim, numClasses], and how it grows. */
import * as tf from "@tensorflow/tfjs";
import { ShapeError, type ParamTree, type RandomStream } from "@mnemo/core";
import { linearWeight } from "./init.js";

export function initHead(params: ParamTree, prefix: string, rng: RandomStream, featureDim: number, numClasses: number): void {
  if (!Number.isInteger(numClasses) || numClasses < 1) throw new ShapeError(`numClasses must be a positive integer, got ${numClasses}`);
  params[`${prefix}weight`] = linearWeight(rng, featureDim, numClasses);
  params[`${prefix}bias`] = tf.zeros([numClasses]);
}

export function applyHead(features: tf.Tensor2D, params: ParamTree, prefix: string): tf.Tensor2D {
  const w = params[`${prefix}weight`] as tf.Tensor2D | undefined;
  const b = params[`${prefix}bias`];
  if (!w || !b) throw new ShapeError(`no head parameters "${prefix}weight"/"${prefix}bias" in the tree`);
  return tf.add(tf.matMul(features, w), b) as tf.Tensor2D;
}

/**
 * Head grown to `numClasses` outputs: the old class columns are kept bit-for-bit, new ones drawn
 * from `rng`. Returns a new tree sharing every other tensor with `params`.
 */
export function growHead(params: ParamTree, prefix: string, numClasses: number, rng: RandomStream): ParamTree {
  const w = params[`${prefix}weight`];
  const b = params[`${prefix}bias`];
  if (!w || !b) throw new ShapeError(`no head parameters "${prefix}weight"/"${prefix}bias" in the tree`);
  const [fanIn, old] = w.shape as [number, number];
  if (numClasses < old) throw new ShapeError(`a head only grows: it has ${old} classes, asked for ${numClasses}`);
  if (numClasses === old) return { ...params };
  const extra = numClasses - old;
  const newW = tf.tidy(() => tf.concat([w, linearWeight(rng, fanIn, extra)], 1));
  const newB = tf.tidy(() => tf.concat([b, tf.zeros([extra])], 0));
  return { ...params, [`${prefix}weight`]: newW, [`${prefix}bias`]: newB };
}
