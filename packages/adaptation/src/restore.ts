/**
 * CoTTA's weight-space pieces on parameter trees: the teacher's EMA (Eq. 2) and the stochastic
 * restore to the source weights (Eqs. 7–8). Order per step (reference §2.3, F4): optimiser step →
 * EMA with the post-step, pre-restore student → restore.
 */
import * as tf from "@tensorflow/tfjs";
import { type ParamTree, treeKeys } from "@mnemo/core";

/** θ' ← α θ' + (1 − α) θ for every tensor of the teacher (new tree; inputs untouched). */
export function emaUpdate(teacher: ParamTree, student: ParamTree, alpha: number): ParamTree {
  const out: ParamTree = {};
  for (const k of treeKeys(teacher)) {
    const s = student[k];
    if (!s) throw new Error(`emaUpdate: the student has no "${k}"`);
    out[k] = tf.tidy(() => tf.add(tf.mul(teacher[k] as tf.Tensor, alpha), tf.mul(s, 1 - alpha)));
  }
  return out;
}

/** M_e = 1[u_e < p] (strict, reference F5). */
export function restoreMask(u: ArrayLike<number>, p: number): Uint8Array {
  const m = new Uint8Array(u.length);
  for (let i = 0; i < u.length; i++) m[i] = (u[i] as number) < p ? 1 : 0;
  return m;
}

/** W ← M ⊙ W_0 + (1 − M) ⊙ W on host arrays (the same rule `stochasticRestore` applies to tensors). */
export function restoreValues(w: ArrayLike<number>, w0: ArrayLike<number>, mask: ArrayLike<number>): Float64Array {
  return Float64Array.from({ length: w.length }, (_, i) => ((mask[i] as number) === 1 ? (w0[i] as number) : (w[i] as number)));
}

/**
 * For every tensor in sorted key order, one uniform per element (in row-major order) from
 * `uniform`; elements with u < p go back to the source value. Returns a new tree.
 */
export function stochasticRestore(params: ParamTree, source: ParamTree, p: number, uniform: () => number): ParamTree {
  const out: ParamTree = {};
  for (const k of treeKeys(params)) {
    const w = params[k] as tf.Tensor;
    const w0 = source[k];
    if (!w0) throw new Error(`stochasticRestore: the source has no "${k}"`);
    const u = new Float64Array(w.size);
    for (let i = 0; i < u.length; i++) u[i] = uniform();
    const mask = tf.tensor(restoreMask(u, p), w.shape, "bool");
    out[k] = tf.where(mask, w0, w);
    mask.dispose();
  }
  return out;
}
