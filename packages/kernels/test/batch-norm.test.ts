import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { batchNormTrain, prepareWasm } from "../src/index.js";
import { randomData, relError } from "./helpers.js";

beforeAll(async () => {
  await prepareWasm({ threads: 2, warn: false });
  tf.enableProdMode();
});

/** The same math from standard ops (tfjs autodiff provides the reference gradient). */
function reference(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, relu: boolean): tf.Tensor[] {
  const axes = x.shape.slice(0, -1).map((_, i) => i);
  const { mean, variance } = tf.moments(x, axes);
  const y = tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-5))), gamma), beta);
  return [relu ? tf.relu(y) : y, mean, variance];
}

/** y, mean, var and the gradients of a loss that also touches mean and var. */
async function evaluate(backend: "cpu" | "wasm", relu: boolean, fused: boolean, shape: number[]): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const C = shape[shape.length - 1] as number;
  const size = shape.reduce((a, b) => a * b, 1);
  const x = tf.tensor(randomData(size, 21), shape);
  const gamma = tf.tensor1d(randomData(C, 22));
  const beta = tf.tensor1d(randomData(C, 23));
  const w = tf.tensor(randomData(size, 24), shape);
  const f = (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor): tf.Tensor[] => {
    if (!fused) return reference(a, g, b, relu);
    const r = batchNormTrain(a, g, b, { relu });
    return [r.y, r.mean, r.variance];
  };
  const outs = f(x, gamma, beta);
  const grads = tf.grads((a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
    const [y, m, v] = f(a, g, b) as [tf.Tensor, tf.Tensor, tf.Tensor];
    return tf.addN([tf.sum(tf.mul(y, w)), tf.mul(tf.sum(m), 0.3), tf.mul(tf.sum(v), -0.7)]) as tf.Scalar;
  })([x, gamma, beta]);
  const data = await Promise.all([...outs, ...grads].map((t) => t.data() as Promise<Float32Array>));
  tf.dispose([x, gamma, beta, w, ...outs, ...grads]);
  return data;
}

const names = ["y", "mean", "variance", "dx", "dgamma", "dbeta"];

describe("batchNormTrain (fused) matches the composite of standard ops", () => {
  for (const backend of ["cpu", "wasm"] as const) {
    for (const relu of [false, true]) {
      it(`${backend}, relu=${relu}, odd shape [3,5,7,6]`, async () => {
        const ref = await evaluate("cpu", relu, false, [3, 5, 7, 6]);
        const got = await evaluate(backend, relu, true, [3, 5, 7, 6]);
        ref.forEach((r, i) => expect(relError(got[i] as Float32Array, r), names[i]).toBeLessThan(1e-5));
      });
    }
  }

  it("leaves no tensors behind in a forward+backward", async () => {
    await tf.setBackend("wasm");
    const x = tf.tensor(randomData(2 * 4 * 4 * 3, 1), [2, 4, 4, 3]);
    const g = tf.ones([3]);
    const b = tf.zeros([3]);
    const before = tf.memory().numTensors;
    const grads = tf.grads((a: tf.Tensor) => batchNormTrain(a, g, b, { relu: true }).y.sum() as tf.Scalar)([x]);
    tf.dispose(grads);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, g, b]);
  });
});

describe("batchNormTrain with a residual: y = act(BN(x) + r), as a ResNet block ends", () => {
  /** y, mean, var and the gradients w.r.t. x, gamma, beta and r; fused or as standard ops. */
  async function withResidual(backend: "cpu" | "wasm", relu: boolean, fused: boolean, shape: number[]): Promise<Float32Array[]> {
    await tf.setBackend(backend);
    const C = shape[shape.length - 1] as number;
    const size = shape.reduce((a, b) => a * b, 1);
    const x = tf.tensor(randomData(size, 31), shape);
    const r = tf.tensor(randomData(size, 32), shape);
    const gamma = tf.tensor1d(randomData(C, 33));
    const beta = tf.tensor1d(randomData(C, 34));
    const w = tf.tensor(randomData(size, 35), shape);
    const f = (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor, res: tf.Tensor): tf.Tensor[] => {
      if (!fused) {
        const [y, m, v] = reference(a, g, b, false) as [tf.Tensor, tf.Tensor, tf.Tensor];
        const sum = tf.add(y, res);
        return [relu ? tf.relu(sum) : sum, m, v];
      }
      const out = batchNormTrain(a, g, b, { relu, residual: res });
      return [out.y, out.mean, out.variance];
    };
    const outs = f(x, gamma, beta, r);
    const grads = tf.grads((a: tf.Tensor, g: tf.Tensor, b: tf.Tensor, res: tf.Tensor) => {
      const [y, m] = f(a, g, b, res) as [tf.Tensor, tf.Tensor];
      return tf.addN([tf.sum(tf.mul(y, w)), tf.mul(tf.sum(m), 0.3)]) as tf.Scalar;
    })([x, gamma, beta, r]);
    const data = await Promise.all([...outs, ...grads].map((t) => t.data() as Promise<Float32Array>));
    tf.dispose([x, r, gamma, beta, w, ...outs, ...grads]);
    return data;
  }
  const labels = ["y", "mean", "variance", "dx", "dgamma", "dbeta", "dresidual"];

  for (const backend of ["cpu", "wasm"] as const) {
    for (const relu of [false, true]) {
      it(`${backend}, relu=${relu}, shape [4,5,3,8] (SIMD lanes + split rows) and [3,5,7,6] (scalar tail)`, async () => {
        for (const shape of [
          [4, 5, 3, 8],
          [3, 5, 7, 6],
        ]) {
          const ref = await withResidual("cpu", relu, false, shape);
          const got = await withResidual(backend, relu, true, shape);
          ref.forEach((r, i) => expect(relError(got[i] as Float32Array, r), `${labels[i]} ${shape}`).toBeLessThan(1e-5));
          if (relu) expect(got[0]?.some((v) => v === 0)).toBe(true);
        }
      });
    }
  }

  it("rejects a residual of another shape", () => {
    const x = tf.zeros([2, 3]);
    expect(() => batchNormTrain(x, tf.ones([3]), tf.zeros([3]), { residual: tf.zeros([2, 4]) })).toThrow(/residual shape \[2,4\] must equal x's \[2,3\]/);
  });
});
