/**
 * Layers built only from ops whose tfjs gradients are themselves differentiable, for
 * second-order meta-gradients (MAML, OML) through convolutional backbones.
 *
 * Why a separate path: the fast path cannot be differentiated twice.
 * - tfjs registers no gradient for `Conv2DBackpropFilter` or `MaxPoolGrad`, so a gradient of a
 *   conv's or a max-pool's gradient throws;
 * - @mnemo/kernels' fused training-mode batch norm has a closed-form gradient kernel with no
 *   gradient of its own; eval-mode `convBnInference` / Winograd are forward-only kernels.
 * Here a convolution is im2col (pad + slices + concat) and one matMul, batch norm is written out
 * with mean / square / rsqrt (their gradients read their inputs), and a 2×2 max-pool is
 * max(a, b) = relu(a − b) + b (relu's gradient is step(x), whose gradient is zero). Every
 * derivative order is then exact. Slower than the kernels (no Winograd, no fusion): use it only
 * for second-order runs (backbones select it with `ForwardOptions.differentiableTwice`).
 */
import * as tf from "@tensorflow/tfjs";
import { ShapeError } from "@mnemo/core";

/** k×k convolution, stride 1, padding k//2 (PyTorch's padding=k//2), as im2col + matMul. */
export function conv2dTwice(x: tf.Tensor4D, w: tf.Tensor4D): tf.Tensor4D {
  const [kh, kw, cin, cout] = w.shape;
  if (kh % 2 !== 1 || kw % 2 !== 1) throw new ShapeError(`conv2dTwice: odd kernels only, got ${kh}×${kw}`);
  if (x.shape[3] !== cin) throw new ShapeError(`conv2dTwice: input has ${x.shape[3]} channels, the filter expects ${cin}`);
  const [n, h, wd] = x.shape;
  const ph = (kh - 1) / 2;
  const pw = (kw - 1) / 2;
  const padded = ph + pw > 0 ? tf.pad(x, [[0, 0], [ph, ph], [pw, pw], [0, 0]]) : x;
  const cols: tf.Tensor4D[] = [];
  // Row-major over (kh, kw), channels innermost: the order of w.reshape([kh·kw·cin, cout]).
  for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) cols.push(tf.slice(padded, [0, i, j, 0], [n, h, wd, cin]));
  const patches = cols.length === 1 ? (cols[0] as tf.Tensor4D) : tf.concat(cols, 3);
  const out = tf.matMul(tf.reshape(patches, [n * h * wd, kh * kw * cin]), tf.reshape(w, [kh * kw * cin, cout]));
  return tf.reshape(out, [n, h, wd, cout]);
}

/**
 * The activation: ReLU, or with `smooth` = δ > 0 the smooth surrogate (x + √(x² + δ²))/2 (→ ReLU
 * as δ → 0). Finite-difference checks of second-order gradients need a smooth function: ReLU's
 * and max-pool's kinks make finite differences of a gradient jump (measured: ±50% noise on a
 * Conv-4 meta-gradient), while autodiff is exact on each smooth piece either way.
 */
export function reluTwice(x: tf.Tensor, smooth = 0): tf.Tensor {
  if (smooth <= 0) return tf.relu(x);
  return tf.mul(tf.add(x, tf.sqrt(tf.add(tf.square(x), smooth * smooth))), 0.5);
}

/** max(a, b) = relu(a − b) + b: a gradient that is differentiable again (no comparison ops). */
function maxTwice(a: tf.Tensor, b: tf.Tensor, smooth: number): tf.Tensor {
  return tf.add(reluTwice(tf.sub(a, b), smooth), b);
}

/** 2×2 max-pool, stride 2, "valid" (odd trailing rows/columns dropped, as tf.maxPool); `smooth` as reluTwice. */
export function maxPool2Twice(x: tf.Tensor4D, smooth = 0): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  const h2 = Math.floor(h / 2);
  const w2 = Math.floor(w / 2);
  if (h2 < 1 || w2 < 1) throw new ShapeError(`maxPool2Twice: input [${x.shape}] is smaller than 2×2`);
  const even = h2 * 2 === h && w2 * 2 === w ? x : tf.slice(x, [0, 0, 0, 0], [n, h2 * 2, w2 * 2, c]);
  // Rows in pairs: [n·h2, 2, 2·w2·c]; then columns in pairs: [n·h2·w2, 2, c].
  const rows = tf.reshape(even, [n * h2, 2, w2 * 2 * c]);
  const r = maxTwice(tf.slice(rows, [0, 0, 0], [n * h2, 1, w2 * 2 * c]), tf.slice(rows, [0, 1, 0], [n * h2, 1, w2 * 2 * c]), smooth);
  const cols = tf.reshape(r, [n * h2 * w2, 2, c]);
  const m = maxTwice(tf.slice(cols, [0, 0, 0], [n * h2 * w2, 1, c]), tf.slice(cols, [0, 1, 0], [n * h2 * w2, 1, c]), smooth);
  return tf.reshape(m, [n, h2, w2, c]);
}

export interface BatchNormTwiceResult {
  y: tf.Tensor;
  /** Batch mean and biased variance per channel (for the running statistics). */
  mean: tf.Tensor;
  variance: tf.Tensor;
}

/** Training-mode batch norm over all axes but the last, optionally followed by ReLU (`smooth` as reluTwice). */
export function batchNormTwice(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, epsilon: number, relu: boolean, smooth = 0): BatchNormTwiceResult {
  const axes = x.shape.slice(0, -1).map((_, i) => i);
  const mean = tf.mean(x, axes);
  const centered = tf.sub(x, mean);
  const variance = tf.mean(tf.square(centered), axes);
  const affine = tf.add(tf.mul(tf.mul(centered, tf.rsqrt(tf.add(variance, epsilon))), gamma), beta);
  return { y: relu ? reluTwice(affine, smooth) : affine, mean, variance };
}
