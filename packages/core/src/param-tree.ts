/**
 * A model's parameters as a flat tree of named tensors: dotted paths ("stage1.block0.conv1.weight")
 * map to tensors. Everything that treats weights as data — interpolation, EMA, soups, MAML clones,
 * checkpoints, optimizers — is a plain operation on this tree, so no module ever has to know
 * which network produced it.
 *
 * This module needs no tfjs at run time (it only reads keys, shapes and values, and disposes):
 * it is part of the root entry. The tree arithmetic (`mapTree`, `zipTree`, `lerpTree`,
 * `cloneTree`, `keepTree`) needs tfjs and lives in `tree-ops.ts`, entry `@mnemo/core/tf`.
 *
 * Ownership: functions that return a tree return NEW tensors the caller must dispose
 * (`disposeTree`), except where documented. Inputs are never disposed.
 */
import type * as tf from "@tensorflow/tfjs";
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
