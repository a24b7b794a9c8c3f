/**
 * The per-class counts the runner records beside the accuracy matrix, and the FSCIL metrics
 * computed from them (metrics.ts `fscilSessionFromCounts`).
 */
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import {
  fscilSessionFromCounts,
  fscilSessionMetrics,
  inMemoryStream,
  MemoryTracker,
  SeededRng,
  ShapeError,
  type ClassCounts,
  type ExperimentContext,
  type ImageSet,
  type Learner,
  type TaskStream,
} from "../src/index.js";
import { runExperiment } from "../src/tf.js";

/** Image of class c: every pixel is 20·c, so a learner can "recognise" it exactly. */
function set(perClass: number[]): ImageSet {
  const n = perClass.reduce((a, b) => a + b, 0);
  const images = new Uint8Array(n * 4);
  const labels = new Int32Array(n);
  let k = 0;
  perClass.forEach((count, c) => {
    for (let i = 0; i < count; i++, k++) {
      images.fill(20 * c, k * 4, k * 4 + 4);
      labels[k] = c;
    }
  });
  return { images, labels, count: n, shape: [2, 2, 1] };
}

// Base classes listed out of label order, to check that counts are read by label.
const TASKS = [[3, 1], [0], [2]];
const stream = (): TaskStream => inMemoryStream({ name: "counts", train: set([2, 2, 2, 2]), test: set([3, 5, 7, 11]), taskClasses: TASKS });

/** Recognises every class but `blind` (predicted as class 1); variant "ones" always says 1. */
function stubLearner(blind: number): Learner {
  const decode = (x: tf.Tensor): tf.Tensor1D => tf.tidy(() => {
    const c = x.reshape([x.shape[0] as number, -1]).slice([0, 0], [-1, 1]).reshape([-1]).mul(255 / 20).round().toInt() as tf.Tensor1D;
    return tf.where(c.equal(blind), tf.onesLike(c), c);
  });
  return {
    name: "stub",
    plugins: [],
    learnTask: async () => {},
    predict: decode,
    predictVariants: (x) => ({ predicted: decode(x), variants: { ones: tf.tidy(() => tf.onesLike(decode(x))) } }),
    dispose: () => {},
  };
}

async function run(learner: Learner, s = stream()) {
  const tracker = new MemoryTracker();
  const context: ExperimentContext = { rng: new SeededRng(0), tracker, stream: s, log: () => {}, step: 0 };
  return runExperiment({ name: "counts", stream: s, learner, tracker, seed: 0, evaluation: { scenario: "class-incremental", batchSize: 4, evaluateFutureTasks: false } }, context);
}

beforeAll(async () => {
  await tf.setBackend("cpu");
});

describe("per-class counts of the evaluation", () => {
  it("are recorded per matrix entry by label, agree with the matrix, and count each prediction variant", async () => {
    const before = tf.memory().numTensors;
    const result = await run(stubLearner(0));
    expect(tf.memory().numTensors).toBe(before);
    const C = result.perClassCounts as (ClassCounts | null)[][];
    expect(C[0]?.[1]).toBeNull(); // not evaluated (future task), like R[0][1]
    // Task 0 (classes 3, 1) after task 2: 11 + 5 images, all right.
    expect(C[2]?.[0]).toEqual({ correct: [0, 5, 0, 11], total: [0, 5, 0, 11], variants: { ones: [0, 5, 0, 0] } });
    // Task 1 (class 0) is never recognised.
    expect(C[2]?.[1]).toEqual({ correct: [0, 0, 0, 0], total: [3, 0, 0, 0], variants: { ones: [0, 0, 0, 0] } });
    result.matrix.forEach((row, i) =>
      row.forEach((r, j) => {
        const cell = C[i]?.[j];
        if (r === null) return expect(cell).toBeNull();
        const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
        expect(r).toBe((100 * sum(cell!.correct)) / sum(cell!.total));
      }),
    );
  });

  it("give FSCIL base / novel / HM per session, for predict and for a variant", async () => {
    const result = await run(stubLearner(2));
    const C = result.perClassCounts as (ClassCounts | null)[][];
    // Session 2: base {3, 1} all right, novel {0} right, {2} (7 images) wrong.
    const s2 = fscilSessionFromCounts(C, result.taskClasses, 2);
    expect(s2).toEqual(fscilSessionMetrics([11, 5, 3, 0], [11, 5, 3, 7], 2));
    expect(s2.base).toBe(100);
    expect(s2.novel).toBe(50);
    expect(s2.harmonicMean).toBeCloseTo(200 / 3, 12);
    expect(s2.accuracy).toBeCloseTo((100 * 19) / 26, 12);
    expect(fscilSessionFromCounts(C, result.taskClasses, 0).novel).toBeNaN();
    const ones = fscilSessionFromCounts(C, result.taskClasses, 2, "ones");
    expect(ones).toEqual(fscilSessionMetrics([0, 5, 0, 0], [11, 5, 3, 7], 2));
    expect(() => fscilSessionFromCounts(C, result.taskClasses, 2, "missing")).toThrow(/variant "missing"/);
    expect(() => fscilSessionFromCounts(C, result.taskClasses, 5)).toThrow(ShapeError);
  });

  it("are null for a learner that scores sets itself (evaluateSet), and the FSCIL metrics say why they cannot be computed", async () => {
    const learner: Learner = { ...stubLearner(0), evaluateSet: async () => 50 };
    const result = await run(learner);
    expect(result.matrix[0]?.[0]).toBe(50);
    expect(result.perClassCounts?.[0]?.[0]).toBeNull();
    expect(() => fscilSessionFromCounts(result.perClassCounts!, result.taskClasses, 0)).toThrow(/scores sets itself/);
  });
});
