/**
 * The kernels Mnemo relies on, on the webgpu backend against cpu: convolutions (stride 1 and 2,
 * 1×1) and their gradients, pooling, the composite batch norm in training and eval, softmax
 * cross-entropy, and whole backbones (loss + every parameter gradient, eval logits).
 * Runs wherever a WebGPU adapter exists (a GPU with a Vulkan / Metal / D3D12 driver); elsewhere
 * every case is skipped and the reason printed. tools/gpu-check.sh runs this file.
 */
import { afterAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { RandomStream, treeKeys, type ParamTree } from "@mnemo/core";
import { keepTree } from "@mnemo/core/tf";
import { releaseBackend, selectBackend } from "@mnemo/runtime";
import { createBackbone } from "../src/index.js";

let unavailable: string | undefined;
let adapter = "";
try {
  adapter = (await selectBackend({ backend: "webgpu", env: {} })).description;
} catch (err) {
  unavailable = (err as Error).message;
}
if (unavailable) console.warn(`webgpu parity tests skipped: no usable WebGPU adapter here (${unavailable.split(". ")[0]})`);

/** Runs `fn` on cpu and on webgpu with the same inputs; returns both results as plain arrays. */
async function onBoth(fn: () => tf.Tensor | tf.Tensor[]): Promise<{ cpu: Float32Array[]; gpu: Float32Array[] }> {
  const run = async (backend: string) => {
    await tf.setBackend(backend);
    const out = tf.tidy(fn);
    const list = Array.isArray(out) ? out : [out];
    const values = await Promise.all(list.map(async (t) => (await t.data()) as Float32Array));
    tf.dispose(list);
    return values;
  };
  return { cpu: await run("cpu"), gpu: await run("webgpu") };
}

function expectClose(cpu: Float32Array[], gpu: Float32Array[], tol: number): void {
  expect(gpu.length).toBe(cpu.length);
  cpu.forEach((c, i) => {
    const g = gpu[i] as Float32Array;
    expect(g.length).toBe(c.length);
    let scale = 1e-6;
    for (const v of c) scale = Math.max(scale, Math.abs(v));
    let worst = 0;
    for (let k = 0; k < c.length; k++) worst = Math.max(worst, Math.abs((c[k] as number) - (g[k] as number)));
    expect(worst / scale, `output ${i}: max |cpu - webgpu| / max |cpu|`).toBeLessThan(tol);
  });
}

function data(seed: number, n: number): Float32Array {
  return new RandomStream(seed).fillNormal(new Float32Array(n));
}

describe.skipIf(unavailable !== undefined)(`webgpu kernels match cpu (${adapter || "no adapter"})`, () => {
  afterAll(async () => {
    await releaseBackend();
  });

  const convCases: [string, number[], number[], number, "same" | "valid"][] = [
    ["3×3 stride 1", [2, 8, 8, 16], [3, 3, 16, 16], 1, "same"],
    ["3×3 stride 2", [2, 8, 8, 16], [3, 3, 16, 32], 2, "same"],
    ["1×1 stride 2 (shortcut)", [2, 8, 8, 16], [1, 1, 16, 32], 2, "valid"],
    ["3×3 stem, 3 channels", [2, 8, 8, 3], [3, 3, 3, 16], 1, "same"],
  ];
  for (const [name, xs, ws, stride, pad] of convCases) {
    it(`conv2d ${name}: output, input gradient, filter gradient`, async () => {
      const x = data(1, xs.reduce((a, b) => a * b));
      const w = data(2, ws.reduce((a, b) => a * b));
      const { cpu, gpu } = await onBoth(() => {
        const xt = tf.tensor4d(x, xs as [number, number, number, number]);
        const wt = tf.tensor4d(w, ws as [number, number, number, number]);
        const f = (a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.square(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, stride, pad)));
        const [dx, dw] = tf.grads(f)([xt, wt]);
        return [tf.conv2d(xt, wt, stride, pad), dx as tf.Tensor, dw as tf.Tensor];
      });
      expectClose(cpu, gpu, 1e-3);
    });
  }

  it("max-pool, average-pool, mean and their gradients", async () => {
    const x = data(3, 2 * 8 * 8 * 4);
    const { cpu, gpu } = await onBoth(() => {
      const xt = tf.tensor4d(x, [2, 8, 8, 4]);
      const f = (a: tf.Tensor) => tf.add(tf.sum(tf.square(tf.maxPool(a as tf.Tensor4D, 2, 2, "valid"))), tf.sum(tf.square(tf.mean(tf.avgPool(a as tf.Tensor4D, 1, 2, "valid"), [1, 2]))));
      return [tf.maxPool(xt, 2, 2, "valid"), tf.mean(xt, [1, 2]), tf.grad(f)(xt)];
    });
    expectClose(cpu, gpu, 1e-4);
  });

  it("softmax cross-entropy, matMul and their gradients", async () => {
    const a = data(4, 8 * 16);
    const w = data(5, 16 * 10);
    const { cpu, gpu } = await onBoth(() => {
      const at = tf.tensor2d(a, [8, 16]);
      const wt = tf.tensor2d(w, [16, 10]);
      const y = tf.oneHot(tf.tensor1d([0, 1, 2, 3, 4, 5, 6, 7], "int32"), 10);
      const f = (p: tf.Tensor, q: tf.Tensor) => tf.losses.softmaxCrossEntropy(y, tf.matMul(p as tf.Tensor2D, q as tf.Tensor2D));
      const [da, dw] = tf.grads(f)([at, wt]);
      return [f(at, wt), da as tf.Tensor, dw as tf.Tensor];
    });
    expectClose(cpu, gpu, 1e-4);
  });

  for (const name of ["conv4", "resnet20"] as const) {
    it(`${name} at 16×16: training loss + all gradients + new BN state, eval logits`, async () => {
      const bb = name === "conv4" ? createBackbone("conv4", { inputShape: [16, 16, 3] }) : createBackbone("resnet20", { inputShape: [16, 16, 3], shortcut: "conv" });
      await tf.setBackend("cpu");
      const init = bb.init(new RandomStream(7), 10);
      const keys = treeKeys(init.params);
      const values = keys.map((k) => (init.params[k] as tf.Tensor).dataSync().slice() as Float32Array);
      const shapes = keys.map((k) => (init.params[k] as tf.Tensor).shape);
      const stateKeys = treeKeys(init.state);
      const stateValues = stateKeys.map((k) => (init.state[k] as tf.Tensor).dataSync().slice() as Float32Array);
      const stateShapes = stateKeys.map((k) => (init.state[k] as tf.Tensor).shape);
      const x = data(8, 4 * 16 * 16 * 3);
      const { cpu, gpu } = await onBoth(() => {
        const params: ParamTree = Object.fromEntries(keys.map((k, i) => [k, tf.tensor(values[i] as Float32Array, shapes[i])]));
        const state: ParamTree = Object.fromEntries(stateKeys.map((k, i) => [k, tf.tensor(stateValues[i] as Float32Array, stateShapes[i])]));
        const xt = tf.tensor4d(x, [4, 16, 16, 3]);
        const y = tf.oneHot(tf.tensor1d([0, 3, 5, 9], "int32"), 10);
        let newState: ParamTree = {};
        const { value, grads } = tf.valueAndGrads((...ts: tf.Tensor[]) => {
          const p: ParamTree = Object.fromEntries(keys.map((k, i) => [k, ts[i] as tf.Tensor]));
          const out = bb.apply(p, xt, { training: true, state });
          newState = keepTree(out.state ?? {});
          return tf.losses.softmaxCrossEntropy(y, out.logits) as tf.Scalar;
        })(keys.map((k) => params[k] as tf.Tensor));
        const evalLogits = bb.apply(params, xt, { training: false, state }).logits;
        return [value, ...grads, ...treeKeys(newState).map((k) => newState[k] as tf.Tensor), evalLogits];
      });
      expectClose(cpu, gpu, 2e-3);
    });
  }
});

describe("webgpu where no adapter exists", () => {
  it.skipIf(unavailable === undefined)("an explicit request fails with the reason and what to do", () => {
    expect(unavailable).toMatch(/backend "webgpu" was requested .* not available: .*(adapter|webgpu package|Vulkan)/);
    expect(unavailable).toMatch(/backend: auto to fall back to wasm/);
  });
});
