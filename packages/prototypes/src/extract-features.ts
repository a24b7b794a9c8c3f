import * as tf from "@tensorflow/tfjs";
import { ShapeError } from "@mnemo/core";
import type { DenseMatrix } from "./dense.js";

/** NHWC uint8 images, `count × h × w × c` values, row-major. */
export interface ImageSet {
  images: Uint8Array;
  count: number;
  shape: [number, number, number];
}

export interface ExtractFeaturesOptions {
  /** Images per forward pass. Default 256. Only one batch of float32 pixels exists at a time. */
  batchSize?: number;
  /** Normalisation on the float32 batch (values still in [0, 255]), e.g. `x => x.div(255).sub(mean).div(std)`. */
  preprocess?: (x: tf.Tensor4D) => tf.Tensor4D;
  /** Called after each batch with the number of images done. */
  onBatch?: (done: number, total: number) => void;
}

/**
 * Run a frozen backbone over uint8 images, batch by batch, and collect its features as a row-major
 * Float32Array (count × d) that every classifier here accepts. Each batch's tensors live inside
 * `tf.tidy`; only the output is kept long enough to download, so no tensor outlives the call.
 */
export async function extractFeatures(
  forward: (batch: tf.Tensor4D) => tf.Tensor2D,
  images: ImageSet,
  options: ExtractFeaturesOptions = {},
): Promise<DenseMatrix & { data: Float32Array }> {
  const { count, shape } = images;
  const [h, w, c] = shape;
  const per = h * w * c;
  if (![count, h, w, c].every((v) => Number.isInteger(v) && v >= 0) || per === 0) {
    throw new ShapeError(`images: count ${count} and shape [${shape.join(", ")}] must be non-negative integers with h·w·c > 0`);
  }
  if (images.images.length !== count * per) {
    throw new ShapeError(`images: got ${images.images.length} bytes but count × h × w × c = ${count} × ${h} × ${w} × ${c} = ${count * per}; expected NHWC uint8`);
  }
  const batchSize = options.batchSize ?? 256;
  if (!Number.isInteger(batchSize) || batchSize <= 0) throw new ShapeError(`batchSize must be a positive integer, got ${batchSize}`);

  let dim = -1;
  let out = new Float32Array(0);
  for (let start = 0; start < count; start += batchSize) {
    const n = Math.min(batchSize, count - start);
    const feats = tf.tidy(() => {
      // Convert only this batch to float32: the whole set as float32 would be 4× the uint8 bytes.
      const pixels = Float32Array.from(images.images.subarray(start * per, (start + n) * per));
      let x: tf.Tensor4D = tf.tensor4d(pixels, [n, h, w, c], "float32");
      if (options.preprocess) x = options.preprocess(x);
      return forward(x);
    });
    try {
      if (feats.rank !== 2 || feats.shape[0] !== n) {
        throw new ShapeError(`forward() returned shape [${feats.shape.join(", ")}] for a batch of ${n}; it must return [batch, featureDim]`);
      }
      const d = feats.shape[1];
      if (dim === -1) {
        dim = d;
        out = new Float32Array(count * d);
      } else if (d !== dim) {
        throw new ShapeError(`forward() returned ${d} features for batch at ${start} but ${dim} before; the backbone must be deterministic in shape`);
      }
      out.set(await feats.data<"float32">(), start * dim);
    } finally {
      feats.dispose();
    }
    options.onBatch?.(start + n, count);
  }
  return { data: out, rows: count, cols: Math.max(dim, 0) };
}
