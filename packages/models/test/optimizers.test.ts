import { beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { disposeTree, type ParamTree } from "@mnemo/core";
import { createOptimizer, learningRate, type OptimizerConfig } from "../src/index.js";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

/** Runs `steps` updates with gradient g(p) and returns the parameter trajectory (torch.optim semantics). */
async function trajectory(config: OptimizerConfig, lr: number, steps: number, grad: (p: number) => number, p0 = 1): Promise<number[]> {
  const opt = createOptimizer(config);
  let params: ParamTree = { w: tf.scalar(p0) };
  const out: number[] = [];
  for (let k = 0; k < steps; k++) {
    const p = (await (params.w as tf.Tensor).data())[0] as number;
    const grads: ParamTree = { w: tf.scalar(grad(p)) };
    const next = opt.step(params, grads, lr);
    disposeTree(params);
    disposeTree(grads);
    params = next;
    out.push((await (params.w as tf.Tensor).data())[0] as number);
  }
  disposeTree(params);
  opt.dispose();
  return out;
}

describe("SGD (torch.optim.SGD semantics)", () => {
  it("plain SGD: p -= lr * g", async () => {
    const t = await trajectory({ name: "sgd" }, 0.1, 2, () => 1);
    expect(t[0]).toBeCloseTo(0.9, 6);
    expect(t[1]).toBeCloseTo(0.8, 6);
  });
  it("momentum: buffer starts at the first gradient (v1 = g, v2 = mu*v1 + g)", async () => {
    const t = await trajectory({ name: "sgd", momentum: 0.9 }, 0.1, 3, () => 1);
    expect(t[0]).toBeCloseTo(1 - 0.1, 6);
    expect(t[1]).toBeCloseTo(1 - 0.1 - 0.1 * 1.9, 6);
    expect(t[2]).toBeCloseTo(1 - 0.1 - 0.19 - 0.1 * 2.71, 6);
  });
  it("nesterov: update = g + mu * v", async () => {
    const t = await trajectory({ name: "sgd", momentum: 0.9, nesterov: true }, 0.1, 2, () => 1);
    expect(t[0]).toBeCloseTo(1 - 0.1 * 1.9, 6);
    expect(t[1]).toBeCloseTo(1 - 0.19 - 0.1 * (1 + 0.9 * 1.9), 6);
  });
  it("weight decay adds wd * p to the gradient", async () => {
    const t = await trajectory({ name: "sgd", weightDecay: 0.5 }, 0.1, 1, () => 0, 2);
    expect(t[0]).toBeCloseTo(2 - 0.1 * 0.5 * 2, 6);
  });
});

describe("Adam (torch.optim.Adam semantics)", () => {
  it("the first step moves every parameter by lr (bias correction)", async () => {
    const t = await trajectory({ name: "adam" }, 0.01, 1, () => 123);
    expect(t[0]).toBeCloseTo(1 - 0.01, 5);
  });
  it("matches a hand-computed second step", async () => {
    const g = [2, -1];
    let k = 0;
    const t = await trajectory({ name: "adam", beta1: 0.9, beta2: 0.999 }, 0.1, 2, () => g[k++] as number);
    const m = 0.9 * (0.1 * 2) + 0.1 * -1;
    const v = 0.999 * (0.001 * 4) + 0.001 * 1;
    const update = m / (1 - 0.9 ** 2) / (Math.sqrt(v / (1 - 0.999 ** 2)) + 1e-8);
    expect(t[1]).toBeCloseTo(0.9 - 0.1 * update, 5);
  });
  it("decoupled weight decay (AdamW) shrinks the weight, not the gradient", async () => {
    const t = await trajectory({ name: "adam", weightDecay: 0.1, decoupled: true }, 0.01, 1, () => 0, 2);
    expect(t[0]).toBeCloseTo(2 * (1 - 0.01 * 0.1), 6);
  });
  it("state round-trips: a restored optimizer continues identically", async () => {
    const a = createOptimizer({ name: "adam" });
    let p: ParamTree = { w: tf.tensor1d([1, 2]) };
    const g: ParamTree = { w: tf.tensor1d([0.5, -0.5]) };
    const p1 = a.step(p, g, 0.1);
    const b = createOptimizer({ name: "adam" });
    const st = a.getState();
    b.setState({ step: st.step, slots: Object.fromEntries(Object.entries(st.slots).map(([k, t]) => [k, t.clone()])) });
    const pa = a.step(p1, g, 0.1);
    const pb = b.step(p1, g, 0.1);
    expect(Array.from(await (pa.w as tf.Tensor).data())).toEqual(Array.from(await (pb.w as tf.Tensor).data()));
    [p, g, p1, pa, pb].forEach(disposeTree);
    a.dispose();
    b.dispose();
    p = {};
  });
});

describe("learning-rate schedules", () => {
  it("multistep divides at each milestone", () => {
    const s = { name: "multistep" as const, milestones: [49, 63], gamma: 0.2 };
    expect(learningRate(2, s, 48.9, 70)).toBe(2);
    expect(learningRate(2, s, 49, 70)).toBeCloseTo(0.4, 12);
    expect(learningRate(2, s, 63, 70)).toBeCloseTo(0.08, 12);
  });
  it("step, cosine and warm-up", () => {
    expect(learningRate(1, { name: "step", stepSize: 10, gamma: 0.5 }, 25, 30)).toBe(0.25);
    expect(learningRate(0.1, { name: "cosine" }, 0, 100)).toBeCloseTo(0.1, 12);
    expect(learningRate(0.1, { name: "cosine" }, 50, 100)).toBeCloseTo(0.05, 12);
    expect(learningRate(0.1, { name: "cosine", minLr: 0.01 }, 100, 100)).toBeCloseTo(0.01, 12);
    expect(learningRate(1, { name: "constant" }, 0, 10, { epochs: 2, startFactor: 0 })).toBe(0);
    expect(learningRate(1, { name: "constant" }, 1, 10, { epochs: 2, startFactor: 0 })).toBe(0.5);
    expect(learningRate(1, { name: "constant" }, 2, 10, { epochs: 2, startFactor: 0 })).toBe(1);
  });
});
