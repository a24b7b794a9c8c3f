/**
 * Tree arithmetic: new trees from old ones (interpolation, EMA, soups, MAML clones). Needs
 * tfjs at run time, so it is exported from `@mnemo/core/tf`, not from the root entry.
 *
 * Ownership: functions that return a tree return NEW tensors the caller must dispose
 * (`disposeTree`). Inputs are never disposed.
 */
import * as tf from "@tensorflow/tfjs";
import { assertSameStructure, treeKeys, type ParamTree } from "./param-tree.js";

/** New tree with fn applied to every tensor. */
export function mapTree(tree: ParamTree, fn: (t: tf.Tensor, key: string) => tf.Tensor): ParamTree {
  const out: ParamTree = {};
  for (const k of treeKeys(tree)) out[k] = tf.tidy(() => fn(tree[k] as tf.Tensor, k));
  return out;
}

/** New tree combining matching leaves of two trees of identical structure. */
export function zipTree(
  a: ParamTree,
  b: ParamTree,
  fn: (x: tf.Tensor, y: tf.Tensor, key: string) => tf.Tensor,
): ParamTree {
  assertSameStructure(a, b);
  const out: ParamTree = {};
  for (const k of treeKeys(a)) out[k] = tf.tidy(() => fn(a[k] as tf.Tensor, b[k] as tf.Tensor, k));
  return out;
}

/**
 * (1 - t)·a + t·b for float leaves. Integer leaves (e.g. BN counters) are never interpolated:
 * they are copied from `b`, the explicit policy of algorithms.md §7.4.2.
 */
export function lerpTree(a: ParamTree, b: ParamTree, t: number): ParamTree {
  return zipTree(a, b, (x, y) => {
    if (x.dtype !== "float32") return y.clone();
    if (t === 0) return x.clone();
    if (t === 1) return y.clone();
    return tf.add(tf.mul(x, 1 - t), tf.mul(y, t));
  });
}

/** Deep copy (new tensors). */
export function cloneTree(tree: ParamTree): ParamTree {
  return mapTree(tree, (t) => t.clone());
}

/** Keep the tensors of a tree alive outside tf.tidy. Returns the same tree. */
export function keepTree(tree: ParamTree): ParamTree {
  for (const t of Object.values(tree)) tf.keep(t);
  return tree;
}
