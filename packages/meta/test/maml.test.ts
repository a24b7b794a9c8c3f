import { beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { disposeTree, type ParamTree, treesEqual } from "@mnemo/core";
import { type EpisodeBatch, Maml } from "../src/index.js";

// Created after the backend is chosen (importing the package registers wasm, which is not ready yet).
let none: EpisodeBatch;
let episode: { support: EpisodeBatch; query: EpisodeBatch };

beforeAll(async () => {
  await tf.setBackend("cpu");
  none = { x: tf.scalar(0), y: tf.scalar(0) };
  episode = { support: none, query: none };
});

const scalarOf = async (t: tf.Tensor) => (await t.data())[0] as number;
// §8.5.1: L_S(θ) = L_Q(θ) = ½·2(θ − 1)².
const quadratic = (p: ParamTree): tf.Scalar => tf.tidy(() => tf.square(tf.sub(p.theta as tf.Tensor, 1)).sum() as tf.Scalar);

describe("MAML on the closed-form quadratic (algorithms.md §8.5.1)", () => {
  it("θ = 0, α = 0.1: θ' = 0.2, FOMAML grad = −1.6, MAML grad = (1 − 0.2)(−1.6) = −1.28", async () => {
    const params: ParamTree = { theta: tf.scalar(0) };
    const maml = new Maml({ loss: quadratic, innerLr: 0.1, innerSteps: 1 });
    const adapted = maml.adapt(params, none);
    expect(await scalarOf(adapted.theta as tf.Tensor)).toBeCloseTo(0.2, 6);
    const second = maml.metaGradient(params, [episode]);
    const first = new Maml({ loss: quadratic, innerLr: 0.1, innerSteps: 1, firstOrder: true }).metaGradient(params, [episode]);
    expect(await scalarOf(second.grads.theta as tf.Tensor)).toBeCloseTo(-1.28, 5);
    expect(await scalarOf(first.grads.theta as tf.Tensor)).toBeCloseTo(-1.6, 5);
    expect(second.loss).toBeCloseTo(0.64, 5);
    [adapted, second.grads, first.grads, params].forEach(disposeTree);
  });

  it("matches central finite differences of θ ↦ L_Q(θ'(θ)), with several inner steps", async () => {
    const maml = new Maml({ loss: quadratic, innerLr: 0.15, innerSteps: 3 });
    const at = (theta: number) =>
      tf.tidy(() => {
        const p = { theta: tf.scalar(theta) };
        return quadratic(maml.adapt(p, none)).dataSync()[0] as number;
      });
    const h = 1e-2;
    const fd = (at(0.3 + h) - at(0.3 - h)) / (2 * h);
    const params: ParamTree = { theta: tf.scalar(0.3) };
    const { grads } = maml.metaGradient(params, [episode]);
    expect(await scalarOf(grads.theta as tf.Tensor)).toBeCloseTo(fd, 4);
    [grads, params].forEach(disposeTree);
  });

  it("α = 0: MAML = FOMAML = the plain gradient of the query loss", async () => {
    const params: ParamTree = { theta: tf.scalar(-0.7) };
    const m = new Maml({ loss: quadratic, innerLr: 0, innerSteps: 2 }).metaGradient(params, [episode]);
    const f = new Maml({ loss: quadratic, innerLr: 0, innerSteps: 2, firstOrder: true }).metaGradient(params, [episode]);
    const plain = 2 * (-0.7 - 1);
    expect(await scalarOf(m.grads.theta as tf.Tensor)).toBeCloseTo(plain, 5);
    expect(await scalarOf(f.grads.theta as tf.Tensor)).toBeCloseTo(plain, 5);
    [m.grads, f.grads, params].forEach(disposeTree);
  });
});

describe("clone isolation and ANIL", () => {
  const linear = (p: ParamTree, b: EpisodeBatch): tf.Scalar =>
    tf.tidy(() => {
      const pred = tf.add(tf.matMul(tf.relu(tf.matMul(b.x as tf.Tensor2D, p["body.w"] as tf.Tensor2D)), p["head.w"] as tf.Tensor2D), 0);
      return tf.losses.meanSquaredError(b.y, pred) as tf.Scalar;
    });
  const data = (): EpisodeBatch => ({ x: tf.tensor2d([[1, 2], [0.5, -1], [2, 0]]), y: tf.tensor2d([[1], [0], [3]]) });
  const init = (): ParamTree => ({ "body.w": tf.tensor2d([[0.3, -0.2], [0.1, 0.4]]), "head.w": tf.tensor2d([[0.5], [-0.3]]) });

  it("adapting leaves θ unchanged; two adaptations of the same θ are independent; no tensor leaks", async () => {
    const theta = init();
    const snapshot = init();
    const a = data();
    const b: EpisodeBatch = { x: a.x, y: tf.tensor2d([[0], [1], [0]]) };
    const before = tf.memory().numTensors;
    const maml = new Maml({ loss: linear, innerLr: 0.1, innerSteps: 2 });
    const adaptedA = tf.tidy(() => maml.adapt(theta, a));
    const adaptedB = tf.tidy(() => maml.adapt(theta, b));
    expect(await treesEqual(theta, snapshot)).toBe(true);
    expect(await treesEqual(adaptedA, adaptedB)).toBe(false);
    disposeTree(adaptedA);
    disposeTree(adaptedB);
    const { grads } = maml.metaGradient(theta, [{ support: a, query: b }]);
    disposeTree(grads);
    expect(tf.memory().numTensors).toBe(before);
    expect(await treesEqual(theta, snapshot)).toBe(true);
    [theta, snapshot].forEach(disposeTree);
  });

  it("ANIL adapts only the head, yet the body still gets a meta-gradient", async () => {
    const theta = init();
    const a = data();
    const anil = new Maml({ loss: linear, innerLr: 0.1, innerSteps: 1, adaptPrefixes: ["head."] });
    const adapted = anil.adapt(theta, a);
    expect(adapted["body.w"]).toBe(theta["body.w"]);
    expect(await treesEqual({ h: adapted["head.w"] as tf.Tensor }, { h: theta["head.w"] as tf.Tensor })).toBe(false);
    const { grads } = anil.metaGradient(theta, [{ support: a, query: a }]);
    expect(Math.max(...Array.from(await (grads["body.w"] as tf.Tensor).abs().data()))).toBeGreaterThan(0);
    disposeTree(grads);
    (adapted["head.w"] as tf.Tensor).dispose();
    expect(() => new Maml({ loss: linear, innerLr: 0.1, innerSteps: 1, adaptPrefixes: ["nope."] }).adapt(theta, a)).toThrow(/adaptPrefixes/);
    disposeTree(theta);
  });
});

describe("linear model with squared loss (§8.5.5)", () => {
  it("the second-order term is exactly −α·H·g with H = XᵀX/n", async () => {
    // L(w) = (1/2n)‖Xw − y‖²: ∇L = Xᵀ(Xw − y)/n, ∇²L = XᵀX/n (constant).
    const X = tf.tensor2d([[1, 2], [3, -1], [0.5, 0.5], [2, 1]]);
    const yS = tf.tensor2d([[1], [0], [2], [1]]);
    const yQ = tf.tensor2d([[0], [1], [1], [-1]]);
    const n = 4;
    const alpha = 0.05;
    const loss = (p: ParamTree, b: EpisodeBatch): tf.Scalar =>
      tf.tidy(() => tf.div(tf.square(tf.sub(tf.matMul(b.x as tf.Tensor2D, p.w as tf.Tensor2D), b.y)).sum(), 2 * n) as tf.Scalar);
    const params: ParamTree = { w: tf.tensor2d([[0.2], [-0.1]]) };
    const ep = { support: { x: X, y: yS }, query: { x: X, y: yQ } };
    const second = new Maml({ loss, innerLr: alpha, innerSteps: 1 }).metaGradient(params, [ep]);
    const first = new Maml({ loss, innerLr: alpha, innerSteps: 1, firstOrder: true }).metaGradient(params, [ep]);
    const expected = tf.tidy(() => {
      const H = tf.div(tf.matMul(X, X, true, false), n);
      return tf.sub(first.grads.w as tf.Tensor2D, tf.mul(alpha, tf.matMul(H, first.grads.w as tf.Tensor2D)));
    });
    const got = Array.from(await (second.grads.w as tf.Tensor).data());
    Array.from(await expected.data()).forEach((v, i) => expect(got[i]).toBeCloseTo(v, 5));
    [second.grads, first.grads, params].forEach(disposeTree);
    [X, yS, yQ, expected].forEach((t) => t.dispose());
  });
});

describe("second-order MAML on a classifier needs a twice-differentiable loss", () => {
  it("with crossEntropy the meta-gradient matches finite differences through two inner steps", async () => {
    const { crossEntropy } = await import("../src/index.js");
    const x = tf.tensor2d([[1, 0.5], [-0.3, 1.2], [0.8, -1], [0.1, 0.4]]);
    const batch: EpisodeBatch = { x, y: tf.tensor1d([0, 1, 2, 1], "int32") };
    const loss = (p: ParamTree, b: EpisodeBatch) => crossEntropy(tf.add(tf.matMul(tf.mul(b.x, tf.add(b.x, 1)) as tf.Tensor2D, p.w as tf.Tensor2D), p.b as tf.Tensor), b.y);
    const maml = new Maml({ loss, innerLr: 0.7, innerSteps: 2 });
    const w0 = [0.2, -0.4, 0.1, 0.5, 0.3, -0.2];
    const params: ParamTree = { w: tf.tensor2d(w0, [2, 3]), b: tf.zeros([3]) };
    const { grads } = maml.metaGradient(params, [{ support: batch, query: batch }]);
    const g = await (grads.w as tf.Tensor).data();
    const h = 1e-2;
    const at = (i: number, d: number) =>
      tf.tidy(() => {
        const w = w0.slice();
        w[i] = (w[i] as number) + d;
        const p = { w: tf.tensor2d(w, [2, 3]), b: tf.zeros([3]) };
        return loss(maml.adapt(p, batch), batch).dataSync()[0] as number;
      });
    for (let i = 0; i < 6; i++) expect(g[i]).toBeCloseTo((at(i, h) - at(i, -h)) / (2 * h), 3);
    disposeTree(grads);
    disposeTree(params);
  });
});
