/**
 * A model's parameters as a flat tree of named tensors: dotted paths ("stage1.block0.conv1.weight")
 * map to tensors. Everything that treats weights as data — interpolation, EMA, soups, MAML clones,
 * checkpoints, optimizers — is a plain operation on this tree, so no module ever has to know
 * which network produced it.
 *
 * Ownership: functions that return a tree return NEW tensors the caller must dispose
 * (`disposeTree`), except where documented. Inputs are never disposed.
 */
import * as tf from "@tensorflow/tfjs";
import { ShapeError } from "./errors.js";

export type ParamTree = Record<string, tf.Tensor>;

/** Sorted keys: the canonical order for serialization and gradient lists. */
export function treeKeys(tree: ParamTree): string[] {
  return Object.keys(tree).sort();
}

/** Throws a ShapeError naming the first key or shape that differs. */
export function assertSameStructure(a: ParamTree, b: ParamTree, what = "trees"): void {
  const ka = treeKeys(a);
  const kb = treeKeys(b);
  const onlyA = ka.filter((k) => !(k in b));
  const onlyB = kb.filter((k) => !(k in a));
  if (onlyA.length || onlyB.length) {
    throw new ShapeError(
      `${what} differ in keys: only in first [${onlyA.join(", ")}], only in second [${onlyB.join(", ")}]`,
    );
  }
  for (const k of ka) {
    const sa = (a[k] as tf.Tensor).shape;
    const sb = (b[k] as tf.Tensor).shape;
    if (sa.length !== sb.length || sa.some((d, i) => d !== sb[i])) {
      throw new ShapeError(`${what} differ at "${k}": shape [${sa}] vs [${sb}]`);
    }
  }
}

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

export function disposeTree(tree: ParamTree | undefined | null): void {
  if (!tree) return;
  for (const t of Object.values(tree)) t.dispose();
}

/** Number of scalar parameters. */
export function treeSize(tree: ParamTree): number {
  let n = 0;
  for (const t of Object.values(tree)) n += t.size;
  return n;
}

/** Keys whose path starts with one of the prefixes (e.g. select the head: ["head."]). */
export function selectTree(tree: ParamTree, prefixes: string[]): ParamTree {
  const out: ParamTree = {};
  for (const k of treeKeys(tree)) if (prefixes.some((p) => k.startsWith(p))) out[k] = tree[k] as tf.Tensor;
  return out;
}

/** Union of trees (later trees win on equal keys). No copies are made. */
export function mergeTrees(...trees: ParamTree[]): ParamTree {
  return Object.assign({}, ...trees) as ParamTree;
}

/** Keep the tensors of a tree alive outside tf.tidy. Returns the same tree. */
export function keepTree(tree: ParamTree): ParamTree {
  for (const t of Object.values(tree)) tf.keep(t);
  return tree;
}

/** Bit-exact equality of two trees (same keys, shapes, dtypes and values). */
export async function treesEqual(a: ParamTree, b: ParamTree): Promise<boolean> {
  const ka = treeKeys(a);
  if (ka.join("\u0000") !== treeKeys(b).join("\u0000")) return false;
  for (const k of ka) {
    const x = a[k] as tf.Tensor;
    const y = b[k] as tf.Tensor;
    if (x.dtype !== y.dtype || x.shape.join(",") !== y.shape.join(",")) return false;
    const [dx, dy] = await Promise.all([x.data(), y.data()]);
    for (let i = 0; i < dx.length; i++) if (!Object.is(dx[i], dy[i])) return false;
  }
  return true;
}
