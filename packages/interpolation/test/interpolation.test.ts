import { beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { disposeTree, type ModelHandle, type ParamTree, treesEqual } from "@mnemo/core";
import { greedySoup, MomentumInterpolation, uniformSoup, wiseFt } from "../src/index.js";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

const tree = (w: number[], n = 1): ParamTree => ({ w: tf.tensor1d(w), "bn.count": tf.tensor1d([n], "int32") });
const values = async (t: ParamTree, k = "w") => Array.from(await (t[k] as tf.Tensor).data());

describe("WiSE-FT (§7.4.1-2)", () => {
  it("α = 0 gives θ0 exactly, α = 1 gives θ1, (θ, θ, α) gives θ, linear in α; integers copied from θ1", async () => {
    const a = tree([0.1, -3], 2);
    const b = tree([1.7, 5], 9);
    const l0 = wiseFt(a, b, 0);
    const l1 = wiseFt(a, b, 1);
    const same = wiseFt(a, a, 0.37);
    expect(await values(l0)).toEqual(await values(a));
    expect(await treesEqual(l1, b)).toBe(true);
    expect(await treesEqual(same, a)).toBe(true);
    const ls = [0.2, 0.5, 0.8].map((al) => wiseFt(a, b, al));
    const w = await Promise.all(ls.map((l) => values(l)));
    for (let i = 0; i < 2; i++) expect((w[1]![i]! - w[0]![i]!) / 0.3).toBeCloseTo((w[2]![i]! - w[1]![i]!) / 0.3, 4);
    expect(await values(ls[1]!, "bn.count")).toEqual([9]);
    expect(() => wiseFt(a, b, 1.5)).toThrow(/\[0, 1\]/);
    [a, b, l0, l1, same, ...ls].forEach(disposeTree);
  });
});

describe("model soups (§7.4.3-4)", () => {
  it("a uniform soup of N copies of θ is θ; of {θa, θb} it is the midpoint", async () => {
    const t = tree([1, 2]);
    const u = uniformSoup([t, t, t]);
    expect(await values(u)).toEqual([1, 2]);
    const a = tree([0, 4]);
    const b = tree([2, 0]);
    const mid = uniformSoup([a, b]);
    const half = wiseFt(a, b, 0.5);
    expect(await values(mid)).toEqual(await values(half));
    [t, u, a, b, mid, half].forEach(disposeTree);
  });

  it("greedy soup starts from the top held-out ingredient, never decreases, and rejects a copy of the soup", async () => {
    // Held-out "accuracy": closeness of w to the target 1 (a stand-in for a validation score).
    const heldOut = async (p: ParamTree) => 100 - 10 * Math.abs(((await (p.w as tf.Tensor).data())[0] as number) - 1);
    const ingredients = [
      { name: "far", params: tree([4]) },
      { name: "best", params: tree([1.5]) },
      { name: "copy-of-best", params: tree([1.5]) },
      { name: "helpful", params: tree([0.4]) },
    ];
    const before = tf.memory().numTensors;
    const result = await greedySoup(ingredients, heldOut);
    expect(result.steps[0]).toMatchObject({ ingredient: "best", accepted: true });
    const copy = result.steps.find((s) => s.ingredient === "copy-of-best");
    expect(copy?.accepted).toBe(false); // equal, not strictly better
    expect(result.members).toEqual(["best", "helpful"]);
    const accepted = result.steps.filter((s) => s.accepted).map((s) => s.accuracy);
    for (let i = 1; i < accepted.length; i++) expect(accepted[i]).toBeGreaterThan(accepted[i - 1]!);
    expect((await values(result.params))[0]).toBeCloseTo(0.95, 5); // mean of 1.5 and 0.4
    disposeTree(result.params);
    expect(tf.memory().numTensors).toBe(before);
    ingredients.forEach((i) => disposeTree(i.params));
  });
});

describe("momentum interpolation (§7.4.5)", () => {
  const model = (w: number): ModelHandle => ({ backbone: undefined as never, params: tree([w]), state: {}, numClasses: 1 });

  it("θ0 = 0, θf = 1, τ = 0.9: after 10 updates θ_slow = 1 − 0.9^10 = 0.6513216", async () => {
    const plugin = new MomentumInterpolation({ tau: 0.9 });
    const m0 = model(0);
    plugin.onTaskStart({ model: m0 });
    const fast = tree([1]);
    for (let j = 0; j < 10; j++) plugin.update(fast);
    expect((await values(plugin.slowWeights!))[0]).toBeCloseTo(0.6513216, 6);
    plugin.dispose();
    disposeTree(fast);
    disposeTree(m0.params);
  });

  it("τ = 0 tracks the fast weights, τ = 1 keeps the initial ones; updates only every N steps", async () => {
    const zero = new MomentumInterpolation({ tau: 0 });
    const one = new MomentumInterpolation({ tau: 1 });
    const everyThird = new MomentumInterpolation({ tau: 0.5, every: 3 });
    const m0 = model(0);
    for (const p of [zero, one, everyThird]) p.onTaskStart({ model: m0 });
    const fast = tree([2]);
    zero.update(fast);
    one.update(fast);
    expect(await values(zero.slowWeights!)).toEqual([2]);
    expect(await values(one.slowWeights!)).toEqual([0]);
    everyThird.update(fast);
    everyThird.update(fast);
    expect(await values(everyThird.slowWeights!)).toEqual([0]);
    everyThird.update(fast);
    expect(await values(everyThird.slowWeights!)).toEqual([1]);
    [zero, one, everyThird].forEach((p) => p.dispose());
    disposeTree(fast);
    disposeTree(m0.params);
  });

  it("swaps the slow weights in for evaluation and back afterwards", async () => {
    const plugin = new MomentumInterpolation({ tau: 1 });
    const m = model(0);
    plugin.onTaskStart({ model: m });
    const fastParams = m.params;
    m.params = tree([5]);
    disposeTree(fastParams);
    plugin.beforeEval(m);
    expect(await values(m.params)).toEqual([0]);
    plugin.afterEval(m);
    expect(await values(m.params)).toEqual([5]);
    plugin.dispose();
    disposeTree(m.params);
  });
});
