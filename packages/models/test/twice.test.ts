/**
 * The twice-differentiable Conv-4 path (layers/twice.ts) computes the same function as the fast
 * kernels path, and its gradients can be differentiated again (the fast path's cannot).
 */
import * as tf from "@tensorflow/tfjs";
import { prepareWasm } from "@mnemo/kernels";
import { disposeTree, RandomStream, type ParamTree } from "@mnemo/core";
import { beforeAll, describe, expect, it } from "vitest";
import { conv4 } from "../src/backbones/index.js";
import { conv2dTwice, maxPool2Twice } from "../src/layers/twice.js";

beforeAll(async () => {
  await prepareWasm({ threads: 2, warn: false });
  await tf.setBackend("wasm");
});

const maxAbsDiff = (a: tf.Tensor, b: tf.Tensor): number => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] as number);

describe("twice-differentiable layers", () => {
  it("conv2dTwice equals tf.conv2d (same padding) and maxPool2Twice equals tf.maxPool, odd sizes too", () => {
    tf.tidy(() => {
      const x = tf.tensor4d(new RandomStream(1).fillNormal(new Float32Array(2 * 7 * 9 * 3)), [2, 7, 9, 3]);
      const w = tf.tensor4d(new RandomStream(2).fillNormal(new Float32Array(3 * 3 * 3 * 5)), [3, 3, 3, 5]);
      const ref = tf.conv2d(x, w, 1, [[0, 0], [1, 1], [1, 1], [0, 0]]);
      expect(maxAbsDiff(conv2dTwice(x, w), ref)).toBeLessThan(1e-5);
      expect(maxAbsDiff(maxPool2Twice(ref), tf.maxPool(ref, 2, 2, "valid"))).toBeLessThan(1e-5);
    });
  });

  it("Conv-4's differentiableTwice path gives the fast path's logits and BN state (train and eval)", () => {
    const bb = conv4({ inputShape: [28, 28, 1], width: 8 });
    const { params, state } = bb.init(new RandomStream(3), 5);
    const x = tf.tensor4d(new RandomStream(4).fillNormal(new Float32Array(6 * 28 * 28)), [6, 28, 28, 1]);
    for (const training of [true, false]) {
      const fast = bb.apply(params, x, { training, state });
      const twice = bb.apply(params, x, { training, state, differentiableTwice: true });
      expect(maxAbsDiff(fast.logits, twice.logits)).toBeLessThan(1e-4);
      if (training) {
        for (const k of Object.keys(state)) expect(maxAbsDiff(fast.state?.[k] as tf.Tensor, twice.state?.[k] as tf.Tensor)).toBeLessThan(1e-4);
      }
      for (const r of [fast, twice]) {
        r.logits.dispose();
        r.features.dispose();
        if (r.state) disposeTree(r.state);
      }
    }
    disposeTree(params);
    disposeTree(state);
    x.dispose();
  });

  it("a Hessian-vector product through Conv-4 + BN matches finite differences of the gradient (smooth surrogate activation)", () => {
    // Smooth ReLU / max: finite differences of a gradient across ReLU kinks are noise.
    const bb = conv4({ inputShape: [28, 28, 1], width: 8, smoothRelu: 0.2 });
    const { params, state } = bb.init(new RandomStream(5), 3);
    const x = tf.tensor4d(new RandomStream(6).fillNormal(new Float32Array(6 * 28 * 28)), [6, 28, 28, 1]);
    const target = tf.tensor2d(new RandomStream(7).fillNormal(new Float32Array(6 * 3)), [6, 3]);
    const key = "block1.conv.weight";
    const loss = (p: ParamTree): tf.Scalar => {
      const out = bb.apply(p, x, { training: true, state, differentiableTwice: true });
      if (out.state) disposeTree(out.state);
      return tf.mean(tf.square(tf.sub(out.logits, target)));
    };
    const raw = new RandomStream(8).fillNormal(new Float32Array((params[key] as tf.Tensor).size));
    const norm = Math.sqrt(raw.reduce((a, b) => a + b * b, 0));
    const v = tf.tensor(raw.map((r) => r / norm), (params[key] as tf.Tensor).shape);
    const gradDotV = (w: tf.Tensor): tf.Scalar => tf.sum(tf.mul(tf.grad((ww: tf.Tensor) => loss({ ...params, [key]: ww }))(w), v));
    // d/dε ⟨∇L(w + εv), v⟩ = vᵀHv, by autodiff of the gradient and by central differences.
    const hvp = tf.tidy(() => tf.grad(gradDotV)(params[key] as tf.Tensor));
    const vHv = tf.tidy(() => tf.sum(tf.mul(hvp, v)).dataSync()[0] as number);
    const at = (s: number) => tf.tidy(() => gradDotV(tf.add(params[key] as tf.Tensor, tf.mul(v, s))).dataSync()[0] as number);
    const central = (e: number) => (at(e) - at(-e)) / (2 * e);
    const fd = (4 * central(1e-2) - central(2e-2)) / 3;
    expect(Math.abs(vHv - fd) / Math.abs(fd)).toBeLessThan(1e-2);
    [hvp, v, x, target].forEach((t) => t.dispose());
    disposeTree(params);
    disposeTree(state);
  });
});
