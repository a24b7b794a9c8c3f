import * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { nativeHelperReady } from "../src/native.js";
import { convBnInference, prepareWasm } from "../src/index.js";
import { setWinogradEnabled, winogradStats } from "../src/kernels/conv2d-winograd.js";
import { randomData, relError, runOn } from "./helpers.js";

beforeAll(async () => {
  await prepareWasm({ threads: 2, warn: false });
  tf.enableProdMode();
  await tf.setBackend("wasm");
  if (!(await nativeHelperReady(tf.backend() as BackendWasm))) throw new Error("native helper worker not ready");
});

afterEach(() => setWinogradEnabled(true));

/** [n, h, w, ci, co]: odd sizes (partial edge tiles), the CIFAR ResNet stages, wide layers. */
const shapes: [number, number, number, number, number][] = [
  [2, 7, 9, 8, 16],
  [3, 5, 6, 4, 8],
  [1, 1, 1, 4, 8],
  [4, 32, 32, 16, 16],
  [4, 16, 16, 32, 32],
  [5, 8, 8, 64, 64],
  [2, 6, 6, 160, 160],
];
const label = ([n, h, w, ci, co]: number[]) => `x[${n},${h},${w},${ci}] → ${co}`;
const conv = { strides: [1, 1], pad: "same", dataFormat: "NHWC", dilations: [1, 1] };

/** Runs `fn` and returns how many Winograd calls it made. */
async function counting<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const before = winogradStats.calls;
  const out = await fn();
  return [out, winogradStats.calls - before];
}

describe("Winograd F(4,3) 3×3 stride-1 convolutions on wasm match cpu (max error / max |y| < 1e-5)", () => {
  it.each(shapes.map((s) => [label(s), s] as const))("Conv2D %s", async (_, [n, h, w, ci, co]) => {
    const inputs = {
      x: { shape: [n, h, w, ci], data: randomData(n * h * w * ci, 1) },
      filter: { shape: [3, 3, ci, co], data: randomData(9 * ci * co, 2) },
    };
    const ref = await runOn("cpu", "Conv2D", inputs, conv);
    const [got, calls] = await counting(() => runOn("wasm", "Conv2D", inputs, conv));
    expect(calls).toBe(1);
    expect(got.shape).toEqual([n, h, w, co]);
    expect(relError(got.data, ref.data)).toBeLessThan(1e-5);
  });

  it.each(shapes.map((s) => [label(s), s] as const))("FusedConv2D with bias and ReLU %s", async (_, [n, h, w, ci, co]) => {
    const inputs = {
      x: { shape: [n, h, w, ci], data: randomData(n * h * w * ci, 3) },
      filter: { shape: [3, 3, ci, co], data: randomData(9 * ci * co, 4) },
      bias: { shape: [co], data: randomData(co, 5) },
    };
    const attrs = { ...conv, activation: "relu" };
    const ref = await runOn("cpu", "FusedConv2D", inputs, attrs);
    const [got, calls] = await counting(() => runOn("wasm", "FusedConv2D", inputs, attrs));
    expect(calls).toBe(1);
    expect(relError(got.data, ref.data)).toBeLessThan(1e-5);
    expect(got.data.some((v) => v === 0)).toBe(true); // the ReLU did clip
  });

  it.each(shapes.map((s) => [label(s), s] as const))("Conv2DBackpropInput %s", async (_, [n, h, w, ci, co]) => {
    const inputs = {
      dy: { shape: [n, h, w, co], data: randomData(n * h * w * co, 6) },
      filter: { shape: [3, 3, ci, co], data: randomData(9 * ci * co, 7) },
    };
    const attrs = { ...conv, inputShape: [n, h, w, ci] };
    const ref = await runOn("cpu", "Conv2DBackpropInput", inputs, attrs);
    // ci=4 is not a multiple of 8 (the transposed conv's output panels): that shape takes the GEMM path.
    const [got, calls] = await counting(() => runOn("wasm", "Conv2DBackpropInput", inputs, attrs));
    expect(calls).toBe(ci % 8 === 0 ? 1 : 0);
    expect(relError(got.data, ref.data)).toBeLessThan(1e-5);
  });

  it.each(shapes.map((s) => [label(s), s] as const))("Conv2DBackpropFilter %s", async (_, [n, h, w, ci, co]) => {
    const inputs = {
      x: { shape: [n, h, w, ci], data: randomData(n * h * w * ci, 8) },
      dy: { shape: [n, h, w, co], data: randomData(n * h * w * co, 9) },
    };
    const attrs = { ...conv, filterShape: [3, 3, ci, co] };
    const ref = await runOn("cpu", "Conv2DBackpropFilter", inputs, attrs);
    const [got, calls] = await counting(() => runOn("wasm", "Conv2DBackpropFilter", inputs, attrs));
    expect(calls).toBe(1);
    expect(relError(got.data, ref.data)).toBeLessThan(1e-5);
  });

  it("leaves other convolutions to XNNPACK: stride 2, valid padding, 5×5, 3 input channels, 12 outputs", async () => {
    const cases: [number[], number[], Record<string, unknown>][] = [
      [[2, 8, 8, 8], [3, 3, 8, 16], { ...conv, strides: [2, 2] }],
      [[2, 8, 8, 8], [3, 3, 8, 16], { ...conv, pad: "valid" }],
      [[2, 8, 8, 8], [5, 5, 8, 16], conv],
      [[2, 8, 8, 3], [3, 3, 3, 16], conv],
      [[2, 8, 8, 8], [3, 3, 8, 12], conv],
      [[2, 8, 8, 8], [3, 3, 8, 16], { ...conv, dilations: [2, 2] }],
    ];
    for (const [xs, fs, attrs] of cases) {
      const inputs = {
        x: { shape: xs, data: randomData(xs.reduce((a, b) => a * b), 10) },
        filter: { shape: fs, data: randomData(fs.reduce((a, b) => a * b), 11) },
      };
      const ref = await runOn("cpu", "Conv2D", inputs, attrs);
      const [got, calls] = await counting(() => runOn("wasm", "Conv2D", inputs, attrs));
      expect(calls, JSON.stringify([xs, fs, attrs])).toBe(0);
      expect(relError(got.data, ref.data)).toBeLessThan(1e-5);
    }
  });

  it("gives the same bits on every call, and leaves no tensors or buffers behind in forward + backward", async () => {
    const x = tf.tensor4d(randomData(3 * 8 * 8 * 16, 12), [3, 8, 8, 16]);
    const w = tf.tensor4d(randomData(9 * 16 * 32, 13), [3, 3, 16, 32]);
    const f = () => tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, "same").square().sum())([x, w]);
    const first = f();
    const before = tf.memory().numTensors;
    const dataBefore = tf.engine().backend.numDataIds();
    const second = f();
    expect(tf.memory().numTensors).toBe(before + 2);
    expect(tf.engine().backend.numDataIds()).toBe(dataBefore + 2);
    for (let i = 0; i < 2; i++) expect(await second[i]?.data()).toEqual(await first[i]?.data());
    tf.dispose([x, w, ...first, ...second]);
  });

  it("can be switched off (XNNPACK then computes the same convolution)", async () => {
    const inputs = {
      x: { shape: [2, 8, 8, 16], data: randomData(2 * 8 * 8 * 16, 14) },
      filter: { shape: [3, 3, 16, 16], data: randomData(9 * 16 * 16, 15) },
    };
    const on = await runOn("wasm", "Conv2D", inputs, conv);
    setWinogradEnabled(false);
    const [off, calls] = await counting(() => runOn("wasm", "Conv2D", inputs, conv));
    expect(calls).toBe(0);
    expect(relError(on.data, off.data)).toBeLessThan(1e-5);
  });
});

