/**
 * ContinualMetaLearner (MAMLCon / OML as Learners): meta-training runs without leaking tensors,
 * and the continual few-shot protocol fills the lower triangle of a chunks × chunks accuracy
 * matrix whose ACC and BWT are core's (mean of the last row; mean drop from the diagonal).
 */
import * as tf from "@tensorflow/tfjs";
import { MemoryTracker, SeededRng, summarize } from "@mnemo/core";
import { anyStreamConfigSchema, buildStream, isEpisodicStream, type EpisodicStream } from "@mnemo/data";
import { mlp } from "@mnemo/models";
import { beforeAll, describe, expect, it } from "vitest";
import { ContinualMetaLearner, type ContinualMetaLearnerOptions } from "../src/index.js";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

async function stream(): Promise<EpisodicStream> {
  const s = await buildStream(
    anyStreamConfigSchema.parse({
      kind: "meta-learning",
      dataset: { name: "synthetic-blobs", num_classes: 12, dim: 8, train_per_class: 12, test_per_class: 8, noise: 20 },
      classes: { train: 6, test: 6 },
      episodes: { ways: 4, shots: 2, queries: 2 },
      test_episodes: { ways: 4, shots: 1, queries: 2, count: 5 },
      continual: { chunks: 3, ways: 2, shots: 2, queries: 3, repeats: 2 },
    }),
    { seed: 2 },
  );
  if (!isEpisodicStream(s)) throw new Error("expected an episodic stream");
  return s;
}

const options = (s: EpisodicStream, method: "mamlcon" | "oml"): ContinualMetaLearnerOptions => ({
  method,
  backbone: mlp({ inputShape: s.inputShape, hidden: [16] }),
  rng: new SeededRng(4),
  episodes: s.episodes,
  continual: s.continual as NonNullable<EpisodicStream["continual"]>,
  innerLr: 0.1,
  initialSteps: 3,
  updateSteps: 2,
  startClasses: 2,
  classesPerAddition: 2,
  quickAdapt: true,
  metaBatch: 2,
  iterations: 3,
  metaLr: 0.01,
  checkpointEvery: 100,
  logEvery: 1,
  normalization: s.normalization,
  quiet: true,
});

describe("ContinualMetaLearner", () => {
  it.each(["mamlcon", "oml"] as const)("%s: meta-trains without leaks; the continual protocol fills a lower-triangular 3x3 matrix", async (method) => {
    const s = await stream();
    const task = await s.task(0);
    const before = tf.memory().numTensors;
    const o = options(s, method);
    const learner = new ContinualMetaLearner(o);
    await learner.learnTask(task, { rng: o.rng, tracker: new MemoryTracker(), stream: s, log: () => {}, step: 0 });
    const acc = await learner.evaluateSet(task.test);
    const r = learner.record;
    expect(r.trainLoss).toHaveLength(3);
    const m = r.matrix as (number | null)[][];
    expect(m.map((row) => row.map((v) => v === null))).toEqual([
      [false, true, true],
      [false, false, true],
      [false, false, false],
    ]);
    const s2 = summarize(m);
    expect(acc).toBe(s2.finalAverageAccuracy);
    expect(r.bwt).toBe(s2.backwardTransfer);
    learner.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
