/**
 * OML, online-aware meta-learning (Javed & White, NeurIPS 2019; algorithms.md §9.2).
 *
 * The network is split into a representation (RLN), which only the outer loop changes, and a
 * prediction network (PLN, chosen by parameter-key prefixes), which the inner loop updates with
 * plain SGD, ONE example per step, in trajectory order. The meta-loss is the cross-entropy at the
 * final fast weights on a batch mixing random meta-training data with held-out examples of the
 * trajectory's classes; its gradient is second order (it flows back through every inner step),
 * reaching both the RLN and the PLN's initial weights. The loss is `crossEntropy`, which tfjs can
 * differentiate twice; `forward` must use such ops too (see src/cross-entropy.ts).
 */
import * as tf from "@tensorflow/tfjs";
import { type ParamTree, type RandomStream, treeKeys } from "@mnemo/core";
import { ShapeError } from "@mnemo/core/errors";
import type { LabelledSet } from "./mamlcon.js";
import { crossEntropy } from "./cross-entropy.js";
import { treeValueAndGrads } from "./tree-grad.js";

export interface OmlOptions {
  /** Logits of the model with `params` on `x` ([batch, outputs]). */
  forward: (params: ParamTree, x: tf.Tensor) => tf.Tensor;
  /** Parameter-key prefixes of the prediction network (the only part the inner loop updates). */
  plnPrefixes: string[];
  /** Inner SGD learning rate (the mrcl README's command: 0.03; its parser default 0.01). */
  innerLr?: number;
  /** Observer of every inner step: the trajectory index and the batch size (always 1). */
  onInnerStep?: (info: { index: number; batchSize: number }) => void;
}

export class Oml {
  readonly innerLr: number;

  constructor(readonly options: OmlOptions) {
    this.innerLr = options.innerLr ?? 0.03;
    if (!(this.innerLr >= 0)) throw new ShapeError(`OML innerLr must be >= 0, got ${this.innerLr}`);
    if (options.plnPrefixes.length === 0) throw new ShapeError("OML needs at least one PLN prefix (the layers the inner loop updates)");
  }

  /** Keys of the prediction network in `params`. */
  plnKeys(params: ParamTree): string[] {
    const keys = treeKeys(params).filter((k) => this.options.plnPrefixes.some((p) => k.startsWith(p)));
    if (keys.length === 0) throw new ShapeError(`OML: no parameter matches plnPrefixes [${this.options.plnPrefixes.join(", ")}]`);
    return keys;
  }

  /**
   * The inner loop: one SGD step on the PLN per trajectory example, in order. RLN entries of the
   * result are the very tensors of `params`. Differentiable when called inside a gradient tape;
   * otherwise call inside tf.tidy (or dispose the PLN entries that are not in `params`).
   */
  adapt(params: ParamTree, trajectory: LabelledSet): ParamTree {
    const pln = this.plnKeys(params);
    let current: ParamTree = params;
    const n = trajectory.y.length;
    if (trajectory.x.shape[0] !== n) throw new ShapeError(`OML trajectory: ${trajectory.x.shape[0]} inputs but ${n} labels`);
    for (let i = 0; i < n; i++) {
      const fixed = current;
      const xi = tf.slice(trajectory.x, [i], [1]);
      const yi = [trajectory.y[i] as number];
      const grads = tf.grads((...ws: tf.Tensor[]) => {
        const p: ParamTree = { ...fixed };
        pln.forEach((k, j) => (p[k] = ws[j] as tf.Tensor));
        return crossEntropy(this.options.forward(p, xi), yi);
      })(pln.map((k) => fixed[k] as tf.Tensor));
      this.options.onInnerStep?.({ index: i, batchSize: xi.shape[0] as number });
      const next: ParamTree = { ...fixed };
      pln.forEach((k, j) => (next[k] = tf.sub(fixed[k] as tf.Tensor, tf.mul(grads[j] as tf.Tensor, this.innerLr))));
      current = next;
    }
    return current;
  }

  /**
   * Meta-loss at the fast weights after the trajectory, on `metaBatch`, and its second-order
   * gradient with respect to every parameter. New tensors; `params` untouched.
   */
  metaGradient(params: ParamTree, trajectory: LabelledSet, metaBatch: LabelledSet): { loss: number; grads: ParamTree } {
    return treeValueAndGrads(params, treeKeys(params), (p) => crossEntropy(this.options.forward(this.adapt(p, trajectory), metaBatch.x), metaBatch.y));
  }

  /**
   * Re-initialise the output units of `classes` (Kaiming normal, std √(2/fan_in)) in the linear
   * weight `weightKey` of shape [in, out], as OML does for a trajectory's classes before the inner
   * loop so the PLN cannot rely on memorised outputs. Returns a new tree sharing every other tensor;
   * the replaced weight is the caller's to dispose.
   */
  resetOutputs(params: ParamTree, weightKey: string, classes: readonly number[], rng: RandomStream): ParamTree {
    const w = params[weightKey];
    if (!w || w.rank !== 2) throw new ShapeError(`OML resetOutputs: "${weightKey}" must be a [in, out] weight`);
    const [fanIn, outputs] = w.shape as [number, number];
    const data = Float32Array.from(w.dataSync());
    const std = Math.sqrt(2 / fanIn);
    for (const c of classes) {
      if (!Number.isInteger(c) || c < 0 || c >= outputs) throw new ShapeError(`OML resetOutputs: class ${c} is not an output of "${weightKey}" (${outputs} outputs)`);
      const column = rng.fillNormal(new Float32Array(fanIn), 0, std);
      for (let r = 0; r < fanIn; r++) data[r * outputs + c] = column[r] as number;
    }
    return { ...params, [weightKey]: tf.tensor2d(data, [fanIn, outputs]) };
  }
}
