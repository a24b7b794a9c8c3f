/**
 * Gradient plumbing shared by MAML, MAMLCon and OML: differentiate a scalar function of a
 * ParamTree, average gradients over episodes, and free an adapted tree's own tensors.
 */
import * as tf from "@tensorflow/tfjs";
import { disposeTree, type ParamTree } from "@mnemo/core";

/** The value of `f` at `params` and its gradient for every key in `keys` (new tensors). */
export function treeValueAndGrads(params: ParamTree, keys: readonly string[], f: (p: ParamTree) => tf.Scalar): { loss: number; grads: ParamTree } {
  const { value, grads } = tf.valueAndGrads((...ts: tf.Tensor[]) => {
    const p: ParamTree = {};
    keys.forEach((k, i) => (p[k] = ts[i] as tf.Tensor));
    return f(p);
  })(keys.map((k) => params[k] as tf.Tensor));
  const out: ParamTree = {};
  keys.forEach((k, i) => (out[k] = grads[i] as tf.Tensor));
  const loss = value.dataSync()[0] as number;
  value.dispose();
  return { loss, grads: out };
}

/** Running sum of gradient trees (the added trees are consumed), read out as their mean. */
export class GradientMean {
  private readonly sum: ParamTree = {};
  private count = 0;

  add(grads: ParamTree): void {
    for (const [k, g] of Object.entries(grads)) {
      const prev = this.sum[k];
      this.sum[k] = prev ? tf.tidy(() => tf.add(prev, g)) : g.clone();
      prev?.dispose();
      g.dispose();
    }
    this.count++;
  }

  /** The mean gradient (new tensors); frees the running sum. */
  mean(): ParamTree {
    const out: ParamTree = {};
    for (const [k, s] of Object.entries(this.sum)) out[k] = tf.tidy(() => tf.div(s, this.count));
    disposeTree(this.sum);
    return out;
  }
}

/** Frees the tensors of `adapted` that are not shared with `params` (the ones adaptation made). */
export function disposeAdapted(adapted: ParamTree, params: ParamTree): void {
  for (const [k, t] of Object.entries(adapted)) if (t !== params[k]) t.dispose();
}
