import { beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import {
  type ImageSet,
  inMemoryStream,
  MemoryTracker,
  SeededRng,
  type ExperimentContext,
} from "@mnemo/core";
import { evaluateRandomInit, imagesToTensor, runExperiment } from "@mnemo/core/tf";
import { selectBackend } from "@mnemo/runtime";
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

describe("validation-based selection", () => {
  it("keeps the epoch with the best validation accuracy, and never looks at test data", async () => {
    const train = synthetic(1, 40, 4);
    const validation = synthetic(5, 10, 4);
    const stream = inMemoryStream({ name: "toy", train, test: synthetic(2, 20, 4), taskClasses: [[0, 1, 2, 3]] });
    const rng = new SeededRng(4);
    // A learning rate far too high makes later epochs worse than earlier ones.
    const noisy: TrainingConfig = { ...training, epochs: 6, lr: 0.9, optimizer: { name: "sgd", momentum: 0.9 } };
    const learner = new SupervisedLearner({ backbone: mlp({ inputShape: [4, 4, 1], hidden: [16] }), training: noisy, rng, head: "expanding", numClasses: 4, quiet: true, selectBest: true });
    const tracker = new MemoryTracker();
    const logs: string[] = [];
    const task = { ...(await stream.task(0)), validation };
    const before = tf.memory().numTensors;
    await learner.learnTask(task, { rng, tracker, stream, log: (m) => logs.push(m), step: 0 });
    const vals = tracker.metrics.filter((m) => m.key === "val_accuracy").map((m) => m.value);
    expect(vals).toHaveLength(6);
    // Re-measure the kept model on the validation split: it must be the best epoch's score.
    let correct = 0;
    const pred = tf.tidy(() => learner.predict(imagesToTensor(validation, Array.from({ length: validation.count }, (_, i) => i))));
    const p = await pred.data();
    pred.dispose();
    for (let i = 0; i < p.length; i++) if (p[i] === validation.labels[i]) correct++;
    expect((100 * correct) / validation.count).toBe(Math.max(...vals));
    expect(logs.join("\n")).toMatch(/kept epoch \d/);
    learner.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe("optimizer across tasks", () => {
  async function optimizerSteps(mode: "reset" | "keep" | undefined): Promise<{ step: number; matrix: unknown }> {
    const stream = inMemoryStream({ name: "toy", train: synthetic(1, 16, 4), test: synthetic(2, 8, 4), taskClasses: [[0, 1], [2, 3]] });
    const rng = new SeededRng(2);
    const cfg: TrainingConfig = { ...training, epochs: 1, optimizer: { name: "adam" }, lr: 0.01, ...(mode ? { optimizerAcrossTasks: mode } : {}) };
    const learner = new SupervisedLearner({ backbone: mlp({ inputShape: [4, 4, 1], hidden: [8] }), training: cfg, rng, head: "fixed", numClasses: 4, quiet: true });
    const tracker = new MemoryTracker();
    const result = await runExperiment(
      { name: "toy", stream, learner, tracker, seed: 2, evaluation: { scenario: "class-incremental", batchSize: 64, evaluateFutureTasks: false } },
      { rng, tracker, stream, log: () => {}, step: 0 },
    );
    const state = (await learner.saveState()) as { optimizer: { step: number } };
    const step = state.optimizer.step;
    learner.dispose();
    return { step, matrix: result.matrix };
  }

  it("resets by default (Adam's step count restarts per task) and keeps one optimizer when asked", async () => {
    // 32 images per task, batch 16: 2 steps per task.
    expect((await optimizerSteps(undefined)).step).toBe(2);
    expect((await optimizerSteps("reset")).step).toBe(2);
    const keep = await optimizerSteps("keep");
    expect(keep.step).toBe(4);
    expect(keep.matrix).not.toEqual((await optimizerSteps("reset")).matrix);
  });
});

describe("FWT baseline", () => {
  it("evaluateRandomInit measures exactly the untrained fixed-head learner", async () => {
    const stream = inMemoryStream({ name: "toy", train: synthetic(1, 10, 6), test: synthetic(2, 20, 6), taskClasses: [[0, 1], [2, 3], [4, 5]] });
    const backbone = mlp({ inputShape: [4, 4, 1], hidden: [16] });
    const protocol = { scenario: "class-incremental" as const, batchSize: 64, evaluateFutureTasks: true };
    const b = await evaluateRandomInit({ backbone, rng: new SeededRng(8), stream, protocol });
    const learner = new SupervisedLearner({ backbone, training, rng: new SeededRng(8), head: "fixed", numClasses: 6, quiet: true });
    for (let j = 0; j < 3; j++) {
      const set = await stream.testSet(j);
      const pred = tf.tidy(() => learner.predict(imagesToTensor(set, Array.from({ length: set.count }, (_, i) => i))));
      const p = await pred.data();
      pred.dispose();
      let correct = 0;
      for (let i = 0; i < p.length; i++) if (p[i] === set.labels[i]) correct++;
      expect(b.accuracies[j]).toBe((100 * correct) / set.count);
    }
    learner.dispose();
  });
});