describe("convBnInference: act(BN_running(conv) [+ residual]) as one kernel on wasm", () => {
  async function run(backend: "cpu" | "wasm", xs: number[], fs: number[], strides: number, relu: boolean, withResidual: boolean): Promise<Float32Array> {
    await tf.setBackend(backend);
    const co = fs[3] as number;
    const out = tf.tidy(() => {
      const x = tf.tensor4d(randomData(xs.reduce((a, b) => a * b), 21), xs as [number, number, number, number]);
      const filter = tf.tensor4d(randomData(fs.reduce((a, b) => a * b), 22), fs as [number, number, number, number]);
      const gamma = tf.tensor1d(randomData(co, 23)).add(1.5) as tf.Tensor1D;
      const beta = tf.tensor1d(randomData(co, 24));
      const mean = tf.tensor1d(randomData(co, 25));
      const variance = tf.tensor1d(randomData(co, 26)).add(1.2) as tf.Tensor1D;
      const oh = Math.ceil((xs[1] as number) / strides);
      const ow = Math.ceil((xs[2] as number) / strides);
      const residual = tf.tensor4d(randomData((xs[0] as number) * oh * ow * co, 27), [xs[0] as number, oh, ow, co]);
      const pad: [[number, number], [number, number], [number, number], [number, number]] = [[0, 0], [1, 1], [1, 1], [0, 0]];
      return convBnInference({ x, filter, gamma, beta, mean, variance, epsilon: 1e-5, strides, pad, relu, ...(withResidual ? { residual } : {}) });
    });
    const data = (await out.data()) as Float32Array;
    out.dispose();
    return data;
  }

  it.each([
    ["Winograd (3×3 stride 1)", [3, 8, 10, 16], [3, 3, 16, 32], 1, 1],
    ["XNNPACK (stride 2)", [3, 8, 10, 16], [3, 3, 16, 32], 2, 0],
    ["XNNPACK (12 outputs)", [2, 7, 9, 8], [3, 3, 8, 12], 1, 0],
  ] as const)("%s matches the composite on cpu, with and without residual and ReLU", async (_, xs, fs, strides, winogradCalls) => {
    for (const relu of [true, false]) {
      for (const withResidual of [true, false]) {
        const ref = await run("cpu", [...xs], [...fs], strides, relu, withResidual);
        const [got, calls] = await counting(() => run("wasm", [...xs], [...fs], strides, relu, withResidual));
        expect(calls).toBe(winogradCalls);
        expect(relError(got, ref), `relu=${relu} residual=${withResidual}`).toBeLessThan(1e-5);
        if (relu) expect(got.some((v) => v === 0)).toBe(true);
      }
    }
    await tf.setBackend("wasm");
  });

  it("leaves no tensors or buffers behind", async () => {
    await tf.setBackend("wasm");
    const before = tf.memory().numTensors;
    const dataBefore = tf.engine().backend.numDataIds();
    await run("wasm", [2, 8, 8, 16], [3, 3, 16, 16], 1, true, true);
    expect(tf.memory().numTensors).toBe(before);
    expect(tf.engine().backend.numDataIds()).toBe(dataBefore);
  });
});
