/**
 * Cosine classifier head (TEEN/CEC `ft_cos`, PILOT `CosineLinear` with a fixed scale):
 * logits = s · cos(n(f), n(w_k)) with n(v) = v / max(‖v‖, ε) and a bias-free weight.
 * Training the base session with it makes the features suit the cosine prototype classifier
 * used afterwards, which is why TEEN trains this way rather than with a linear head.
 */
import * as tf from "@tensorflow/tfjs";
import { ShapeError, type Backbone, type ForwardOptions, type ForwardResult, type InitializedModel, type ParamTree, type RandomStream } from "@mnemo/core";
import { linearWeight } from "../layers/init.js";

export interface CosineHeadOptions {
  /** s in s·cos (TEEN's `temperature`: 16 on CIFAR-100, 32 on miniImageNet/CUB). */
  scale?: number;
}

/** Squared-norm floor: ε = 1e-12 as in torch `F.normalize`, squared because we clamp ‖v‖². */
const EPS2 = 1e-24;

/** Rows (axis 1) or columns (axis 0) divided by their L2 norm; zero vectors stay zero (finite gradient). */
export function l2Normalize<T extends tf.Tensor2D>(x: T, axis: 0 | 1): T {
  return tf.tidy(() => tf.mul(x, tf.rsqrt(tf.maximum(tf.sum(tf.square(x), axis, true), EPS2))) as T);
}

/** s · n(features) · n(weight): features [b, d], weight [d, C] (one column per class) → [b, C]. */
export function cosineLogits(features: tf.Tensor2D, weight: tf.Tensor2D, scale: number): tf.Tensor2D {
  return tf.tidy(() => tf.mul(tf.matMul(l2Normalize(features, 1), l2Normalize(weight, 0)), scale) as tf.Tensor2D);
}

/**
 * Wraps a backbone so its head is a cosine classifier. The wrapped tree keeps the inner
 * backbone's parameters and its `head.weight` [d, C] (now the cosine weight) but has no bias, so
 * every trainable tensor gets a gradient. The inner forward still computes its linear logits with
 * a zero bias; they are discarded (one [b, d]×[d, C] product, negligible next to the backbone).
 */
export function cosineHead(inner: Backbone, options: CosineHeadOptions = {}): Backbone {
  const scale = options.scale ?? 16;
  if (!(scale > 0) || !Number.isFinite(scale)) throw new ShapeError(`cosine head scale must be finite and > 0, got ${scale}`);
  const prefix = inner.headPrefix;
  const weightKey = `${prefix}weight`;
  const biasKey = `${prefix}bias`;
  const weightOf = (params: ParamTree): tf.Tensor2D => {
    const w = params[weightKey];
    if (!w || w.rank !== 2) throw new ShapeError(`cosine head: no 2-d "${weightKey}" in the parameter tree`);
    return w as tf.Tensor2D;
  };

  return {
    name: `${inner.name}+cosine`,
    inputShape: inner.inputShape,
    featureDim: inner.featureDim,
    headPrefix: prefix,
    init(rng: RandomStream, numClasses: number): InitializedModel {
      const { params, state } = inner.init(rng, numClasses);
      params[biasKey]?.dispose();
      delete params[biasKey];
      return { params, state };
    },
    apply(params: ParamTree, x: tf.Tensor, forward: ForwardOptions): ForwardResult {
      // tidy keeps the inner logits and the zero bias from leaking when a caller runs apply outside one.
      return tf.tidy(() => {
        const w = weightOf(params);
        const out = inner.apply({ ...params, [biasKey]: tf.zeros([w.shape[1]]) }, x, forward);
        const logits = cosineLogits(out.features, w, scale);
        return out.state ? { features: out.features, logits, state: out.state } : { features: out.features, logits };
      });
    },
    growHead(params: ParamTree, numClasses: number, rng: RandomStream): ParamTree {
      const w = weightOf(params);
      const [d, old] = w.shape;
      if (numClasses < old) throw new ShapeError(`a head only grows: it has ${old} classes, asked for ${numClasses}`);
      if (numClasses === old) return { ...params };
      const grown = tf.tidy(() => tf.concat([w, linearWeight(rng, d, numClasses - old)], 1));
      return { ...params, [weightKey]: grown };
    },
  };
}
