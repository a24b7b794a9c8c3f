import { beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { RandomStream, disposeTree, type ParamTree } from "@mnemo/core";
import { Oml, crossEntropy } from "../src/index.js";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

const D = 6;
const H = 10;
const C = 5;

/**
 * RLN: one layer with a smooth activation z − z³/10 (smooth, so finite differences are exact; built
 * from Mul, whose gradient is twice differentiable in tfjs, unlike Tanh's: src/cross-entropy.ts).
 * PLN: a linear layer.
 */
const act = (z: tf.Tensor) => tf.sub(z, tf.mul(tf.mul(tf.mul(z, z), z), 0.1));
const forward = (p: ParamTree, x: tf.Tensor): tf.Tensor =>
  tf.add(tf.matMul(act(tf.matMul(x as tf.Tensor2D, p["rln.w"] as tf.Tensor2D)) as tf.Tensor2D, p["pln.w"] as tf.Tensor2D), p["pln.b"] as tf.Tensor);

function initParams(seed: number): ParamTree {
  const rng = new RandomStream(seed);
  return {
    "rln.w": tf.tensor2d(rng.fillNormal(new Float32Array(D * H), 0, 0.6), [D, H]),
    "pln.w": tf.tensor2d(rng.fillNormal(new Float32Array(H * C), 0, 0.4), [H, C]),
    "pln.b": tf.zeros([C]),
  };
}

function data(n: number, seed: number): { x: tf.Tensor2D; y: Int32Array } {
  const rng = new RandomStream(seed);
  return { x: tf.tensor2d(rng.fillNormal(new Float32Array(n * D)), [n, D]), y: Int32Array.from({ length: n }, () => rng.int(C)) };
}

const metaLoss = (oml: Oml, p: ParamTree, traj: { x: tf.Tensor; y: Int32Array }, batch: { x: tf.Tensor; y: Int32Array }): number =>
  tf.tidy(() => {
    const fast = oml.adapt(p, traj);
    return crossEntropy(forward(fast, batch.x), batch.y).dataSync()[0] as number;
  });

describe("OML (algorithms.md §9.2 sanity tests)", () => {
  it("the inner loop leaves the RLN bit-identical and takes exactly one single-example step per trajectory item", async () => {
    const steps: { index: number; batchSize: number }[] = [];
    const oml = new Oml({ forward, plnPrefixes: ["pln."], innerLr: 0.1, onInnerStep: (s) => steps.push(s) });
    const params = initParams(1);
    const traj = data(7, 2);
    const before = await (params["rln.w"] as tf.Tensor).data();
    const fast = tf.tidy(() => {
      const f = oml.adapt(params, traj);
      for (const k of ["pln.w", "pln.b"]) tf.keep(f[k] as tf.Tensor);
      return f;
    });
    expect(fast["rln.w"]).toBe(params["rln.w"]);
    expect(await (fast["rln.w"] as tf.Tensor).data()).toEqual(before);
    expect(steps).toEqual(Array.from({ length: 7 }, (_, index) => ({ index, batchSize: 1 })));
    // ...and the PLN did move.
    const moved = await tf.tidy(() => tf.max(tf.abs(tf.sub(fast["pln.w"] as tf.Tensor, params["pln.w"] as tf.Tensor)))).data();
    expect(moved[0]).toBeGreaterThan(1e-3);
    tf.dispose([fast["pln.w"] as tf.Tensor, fast["pln.b"] as tf.Tensor, traj.x]);
    disposeTree(params);
  });

  it("with α = 0 the meta-loss is the loss at θ", () => {
    const oml = new Oml({ forward, plnPrefixes: ["pln."], innerLr: 0 });
    const params = initParams(3);
    const traj = data(5, 4);
    const batch = data(16, 5);
    const { loss, grads } = oml.metaGradient(params, traj, batch);
    const direct = tf.tidy(() => tf.losses.softmaxCrossEntropy(tf.oneHot(tf.tensor1d(batch.y, "int32"), C), forward(params, batch.x)).dataSync()[0] as number);
    expect(loss).toBeCloseTo(tf.tidy(() => crossEntropy(forward(params, batch.x), batch.y).dataSync()[0] as number), 6);
    expect(loss).toBeCloseTo(direct, 6);
    disposeTree(grads);
    tf.dispose([traj.x, batch.x]);
    disposeTree(params);
  });

  it("the meta-gradient is second order: it matches finite differences through the trajectory, for RLN and PLN weights", async () => {
    const oml = new Oml({ forward, plnPrefixes: ["pln."], innerLr: 0.5 });
    const params = initParams(6);
    const traj = data(6, 7);
    const batch = data(24, 8);
    const { loss, grads } = oml.metaGradient(params, traj, batch);
    expect(loss).toBeCloseTo(metaLoss(oml, params, traj, batch), 5);
    const h = 1e-2;
    for (const [key, index] of [
      ["rln.w", 7],
      ["rln.w", 31],
      ["pln.w", 12],
    ] as const) {
      const base = await (params[key] as tf.Tensor).data();
      const at = (delta: number) => {
        const v = Float32Array.from(base);
        v[index] = (v[index] as number) + delta;
        const t = tf.tensor(v, (params[key] as tf.Tensor).shape);
        const l = metaLoss(oml, { ...params, [key]: t }, traj, batch);
        t.dispose();
        return l;
      };
      const fd = (at(h) - at(-h)) / (2 * h);
      const g = ((await (grads[key] as tf.Tensor).data())[index]) as number;
      expect(Math.abs(g - fd), `${key}[${index}]: analytic ${g}, finite difference ${fd}`).toBeLessThan(2e-3 + 0.02 * Math.abs(fd));
    }
    disposeTree(grads);
    tf.dispose([traj.x, batch.x]);
    disposeTree(params);
  });

  it("resets only the trajectory classes' output units, with Kaiming scale", async () => {
    const oml = new Oml({ forward, plnPrefixes: ["pln."] });
    const fanIn = 400;
    const w = tf.tensor2d(new Float32Array(fanIn * C).fill(0.25), [fanIn, C]);
    const out = oml.resetOutputs({ "pln.w": w }, "pln.w", [1, 3], new RandomStream(9));
    const v = await (out["pln.w"] as tf.Tensor).data();
    const column = (c: number) => Array.from({ length: fanIn }, (_, r) => v[r * C + c] as number);
    for (const c of [0, 2, 4]) expect(column(c).every((x) => x === 0.25)).toBe(true);
    for (const c of [1, 3]) {
      const col = column(c);
      const std = Math.sqrt(col.reduce((a, x) => a + x * x, 0) / fanIn);
      expect(std).toBeGreaterThan(0.8 * Math.sqrt(2 / fanIn));
      expect(std).toBeLessThan(1.2 * Math.sqrt(2 / fanIn));
    }
    expect(() => oml.resetOutputs({ "pln.w": w }, "pln.w", [5], new RandomStream(1))).toThrow(/class 5 is not an output/);
    tf.dispose([w, out["pln.w"] as tf.Tensor]);
  });

  it("leaves no tensors behind in metaGradient, and rejects a model without PLN parameters", () => {
    const oml = new Oml({ forward, plnPrefixes: ["pln."] });
    const params = initParams(10);
    const traj = data(4, 11);
    const batch = data(8, 12);
    const before = tf.memory().numTensors;
    disposeTree(oml.metaGradient(params, traj, batch).grads);
    expect(tf.memory().numTensors).toBe(before);
    expect(() => new Oml({ forward, plnPrefixes: ["head."] }).adapt(params, traj)).toThrow(/no parameter matches plnPrefixes \[head.\]/);
    tf.dispose([traj.x, batch.x]);
    disposeTree(params);
  });
});
