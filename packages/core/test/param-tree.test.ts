import { beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { disposeTree, type ParamTree, ShapeError, treesEqual, treeSize } from "../src/index.js";
import { cloneTree, lerpTree, mapTree, zipTree } from "../src/tf.js";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

function linearModel(): ParamTree {
  return { "fc.weight": tf.tensor2d([[0.5], [-0.25]]), "fc.bias": tf.tensor1d([0.1]) };
}

describe("ParamTree", () => {
  it("clone-and-adapt on a tiny linear model leaves the original untouched", async () => {
    const before = tf.memory().numTensors;
    const theta = linearModel();
    const snapshot = cloneTree(theta);
    const x = tf.tensor2d([[1, 2], [3, -1], [0.5, 0.5]]);
    const y = tf.tensor2d([[1], [0], [2]]);
    const keys = ["fc.bias", "fc.weight"];
    const loss = (w: tf.Tensor, bias: tf.Tensor): tf.Scalar =>
      tf.losses.meanSquaredError(y, tf.add(tf.matMul(x, w as tf.Tensor2D), bias)) as tf.Scalar;

    // One inner SGD step on a clone (MAML's adapt).
    const clone = cloneTree(theta);
    const { grads, value } = tf.valueAndGrads((b: tf.Tensor, w: tf.Tensor) => loss(w, b))(keys.map((k) => clone[k] as tf.Tensor));
    const adapted = zipTree(clone, { "fc.bias": grads[0] as tf.Tensor, "fc.weight": grads[1] as tf.Tensor }, (p, g) => tf.sub(p, tf.mul(g, 0.1)));

    expect(await treesEqual(theta, snapshot)).toBe(true);
    expect(await treesEqual(adapted, theta)).toBe(false);
    const newLoss = tf.tidy(() => loss(adapted["fc.weight"] as tf.Tensor, adapted["fc.bias"] as tf.Tensor));
    expect((await newLoss.data())[0]).toBeLessThan((await value.data())[0] as number);

    for (const t of [x, y, value, newLoss, ...grads]) t.dispose();
    for (const tree of [theta, snapshot, clone, adapted]) disposeTree(tree);
    expect(tf.memory().numTensors).toBe(before);
  });

  it("lerp: 0 gives a, 1 gives b, (a, a, t) gives a, linear in t", async () => {
    const a: ParamTree = { w: tf.tensor1d([0, 2]), n: tf.tensor1d([1], "int32") };
    const b: ParamTree = { w: tf.tensor1d([4, -2]), n: tf.tensor1d([5], "int32") };
    const l0 = lerpTree(a, b, 0);
    const l1 = lerpTree(a, b, 1);
    const lh = lerpTree(a, b, 0.25);
    const la = lerpTree(a, a, 0.7);
    expect(await treesEqual(l0, { w: a.w as tf.Tensor, n: b.n as tf.Tensor })).toBe(true);
    expect(await treesEqual(l1, b)).toBe(true);
    expect(Array.from(await (lh.w as tf.Tensor).data())).toEqual([1, 1]);
    expect(Array.from(await (lh.n as tf.Tensor).data())).toEqual([5]); // integers are copied from b
    expect(Array.from(await (la.w as tf.Tensor).data())).toEqual([0, 2]);
    [a, b, l0, l1, lh, la].forEach(disposeTree);
  });

  it("zip refuses trees of different structure, naming the key", () => {
    const a: ParamTree = { w: tf.zeros([2, 3]) };
    const b: ParamTree = { w: tf.zeros([3, 2]) };
    const c: ParamTree = { v: tf.zeros([2, 3]) };
    expect(() => zipTree(a, b, (x) => x)).toThrow(/"w": shape \[2,3\] vs \[3,2\]/);
    expect(() => zipTree(a, c, (x) => x)).toThrow(ShapeError);
    [a, b, c].forEach(disposeTree);
  });

  it("map and size", async () => {
    const a: ParamTree = { w: tf.ones([2, 3]), b: tf.ones([3]) };
    const doubled = mapTree(a, (t) => tf.mul(t, 2));
    expect(treeSize(doubled)).toBe(9);
    expect(Array.from(await (doubled.b as tf.Tensor).data())).toEqual([2, 2, 2]);
    [a, doubled].forEach(disposeTree);
  });
});
