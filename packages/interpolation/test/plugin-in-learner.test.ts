import { beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { type ImageSet, inMemoryStream, MemoryTracker, SeededRng } from "@mnemo/core";
import { runExperiment } from "@mnemo/core/tf";
import { mlp, SupervisedLearner } from "@mnemo/models";
import { MomentumInterpolation } from "../src/index.js";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

function blobs(seed: number, perClass: number): ImageSet {
  const rng = new SeededRng(seed).stream("d");
  const images = new Uint8Array(perClass * 4 * 4);
  const labels = new Int32Array(perClass * 4);
  for (let k = 0; k < perClass * 4; k++) {
    const c = k % 4;
    for (let p = 0; p < 4; p++) images[k * 4 + p] = Math.floor(rng.uniform(0, 40) + (p === c ? 200 : 0));
    labels[k] = c;
  }
  return { images, labels, count: perClass * 4, shape: [2, 2, 1] };
}

async function finalAccuracy(tau: number): Promise<number> {
  const stream = inMemoryStream({ name: "b", train: blobs(1, 50), test: blobs(2, 20), taskClasses: [[0, 1, 2, 3]] });
  const rng = new SeededRng(0);
  const plugin = new MomentumInterpolation({ tau });
  const learner = new SupervisedLearner({
    backbone: mlp({ inputShape: [2, 2, 1], hidden: [16] }),
    rng,
    head: "fixed",
    numClasses: 4,
    quiet: true,
    plugins: [plugin],
    training: { epochs: 5, batchSize: 20, lr: 0.05, optimizer: { name: "sgd", momentum: 0.9 }, schedule: { name: "constant" } },
  });
  const tracker = new MemoryTracker();
  const before = tf.memory().numTensors;
  const r = await runExperiment(
    { name: "b", stream, learner, tracker, seed: 0, evaluation: { scenario: "class-incremental", batchSize: 100, evaluateFutureTasks: true } },
    { rng, tracker, stream, log: () => {}, step: 0 },
  );
  learner.dispose();
  expect(tf.memory().numTensors).toBeLessThan(before); // the learner's and plugin's tensors are all released
  return r.matrix[0]![0]!;
}

describe("MomentumInterpolation inside a SupervisedLearner", () => {
  it("evaluation uses the slow weights: τ = 1 keeps the untrained init, τ = 0 the trained weights", async () => {
    const trained = await finalAccuracy(0);
    const frozen = await finalAccuracy(1);
    expect(trained).toBeGreaterThan(90);
    expect(frozen).toBeLessThan(60);
  });
});
