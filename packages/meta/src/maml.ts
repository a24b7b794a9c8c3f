/**
 * MAML (Finn et al. 2017), first-order MAML and ANIL on ParamTrees, with learn2learn's tiny
 * vocabulary: `adapt(params, support)` returns adapted parameters; `metaGradient` differentiates
 * the query loss after adaptation with respect to the ORIGINAL parameters (algorithms.md §8).
 *
 * Second order: the inner gradients are computed inside the outer gradient tape, so the
 * meta-gradient includes the Hessian term (I − α∇²L_S). First order drops it by taking the query
 * gradient at the adapted parameters. The original parameters are never modified.
 */
import * as tf from "@tensorflow/tfjs";
import { type Batch, type ParamTree, treeKeys } from "@mnemo/core";
import { ShapeError } from "@mnemo/core/errors";
import { disposeAdapted, GradientMean, treeValueAndGrads } from "./tree-grad.js";

/**
 * What the task loss reads of a batch: the inputs and targets of a core `Batch` (the meta-learner
 * passes full core batches, int32 labels); regression losses (sinusoids) pass float targets.
 */
export type EpisodeBatch = Pick<Batch, "x"> & { y: tf.Tensor };

export interface EpisodeData {
  support: EpisodeBatch;
  query: EpisodeBatch;
}

export interface MamlOptions {
  /** Task loss of the model with parameters `params` on a batch (a scalar). */
  loss: (params: ParamTree, batch: EpisodeBatch) => tf.Scalar;
  /** Inner learning rate α. */
  innerLr: number;
  /** Inner steps during meta-training. */
  innerSteps: number;
  /** First-order MAML (no second derivatives). */
  firstOrder?: boolean;
  /**
   * Which parameters adapt in the inner loop (prefixes, e.g. ["head."] for ANIL);
   * all of them when omitted. The others still receive meta-gradients.
   */
  adaptPrefixes?: string[];
}

export class Maml {
  constructor(readonly options: MamlOptions) {
    if (!(options.innerLr >= 0)) throw new ShapeError(`innerLr must be >= 0, got ${options.innerLr}`);
    if (!Number.isInteger(options.innerSteps) || options.innerSteps < 0) throw new ShapeError(`innerSteps must be a non-negative integer, got ${options.innerSteps}`);
  }

  private adaptable(keys: string[]): string[] {
    const prefixes = this.options.adaptPrefixes;
    const chosen = prefixes ? keys.filter((k) => prefixes.some((p) => k.startsWith(p))) : keys;
    if (chosen.length === 0) throw new ShapeError(`no parameter matches adaptPrefixes [${prefixes?.join(", ")}]`);
    return chosen;
  }

  /**
   * `steps` SGD steps on the support loss, returning new parameters (shared tensors for keys
   * that do not adapt). Differentiable when called inside a gradient tape. The caller disposes the
   * returned tensors that are not in `params` (or calls inside tf.tidy).
   */
  adapt(params: ParamTree, support: EpisodeBatch, steps = this.options.innerSteps): ParamTree {
    const keys = this.adaptable(treeKeys(params));
    let current = params;
    for (let s = 0; s < steps; s++) {
      const fixed = current;
      const grads = tf.grads((...adapting: tf.Tensor[]) => {
        const p: ParamTree = { ...fixed };
        keys.forEach((k, i) => (p[k] = adapting[i] as tf.Tensor));
        return this.options.loss(p, support);
      })(keys.map((k) => fixed[k] as tf.Tensor));
      const next: ParamTree = { ...fixed };
      keys.forEach((k, i) => (next[k] = tf.sub(fixed[k] as tf.Tensor, tf.mul(grads[i] as tf.Tensor, this.options.innerLr))));
      current = next;
    }
    return current;
  }

  /**
   * Meta-loss (mean query loss after adaptation over the episodes) and its gradient with respect
   * to `params`. Returns new tensors; `params` are untouched.
   */
  metaGradient(params: ParamTree, episodes: readonly EpisodeData[]): { loss: number; grads: ParamTree } {
    if (episodes.length === 0) throw new ShapeError("metaGradient needs at least one episode");
    const keys = treeKeys(params);
    if (this.options.firstOrder) return this.firstOrderGradient(params, episodes, keys);
    return treeValueAndGrads(params, keys, (p) => {
      const losses = episodes.map((e) => this.options.loss(this.adapt(p, e.support), e.query));
      return tf.div(tf.addN(losses), episodes.length) as tf.Scalar;
    });
  }

  /** FOMAML: ∇_θ ≈ ∇_{θ'} L_Q(θ'), the query gradient at the adapted parameters. */
  private firstOrderGradient(params: ParamTree, episodes: readonly EpisodeData[], keys: string[]): { loss: number; grads: ParamTree } {
    let total = 0;
    const mean = new GradientMean();
    for (const e of episodes) {
      const adapted = tf.tidy(() => {
        const a = this.adapt(params, e.support);
        for (const k of keys) tf.keep(a[k] as tf.Tensor);
        return a;
      });
      const { loss, grads } = treeValueAndGrads(adapted, keys, (p) => this.options.loss(p, e.query));
      total += loss;
      mean.add(grads);
      disposeAdapted(adapted, params);
    }
    const grads = mean.mean();
    return { loss: total / episodes.length, grads };
  }
}
