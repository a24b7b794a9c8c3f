import * as tf from "@tensorflow/tfjs";
import { range, type Backbone, type ImageSet, type Normalization, type ParamTree } from "@mnemo/core";
import { imagesToTensor } from "@mnemo/core/tf";
import type { DenseMatrix } from "../dense.js";

/** A frozen backbone: its parameters and batch-norm state, used in inference mode only. */
export interface FrozenModel {
  backbone: Backbone;
  params: ParamTree;
  state: ParamTree;
}

/**
 * Features φ(x) of every image of a set, row-major. Inputs go through `imagesToTensor` exactly as
 * in evaluation, so prototypes and queries see the same preprocessing (the "test transform").
 */
export async function embedSet(model: FrozenModel, set: ImageSet, normalization: Normalization | undefined, batchSize = 256): Promise<DenseMatrix & { data: Float32Array }> {
  const d = model.backbone.featureDim;
  const out = new Float32Array(set.count * d);
  for (let start = 0; start < set.count; start += batchSize) {
    const end = Math.min(set.count, start + batchSize);
    const feats = tf.tidy(() => featuresOf(model, imagesToTensor(set, range(start, end), normalization), false));
    try {
      out.set(await feats.data<"float32">(), start * d);
    } finally {
      feats.dispose();
    }
  }
  return { data: out, rows: set.count, cols: d };
}

/**
 * `embedSet` for callers that cannot wait (a plugin's `scores`, inside the learner's predict):
 * the same features, read synchronously. `mirror` flips every image horizontally first (iCaRL's
 * flip averaging).
 */
export function embedSetSync(model: FrozenModel, set: ImageSet, normalization: Normalization | undefined, batchSize = 256, mirror = false): DenseMatrix & { data: Float32Array } {
  const d = model.backbone.featureDim;
  const out = new Float32Array(set.count * d);
  for (let start = 0; start < set.count; start += batchSize) {
    const end = Math.min(set.count, start + batchSize);
    tf.tidy(() => out.set(featuresOf(model, imagesToTensor(set, range(start, end), normalization), mirror).dataSync() as Float32Array, start * d));
  }
  return { data: out, rows: set.count, cols: d };
}

/** Eval-mode features of a normalised NHWC batch, optionally mirrored along the width. */
export function featuresOf(model: FrozenModel, x: tf.Tensor, mirror: boolean): tf.Tensor2D {
  return tf.tidy(() => model.backbone.apply(model.params, mirror ? tf.reverse(x, 2) : x, { training: false, state: model.state }).features);
}
