// The JavaScript paths used when Mnemo's SIMD module cannot attach to the tfjs heap.
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { batchNormTrain, prepareWasm, setNativeKernelsEnabled } from "../src/index.js";
import { randomData, relError, runOn } from "./helpers.js";

beforeAll(async () => {
  setNativeKernelsEnabled(false);
  await prepareWasm({ threads: 1, warn: false });
  tf.enableProdMode();
});

describe("JS fallbacks match cpu", () => {
  it.each([
    [3, 1, "same"],
    [3, 2, "same"],
    [3, 2, "valid"],
  ] as const)("conv grads k=%i s=%i %s", async (k, s, pad) => {
    const [n, h, w, ci, co] = [2, 7, 9, 3, 16];
    const oh = pad === "same" ? Math.ceil(h / s) : Math.ceil((h - k + 1) / s);
    const ow = pad === "same" ? Math.ceil(w / s) : Math.ceil((w - k + 1) / s);
    const x = { shape: [n, h, w, ci], data: randomData(n * h * w * ci, 1) };
    const dy = { shape: [n, oh, ow, co], data: randomData(n * oh * ow * co, 2) };
    const filter = { shape: [k, k, ci, co], data: randomData(k * k * ci * co, 3) };
    const base = { strides: [s, s], pad, dataFormat: "NHWC" };
    const fAttrs = { ...base, filterShape: [k, k, ci, co] };
    const iAttrs = { ...base, inputShape: [n, h, w, ci] };
    for (const [name, inputs, attrs] of [
      ["Conv2DBackpropFilter", { x, dy }, fAttrs],
      ["Conv2DBackpropInput", { dy, filter }, iAttrs],
    ] as const) {
      const ref = await runOn("cpu", name, inputs, attrs);
      const got = await runOn("wasm", name, inputs, attrs);
      expect(relError(got.data, ref.data), name).toBeLessThan(1e-5);
    }
  });

  it("max-pool gradient and leading-axis sum", async () => {
    const input = { shape: [2, 6, 6, 5], data: randomData(360, 4) };
    const pooled = await runOn("cpu", "MaxPool", { x: input }, { filterSize: 2, strides: 2, pad: "valid" });
    const dy = { shape: [2, 3, 3, 5], data: randomData(90, 5) };
    const inputs = { dy, input, output: pooled };
    const attrs = { filterSize: 2, strides: 2, pad: "valid" };
    const ref = await runOn("cpu", "MaxPoolGrad", inputs, attrs);
    expect(relError((await runOn("wasm", "MaxPoolGrad", inputs, attrs)).data, ref.data)).toBeLessThan(1e-5);
    const sumAttrs = { axis: [0, 1, 2], keepDims: false };
    const sref = await runOn("cpu", "Sum", { x: input }, sumAttrs);
    expect(relError((await runOn("wasm", "Sum", { x: input }, sumAttrs)).data, sref.data)).toBeLessThan(1e-5);
  });

  it("fused batch norm forward and backward", async () => {
    const run = async (backend: "cpu" | "wasm") => {
      await tf.setBackend(backend);
      const x = tf.tensor(randomData(2 * 3 * 3 * 4, 6), [2, 3, 3, 4]);
      const g = tf.tensor1d(randomData(4, 7));
      const b = tf.tensor1d(randomData(4, 8));
      const w = tf.tensor(randomData(72, 9), [2, 3, 3, 4]);
      const grads = tf.grads((a: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor) => tf.sum(tf.mul(batchNormTrain(a, gg, bb, { relu: true }).y, w)) as tf.Scalar)([x, g, b]);
      const data = await Promise.all(grads.map((t) => t.data() as Promise<Float32Array>));
      tf.dispose([x, g, b, w, ...grads]);
      return data;
    };
    const ref = await run("cpu");
    const got = await run("wasm");
    ref.forEach((r, i) => expect(relError(got[i] as Float32Array, r)).toBeLessThan(1e-5));
  });
});
