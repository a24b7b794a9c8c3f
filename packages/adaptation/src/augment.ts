/**
 * CoTTA's test-time augmentation (`get_tta_transforms`, CIFAR settings; reference §2.3), on a
 * batch of pixels in [0, 1], NHWC. As in the reference, called on the batch tensor: one random
 * draw per call for the whole batch, except the per-pixel noise. Every draw comes from `rng`.
 *
 * clip → colour jitter in random order (brightness [0.6, 1.4], contrast [0.7, 1.3], saturation
 * [0.5, 1.5], hue ±0.06, gamma [0.7, 1.3]) → edge-padded affine (±15°, translate ±1/16, scale
 * [0.9, 1.1], bilinear; the edge padding of 16 px + centre crop is the "nearest" fill) → Gaussian
 * blur (k = 5, σ ∈ [0.001, 0.5], reflect) → horizontal flip with probability `flip` → + N(0, 0.005²)
 * → clip. On one channel, saturation and hue are identities. Hue is a rotation of the YIQ chroma
 * (an approximation of torchvision's HSV shift).
 */
import * as tf from "@tensorflow/tfjs";
import type { RandomStream } from "@mnemo/core";

export interface AugmentOptions {
  /** Probability of the horizontal flip (reference: 0.5). */
  flip?: number;
  /** Std of the additive noise (reference: 0.005). */
  noiseStd?: number;
}

const clip01 = (x: tf.Tensor4D): tf.Tensor4D => tf.clipByValue(x, 0, 1);

function gray(x: tf.Tensor4D): tf.Tensor4D {
  if (x.shape[3] === 1) return x;
  const [r, g, b] = tf.split(x, 3, 3) as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D];
  return tf.addN([tf.mul(r, 0.2989), tf.mul(g, 0.587), tf.mul(b, 0.114)]) as tf.Tensor4D;
}

function blend(a: tf.Tensor4D, b: tf.Tensor, ratio: number): tf.Tensor4D {
  return clip01(tf.add(tf.mul(a, ratio), tf.mul(b, 1 - ratio)) as tf.Tensor4D);
}

function hueShift(x: tf.Tensor4D, h: number): tf.Tensor4D {
  if (x.shape[3] !== 3 || h === 0) return x;
  const t = 2 * Math.PI * h;
  const c = Math.cos(t);
  const s = Math.sin(t);
  // RGB → YIQ, rotate (I, Q) by t, → RGB, as one 3×3 matrix.
  const toYiq = [
    [0.299, 0.587, 0.114],
    [0.596, -0.274, -0.322],
    [0.211, -0.523, 0.312],
  ];
  const fromYiq = [
    [1, 0.956, 0.621],
    [1, -0.272, -0.647],
    [1, -1.106, 1.703],
  ];
  const rot = [
    [1, 0, 0],
    [0, c, -s],
    [0, s, c],
  ];
  const mul = (a: number[][], b: number[][]) => a.map((row) => b[0]!.map((_, j) => row.reduce((acc, v, k) => acc + v * b[k]![j]!, 0)));
  const m = mul(fromYiq, mul(rot, toYiq)); // out = m · in
  const mt = tf.tensor2d(m).transpose();
  const [b, hh, w] = x.shape;
  const y = tf.reshape(tf.matMul(tf.reshape(x, [b * hh * w, 3]), mt), x.shape) as tf.Tensor4D;
  return clip01(y);
}

function gaussianKernel(sigma: number, channels: number): tf.Tensor4D {
  const g = [-2, -1, 0, 1, 2].map((i) => Math.exp(-(i * i) / (2 * sigma * sigma)));
  const sum = g.reduce((a, b) => a + b, 0);
  const k = g.map((v) => v / sum);
  const values: number[] = [];
  for (let i = 0; i < 5; i++) for (let j = 0; j < 5; j++) for (let c = 0; c < channels; c++) values.push((k[i] as number) * (k[j] as number));
  return tf.tensor4d(values, [5, 5, channels, 1]);
}

/** One augmented copy of `x` ([B, H, W, C], values in [0, 1]). */
export function cottaAugment(x: tf.Tensor4D, rng: RandomStream, options: AugmentOptions = {}): tf.Tensor4D {
  const flipP = options.flip ?? 0.5;
  const noiseStd = options.noiseStd ?? 0.005;
  const [b, h, w, c] = x.shape;
  // Draws, in a fixed order: jitter order and factors, affine, blur σ, flip, then the noise.
  const order = rng.permutation(5);
  const brightness = rng.uniform(0.6, 1.4);
  const contrast = rng.uniform(0.7, 1.3);
  const saturation = rng.uniform(0.5, 1.5);
  const hue = rng.uniform(-0.06, 0.06);
  const gamma = rng.uniform(0.7, 1.3);
  const angle = (rng.uniform(-15, 15) * Math.PI) / 180;
  const tx = Math.round(rng.uniform(-w / 16, w / 16));
  const ty = Math.round(rng.uniform(-h / 16, h / 16));
  const scale = rng.uniform(0.9, 1.1);
  const sigma = rng.uniform(0.001, 0.5);
  const flip = rng.next() < flipP;
  const noise = new Float32Array(x.size);
  rng.fillNormal(noise, 0, noiseStd);
  return tf.tidy(() => {
    let y = clip01(x);
    for (const op of order) {
      if (op === 0) y = clip01(tf.mul(y, brightness) as tf.Tensor4D);
      else if (op === 1) y = blend(y, tf.mean(gray(y), [1, 2, 3], true), contrast);
      else if (op === 2) y = c === 1 ? y : blend(y, gray(y), saturation);
      else if (op === 3) y = hueShift(y, hue);
      else y = clip01(tf.pow(y, gamma) as tf.Tensor4D);
    }
    // Output → input map of the affine about the image centre (tf.image.transform's convention).
    const cx = (w - 1) / 2;
    const cy = (h - 1) / 2;
    const cos = Math.cos(angle) / scale;
    const sin = Math.sin(angle) / scale;
    const a0 = cos;
    const a1 = sin;
    const b0 = -sin;
    const b1 = cos;
    const a2 = cx - a0 * (cx + tx) - a1 * (cy + ty);
    const b2 = cy - b0 * (cx + tx) - b1 * (cy + ty);
    const transform = tf.tensor2d([[a0, a1, a2, b0, b1, b2, 0, 0]]).tile([b, 1]) as tf.Tensor2D;
    y = tf.image.transform(y, transform, "bilinear", "nearest");
    const padded = tf.mirrorPad(y, [[0, 0], [2, 2], [2, 2], [0, 0]], "reflect");
    y = tf.depthwiseConv2d(padded, gaussianKernel(sigma, c), 1, "valid");
    if (flip) y = tf.image.flipLeftRight(y);
    y = tf.add(y, tf.tensor4d(noise, [b, h, w, c]));
    return clip01(y);
  });
}
