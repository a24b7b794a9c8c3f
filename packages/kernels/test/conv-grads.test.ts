import * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { beforeAll, describe, expect, it } from "vitest";
import { nativeHelperReady } from "../src/native.js";
import { prepareWasm } from "../src/index.js";
import { randomData, relError, runOn } from "./helpers.js";

interface Case {
  n: number;
  h: number;
  w: number;
  ci: number;
  co: number;
  k: number;
  stride: number;
  pad: "same" | "valid";
}

const cases: Case[] = [];
for (const k of [1, 3]) {
  for (const stride of [1, 2]) {
    for (const pad of ["same", "valid"] as const) {
      cases.push({ n: 2, h: 7, w: 9, ci: 3, co: 5, k, stride, pad }); // odd sizes
      cases.push({ n: 3, h: 8, w: 8, ci: 4, co: 6, k, stride, pad }); // even sizes: asymmetric SAME pads
    }
  }
}

function outSize(size: number, k: number, stride: number, pad: "same" | "valid"): number {
  return pad === "same" ? Math.ceil(size / stride) : Math.ceil((size - k + 1) / stride);
}

const label = (c: Case) => `${c.k}x${c.k} s${c.stride} ${c.pad} x[${c.n},${c.h},${c.w},${c.ci}]→${c.co}`;

beforeAll(async () => {
  await prepareWasm({ threads: 2, warn: false });
  tf.enableProdMode();
  // Split kernels must run their halves on the helper worker in these checks, not serially.
  await tf.setBackend("wasm");
  if (!(await nativeHelperReady(tf.backend() as BackendWasm))) throw new Error("native helper worker not ready");
});

describe("Conv2DBackpropFilter on wasm matches cpu", () => {
  it.each(cases.map((c) => [label(c), c] as const))("%s", async (_, c) => {
    const oh = outSize(c.h, c.k, c.stride, c.pad);
    const ow = outSize(c.w, c.k, c.stride, c.pad);
    const inputs = {
      x: { shape: [c.n, c.h, c.w, c.ci], data: randomData(c.n * c.h * c.w * c.ci, 1) },
      dy: { shape: [c.n, oh, ow, c.co], data: randomData(c.n * oh * ow * c.co, 2) },
    };
    const attrs = { strides: [c.stride, c.stride], pad: c.pad, dataFormat: "NHWC", filterShape: [c.k, c.k, c.ci, c.co] };
    const ref = await runOn("cpu", "Conv2DBackpropFilter", inputs, attrs);
    const got = await runOn("wasm", "Conv2DBackpropFilter", inputs, attrs);
    expect(got.shape).toEqual([c.k, c.k, c.ci, c.co]);
    expect(relError(got.data, ref.data)).toBeLessThan(1e-5);
  });
});

describe("Conv2DBackpropInput on wasm matches cpu", () => {
  it.each(cases.map((c) => [label(c), c] as const))("%s", async (_, c) => {
    const oh = outSize(c.h, c.k, c.stride, c.pad);
    const ow = outSize(c.w, c.k, c.stride, c.pad);
    const inputs = {
      dy: { shape: [c.n, oh, ow, c.co], data: randomData(c.n * oh * ow * c.co, 3) },
      filter: { shape: [c.k, c.k, c.ci, c.co], data: randomData(c.k * c.k * c.ci * c.co, 4) },
    };
    const attrs = { strides: [c.stride, c.stride], pad: c.pad, dataFormat: "NHWC", inputShape: [c.n, c.h, c.w, c.ci] };
    const ref = await runOn("cpu", "Conv2DBackpropInput", inputs, attrs);
    const got = await runOn("wasm", "Conv2DBackpropInput", inputs, attrs);
    expect(got.shape).toEqual([c.n, c.h, c.w, c.ci]);
    expect(relError(got.data, ref.data)).toBeLessThan(1e-5);
  });
});

describe("kernels are leak-free", () => {
  it("a conv forward+backward on wasm leaves no extra tensors or buffers", async () => {
    await tf.setBackend("wasm");
    const x = tf.tensor4d(randomData(2 * 9 * 9 * 3, 5), [2, 9, 9, 3]);
    const w = tf.tensor4d(randomData(3 * 3 * 3 * 4, 6), [3, 3, 3, 4]);
    const before = tf.memory().numTensors;
    const dataBefore = tf.engine().backend.numDataIds();
    const grads = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, "same").sum())([x, w]);
    tf.dispose(grads);
    expect(tf.memory().numTensors).toBe(before);
    expect(tf.engine().backend.numDataIds()).toBe(dataBefore);
    x.dispose();
    w.dispose();
  });
});

describe("Conv2DBackpropFilter direct kernel (<= 64 input channels, out channels % 16 == 0)", () => {
  it.each([
    [3, 1, "same"],
    [3, 2, "valid"],
    [1, 2, "same"],
  ] as const)("k=%i s=%i %s with ci=3/5/32/64, co=16/32, batch 1-3 matches cpu", async (k, stride, pad) => {
    // Batches 3 and 2 are split across the main thread and the helper worker; 1 is not.
    for (const [ci, co, n] of [
      [3, 16, 3],
      [5, 32, 2],
      [3, 16, 1],
      [32, 32, 3],
      [64, 16, 2],
    ]) {
      const c: Case = { n: n as number, h: 9, w: 7, ci: ci as number, co: co as number, k, stride, pad };
      const oh = outSize(c.h, c.k, c.stride, c.pad);
      const ow = outSize(c.w, c.k, c.stride, c.pad);
      const inputs = {
        x: { shape: [c.n, c.h, c.w, c.ci], data: randomData(c.n * c.h * c.w * c.ci, 7) },
        dy: { shape: [c.n, oh, ow, c.co], data: randomData(c.n * oh * ow * c.co, 8) },
      };
      const attrs = { strides: [c.stride, c.stride], pad: c.pad, dataFormat: "NHWC", filterShape: [c.k, c.k, c.ci, c.co] };
      const ref = await runOn("cpu", "Conv2DBackpropFilter", inputs, attrs);
      const got = await runOn("wasm", "Conv2DBackpropFilter", inputs, attrs);
      expect(relError(got.data, ref.data)).toBeLessThan(1e-5);
    }
  });
});
