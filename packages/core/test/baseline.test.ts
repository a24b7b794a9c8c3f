import { beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { type Backbone, type ImageSet, inMemoryStream, SeededRng } from "../src/index.js";
import { evaluateRandomInit } from "../src/tf.js";

/** A linear classifier on [1, 1, 4] "images", weights drawn from the init stream. */
const linear: Backbone = {
  name: "linear",
  inputShape: [1, 1, 4],
  featureDim: 4,
  headPrefix: "head.",
  init(rng, numClasses) {
    const w = new Float32Array(4 * numClasses);
    rng.fillNormal(w);
    return { params: { "head.weight": tf.tensor2d(w, [4, numClasses]) }, state: {} };
  },
  apply(params, x) {
    const features = tf.reshape(x, [x.shape[0] as number, 4]) as tf.Tensor2D;
    return { features, logits: tf.matMul(features, params["head.weight"] as tf.Tensor2D) };
  },
  growHead: (params) => params,
};

function blobs(seed: number, perClass: number): ImageSet {
  const r = new SeededRng(seed).stream("data");
  const images = new Uint8Array(4 * 4 * perClass);
  const labels = new Int32Array(4 * perClass);
  for (let k = 0; k < 4 * perClass; k++) {
    const c = k % 4;
    labels[k] = c;
    for (let p = 0; p < 4; p++) images[k * 4 + p] = Math.floor(r.uniform(0, 50) + (p === c ? 200 : 0));
  }
  return { images, labels, count: 4 * perClass, shape: [1, 1, 4] };
}

const stream = inMemoryStream({ name: "b", train: blobs(1, 10), test: blobs(2, 25), taskClasses: [[0, 1], [2, 3]] });
const protocol = { scenario: "class-incremental" as const, batchSize: 16, evaluateFutureTasks: true };

beforeAll(async () => {
  await tf.setBackend("cpu");
});

describe("evaluateRandomInit (FWT baseline b)", () => {
  it("is deterministic for a seed, records its provenance, and leaks no tensors", async () => {
    const before = tf.memory().numTensors;
    const a = await evaluateRandomInit({ backbone: linear, rng: new SeededRng(5), stream, protocol });
    const b = await evaluateRandomInit({ backbone: linear, rng: new SeededRng(5), stream, protocol });
    expect(tf.memory().numTensors).toBe(before);
    expect(a).toEqual(b);
    expect(a.accuracies).toHaveLength(2);
    expect(a).toMatchObject({ seed: 5, streamName: "init", numClasses: 4 });
    for (const v of a.accuracies) expect(v).toBeGreaterThanOrEqual(0);
  });

  it("uses a fresh copy of the init stream: the learner's own stream is not advanced", async () => {
    const rng = new SeededRng(9);
    const expected = new SeededRng(9).stream("init").next();
    await evaluateRandomInit({ backbone: linear, rng, stream, protocol });
    expect(rng.stream("init").next()).toBe(expected);
  });

  it("measures the model that the same init stream produces", async () => {
    // Recompute b by hand from the same weights.
    const rng = new SeededRng(3);
    const { params } = linear.init(new SeededRng(3).stream("init"), 4);
    const test = await stream.testSet(1);
    const x = tf.tensor2d(Array.from(test.images, (v) => v / 255), [test.count, 4]);
    const pred = (tf.argMax(linear.apply(params, x, { training: false }).logits, 1) as tf.Tensor1D).dataSync();
    let correct = 0;
    pred.forEach((p, i) => (correct += p === test.labels[i] ? 1 : 0));
    tf.dispose([x, params["head.weight"] as tf.Tensor]);
    const got = await evaluateRandomInit({ backbone: linear, rng, stream, protocol });
    expect(got.accuracies[1]).toBeCloseTo((100 * correct) / test.count, 10);
  });

  it("task-incremental protocol restricts the argmax to the task's classes", async () => {
    const got = await evaluateRandomInit({ backbone: linear, rng: new SeededRng(5), stream, protocol: { ...protocol, scenario: "task-incremental" } });
    const cil = await evaluateRandomInit({ backbone: linear, rng: new SeededRng(5), stream, protocol });
    // Choosing among 2 classes instead of 4 can only help a predictor that is right on a subset.
    for (let j = 0; j < 2; j++) expect(got.accuracies[j]).toBeGreaterThanOrEqual(cil.accuracies[j] as number);
  });
});
