import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { prepareWasm } from "../src/index.js";
import { randomData, relError, runOn } from "./helpers.js";

beforeAll(async () => {
  await prepareWasm({ threads: 2, warn: false });
  tf.enableProdMode();
});

/** Runs a tf op on both backends from the same data and compares. */
async function compareOp(build: (ts: tf.Tensor[]) => tf.Tensor, inputs: { shape: number[]; data: Float32Array }[]): Promise<number> {
  const run = async (backend: "cpu" | "wasm") => {
    await tf.setBackend(backend);
    const ts = inputs.map((i) => tf.tensor(i.data, i.shape));
    const out = build(ts);
    const r = { shape: out.shape, data: (await out.data()) as Float32Array };
    tf.dispose([out, ...ts]);
    return r;
  };
  const ref = await run("cpu");
  const got = await run("wasm");
  expect(got.shape).toEqual(ref.shape);
  return relError(got.data, ref.data);
}

/** Values on a coarse grid, then ReLU: many exact ties, as after conv+ReLU. */
function tiedData(size: number, seed: number): Float32Array {
  return randomData(size, seed).map((v) => Math.max(0, Math.round(v * 3) / 3));
}

describe("MaxPoolGrad / AvgPoolGrad on wasm match cpu", () => {
  const cases: [number, number, "valid" | "same", number[]][] = [
    [2, 2, "valid", [2, 8, 8, 4]],
    [2, 2, "valid", [2, 7, 9, 5]],
    [3, 2, "same", [2, 7, 9, 5]],
    [3, 1, "same", [1, 6, 5, 3]],
    [1, 2, "valid", [2, 7, 8, 6]],
  ];
  it.each(cases)("max pool k=%i s=%i %s x%j (with ties)", async (k, s, pad, shape) => {
    const size = shape.reduce((a, b) => a * b, 1);
    for (const data of [randomData(size, 31), tiedData(size, 32)]) {
      // Distinct weights per output so a dy routed to the wrong input shows up.
      const err = await compareOp(
        ([x]) =>
          tf.grad((a: tf.Tensor) => {
            const y = tf.maxPool(a as tf.Tensor4D, k, s, pad);
            return tf.mul(y, tf.range(1, 1 + y.size).reshape(y.shape)).sum();
          })(x as tf.Tensor),
        [{ shape, data }],
      );
      expect(err).toBeLessThan(1e-5);
    }
  });
  it.each(cases)("avg pool k=%i s=%i %s x%j", async (k, s, pad, shape) => {
    const size = shape.reduce((a, b) => a * b, 1);
    const err = await compareOp(
      ([x, w]) => tf.grad((a: tf.Tensor) => tf.mul(tf.avgPool(a as tf.Tensor4D, k, s, pad), w as tf.Tensor).sum())(x as tf.Tensor),
      [
        { shape, data: randomData(size, 33) },
        { shape: [1], data: new Float32Array([1.7]) },
      ],
    );
    expect(err).toBeLessThan(1e-5);
  });
  it("max pool gradient routes each dy to the first maximum of its window", async () => {
    const inputs = { dy: { shape: [1, 1, 1, 1], data: new Float32Array([5]) }, input: { shape: [1, 2, 2, 1], data: new Float32Array([1, 3, 3, 2]) }, output: { shape: [1, 1, 1, 1], data: new Float32Array([3]) } };
    const got = await runOn("wasm", "MaxPoolGrad", inputs, { filterSize: 2, strides: 2, pad: "valid" });
    expect(Array.from(got.data)).toEqual([0, 5, 0, 0]);
  });
});

describe("Sum / Mean on wasm match cpu", () => {
  const cases: [number[], number[], boolean][] = [
    [[3, 5, 7, 6], [0, 1, 2], false],
    [[3, 5, 7, 6], [0, 1, 2], true],
    [[4, 9], [0], false],
    [[3, 5, 7, 6], [1, 2], false], // not leading: stock kernel
    [[3, 5, 7, 6], [3], true], // innermost: stock kernel
  ];
  it.each(cases)("x%j axes %j keepDims=%s", async (shape, axes, keepDims) => {
    const data = randomData(shape.reduce((a, b) => a * b, 1), 41);
    for (const op of [tf.sum, tf.mean]) {
      expect(await compareOp(([x]) => op(x as tf.Tensor, axes, keepDims), [{ shape, data }])).toBeLessThan(1e-5);
    }
  });
});

describe("BatchMatMul with transposes on wasm matches cpu", () => {
  it.each([
    [false, true],
    [true, false],
    [true, true],
    [false, false],
  ])("transposeA=%s transposeB=%s", async (ta, tb) => {
    const [m, k, n] = [7, 13, 5];
    const a = { shape: ta ? [k, m] : [m, k], data: randomData(m * k, 51) };
    const b = { shape: tb ? [n, k] : [k, n], data: randomData(k * n, 52) };
    expect(await compareOp(([x, y]) => tf.matMul(x as tf.Tensor2D, y as tf.Tensor2D, ta, tb), [a, b])).toBeLessThan(1e-5);
  });
});

describe("Identity on wasm shares the buffer safely", () => {
  it("a clone keeps its values after the original is disposed, and frees its buffer when disposed", async () => {
    await tf.setBackend("wasm");
    const before = tf.engine().backend.numDataIds();
    const a = tf.tensor1d([1, 2, 3]);
    const b = tf.clone(a);
    a.dispose();
    expect(Array.from(await b.data())).toEqual([1, 2, 3]);
    b.dispose();
    expect(tf.engine().backend.numDataIds()).toBe(before);
  });
});
