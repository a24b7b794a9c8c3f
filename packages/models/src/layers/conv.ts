/** Convolution helpers (NHWC, PyTorch-style symmetric padding for odd kernels). */
import * as tf from "@tensorflow/tfjs";
import { ShapeError, type ParamTree } from "@mnemo/core";

/** k×k conv, stride s, padding k//2 ("same" for odd k at stride 1, as PyTorch's padding=k//2). */
export function conv(x: tf.Tensor4D, params: ParamTree, key: string, stride = 1): tf.Tensor4D {
  const w = params[key] as tf.Tensor4D | undefined;
  if (!w) throw new ShapeError(`conv: missing parameter "${key}"`);
  return tf.conv2d(x, w, stride, samePadding(w.shape[0]));
}

export type ExplicitPad = [[number, number], [number, number], [number, number], [number, number]];

/** PyTorch's padding=k//2, explicit: tfjs "same" pads asymmetrically at stride 2, PyTorch symmetrically. */
export function samePadding(k: number): ExplicitPad | "valid" {
  const p = Math.floor(k / 2);
  return p === 0 ? "valid" : [[0, 0], [p, p], [p, p], [0, 0]];
}
