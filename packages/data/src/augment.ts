import * as tf from "@tensorflow/tfjs";
import { z } from "zod";
import { ShapeError } from "@mnemo/core/errors";
import { type RandomStream } from "@mnemo/core/rng";

export const augmentationConfigSchema = z
  .strictObject({
    crop: z
      .strictObject({ padding: z.number().int().min(0).default(4).describe("Zero padding on each side before a random crop back to the input size") })
      .optional()
      .describe("Random crop with padding (CIFAR: padding 4)"),
    flip: z.boolean().default(false).describe("Random horizontal flip with probability 0.5"),
    color_jitter: z
      .strictObject({
        brightness: z.number().min(0).default(0).describe("Multiply by a factor in [1-b, 1+b]"),
        contrast: z.number().min(0).default(0).describe("Scale around the image mean by a factor in [1-c, 1+c]"),
      })
      .optional(),
    normalize: z
      .union([z.boolean(), z.strictObject({ mean: z.array(z.number()).min(1), std: z.array(z.number().positive()).min(1) })])
      .default(true)
      .describe("true: the dataset's mean/std; false: none; or explicit per-channel mean/std"),
  })
  .describe("Training-time augmentation; all randomness comes from a seeded JS stream");

export type AugmentationConfig = z.output<typeof augmentationConfigSchema>;

export interface Normalization {
  mean: readonly number[];
  std: readonly number[];
}

/**
 * Build an augmentation function for float batches in [0, 1] (NHWC). Random decisions are drawn
 * in JS from `stream` (never tf.random*), and crop + flip are one exact integer gather, so the
 * result is bit-identical across runs and backends. The returned function does not dispose its
 * input; the caller owns both tensors.
 */
export function createAugmentation(
  config: AugmentationConfig,
  stream: RandomStream,
  datasetNormalization?: Normalization,
): (batch: tf.Tensor4D) => tf.Tensor4D {
  const norm = config.normalize === true ? datasetNormalization : config.normalize === false ? undefined : config.normalize;
  if (config.normalize === true && !datasetNormalization) {
    throw new ShapeError("augmentation normalize: true needs the dataset's mean/std; this dataset has none, give mean/std explicitly or set normalize: false");
  }
  return (batch) => {
    const [n, h, w, c] = batch.shape;
    if (norm && (norm.mean.length !== c || norm.std.length !== c)) {
      throw new ShapeError(`normalization has ${norm.mean.length} means / ${norm.std.length} stds for ${c} channels`);
    }
    // Draw every random number first, in a fixed order, so the stream advances identically
    // whatever the options' internal evaluation order.
    const pad = config.crop?.padding ?? 0;
    const offsets = new Int32Array(2 * n);
    const flips = new Uint8Array(n);
    const bright = new Float32Array(n).fill(1);
    const contrast = new Float32Array(n).fill(1);
    for (let i = 0; i < n; i++) {
      if (config.crop) {
        offsets[2 * i] = stream.int(2 * pad + 1);
        offsets[2 * i + 1] = stream.int(2 * pad + 1);
      }
      if (config.flip) flips[i] = stream.bernoulli(0.5) ? 1 : 0;
      if (config.color_jitter) {
        const b = config.color_jitter.brightness;
        const k = config.color_jitter.contrast;
        if (b > 0) bright[i] = stream.uniform(1 - b, 1 + b);
        if (k > 0) contrast[i] = stream.uniform(1 - k, 1 + k);
      }
    }
    return tf.tidy(() => {
      let x: tf.Tensor4D = batch;
      if (config.crop || config.flip) {
        const hp = h + 2 * pad;
        const wp = w + 2 * pad;
        const padded = pad > 0 ? tf.pad(x, [[0, 0], [pad, pad], [pad, pad], [0, 0]]) : x;
        // Row index into the padded batch viewed as [n*hp*wp, c] for every output pixel.
        const index = new Int32Array(n * h * w);
        let o = 0;
        for (let i = 0; i < n; i++) {
          const oy = offsets[2 * i] as number;
          const ox = offsets[2 * i + 1] as number;
          const flip = flips[i] === 1;
          for (let y = 0; y < h; y++) {
            for (let xo = 0; xo < w; xo++) {
              const sx = flip ? w - 1 - xo : xo;
              index[o++] = (i * hp + y + oy) * wp + sx + ox;
            }
          }
        }
        x = tf.gather(padded.reshape([n * hp * wp, c]), tf.tensor1d(index, "int32")).reshape([n, h, w, c]);
      }
      if (config.color_jitter) {
        const b = tf.tensor4d(bright, [n, 1, 1, 1]);
        const k = tf.tensor4d(contrast, [n, 1, 1, 1]);
        x = x.mul(b) as tf.Tensor4D;
        const mean = x.mean([1, 2, 3], true);
        x = x.sub(mean).mul(k).add(mean).clipByValue(0, 1) as tf.Tensor4D;
      }
      if (norm) {
        x = x.sub(tf.tensor1d([...norm.mean])).div(tf.tensor1d([...norm.std])) as tf.Tensor4D;
      }
      // tidy would dispose the input if we returned it unchanged; return a copy instead.
      return x === batch ? x.clone() : x;
    });
  };
}
