import { beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { type ImageSet, inMemoryStream, MemoryTracker, runExperiment, SeededRng, selectBackend, type ExperimentContext } from "@mnemo/core";
import { mlp, SupervisedLearner, type TrainingConfig } from "../src/index.js";

/** Class c lights up pixel block c of a 4x4 image, with noise: linearly separable. */
function synthetic(seed: number, perClass: number, classes: number): ImageSet {
  const rng = new SeededRng(seed).stream("data");
  const size = 16;
  const images = new Uint8Array(perClass * classes * size);
  const labels = new Int32Array(perClass * classes);
  let k = 0;
  for (let c = 0; c < classes; c++) {
    for (let i = 0; i < perClass; i++, k++) {
      for (let p = 0; p < size; p++) images[k * size + p] = Math.min(255, Math.floor(rng.uniform(0, 60) + (p === c ? 190 : 0)));
      labels[k] = c;
    }
  }
  return { images, labels, count: k, shape: [4, 4, 1] };
}

const training: TrainingConfig = { epochs: 3, batchSize: 16, lr: 0.05, optimizer: { name: "sgd", momentum: 0.9 }, schedule: { name: "constant" } };

async function run(seed: number, head: "expanding" | "fixed" = "expanding") {
  const stream = inMemoryStream({ name: "toy", train: synthetic(1, 40, 6), test: synthetic(2, 20, 6), taskClasses: [[0, 1], [2, 3], [4, 5]] });
  const rng = new SeededRng(seed);
  const learner = new SupervisedLearner({ backbone: mlp({ inputShape: [4, 4, 1], hidden: [32] }), training, rng, head, numClasses: 6, quiet: true });
  const tracker = new MemoryTracker();
  const context: ExperimentContext = { rng, tracker, stream, log: () => {}, step: 0 };
  const result = await runExperiment({ name: "toy", stream, learner, tracker, seed, evaluation: { scenario: "class-incremental", batchSize: 64, evaluateFutureTasks: true } }, context);
  learner.dispose();
  return { result, tracker };
}

beforeAll(async () => {
  await selectBackend({ backend: "wasm", env: {} });
});

describe("SupervisedLearner (fine-tuning)", () => {
  it("learns each task, forgets old ones in class-IL, and leaks no tensors", async () => {
    const before = tf.memory().numTensors;
    const { result, tracker } = await run(7);
    expect(tf.memory().numTensors).toBe(before);
    const R = result.matrix;
    for (let i = 0; i < 3; i++) expect(R[i]?.[i]).toBeGreaterThan(90);
    expect(R[2]?.[0]).toBeLessThan(50); // catastrophic forgetting with a growing head
    expect(R[0]?.[2]).toBe(0); // classes not in the head yet cannot be predicted
    expect(tracker.metrics.some((m) => m.key === "train_loss")).toBe(true);
  });

  it("is bit-reproducible for a seed and differs across seeds", async () => {
    const a = await run(11);
    const b = await run(11);
    const c = await run(12);
    expect(a.result.matrix).toEqual(b.result.matrix);
    const lossesA = a.tracker.metrics.filter((m) => m.key === "train_loss").map((m) => m.value);
    const lossesB = b.tracker.metrics.filter((m) => m.key === "train_loss").map((m) => m.value);
    const lossesC = c.tracker.metrics.filter((m) => m.key === "train_loss").map((m) => m.value);
    expect(lossesA).toEqual(lossesB);
    expect(lossesA).not.toEqual(lossesC);
  });

  it("a fixed head covers every class from the start", async () => {
    const learner = new SupervisedLearner({ backbone: mlp({ inputShape: [4, 4, 1], hidden: [8] }), training, rng: new SeededRng(1), head: "fixed", numClasses: 6, quiet: true });
    expect(learner.model.numClasses).toBe(6);
    expect(learner.model.params["head.weight"]?.shape).toEqual([8, 6]);
    learner.dispose();
    const { result } = await run(3, "fixed");
    expect(result.matrix[0]?.[0]).toBeGreaterThan(90);
  });
});
