/**
 * SimpleCilLearner on a small class-incremental stream: the cosine head is SimpleCIL's rule, a frozen
 * backbone makes the final predictions independent of the task split (algorithms.md §4 sanity tests
 * 2 and 5), first-task adaptation trains once and then freezes, and state/resume/leaks.
 */
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { disposeTree, range, SeededRng, treesEqual, type ImageSet, type ParamTree, type TaskStream } from "@mnemo/core";
import { cloneTree, imagesToTensor } from "@mnemo/core/tf";
import { mlp } from "@mnemo/models";
import { SimpleCil } from "../src/index.js";
import { embedSet } from "../src/learner/embed.js";
import { SimpleCilLearner, type SimpleCilAdaptation } from "../src/learner/index.js";
import { CLASSES, finalAccuracy, interruptedAndResumed, run, sameOutcome, SHAPE, streamWithValidation, synthetic, training, uninterrupted } from "@mnemo/models/testing";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

function simplecil(rng: SeededRng, adapt: SimpleCilAdaptation, shouldStop?: () => boolean): SimpleCilLearner {
  const learner = new SimpleCilLearner({ backbone: mlp({ inputShape: SHAPE, hidden: [32] }), rng, numClasses: CLASSES, adapt, training, quiet: true, featureBatchSize: 50 });
  if (shouldStop) learner.setShouldStop(shouldStop);
  return learner;
}

async function predictions(learner: SimpleCilLearner, set: ImageSet): Promise<number[]> {
  const pred = tf.tidy(() => learner.predict(imagesToTensor(set, range(0, set.count))));
  const out = Array.from(await pred.data());
  pred.dispose();
  return out;
}

/** The toy stream with another task split / class order. */
function split(taskClasses: number[][]): TaskStream {
  const base = streamWithValidation();
  return {
    ...base,
    numTasks: taskClasses.length,
    taskClasses,
    async task(index) {
      const classes = taskClasses[index]!;
      const { subsetByClasses } = await import("@mnemo/core");
      return { index, classes, train: subsetByClasses(synthetic(1, 40), classes), test: subsetByClasses(synthetic(2, 20), classes) };
    },
    async testSet(index) {
      const { subsetByClasses } = await import("@mnemo/core");
      return subsetByClasses(synthetic(2, 20), taskClasses[index]!);
    },
  };
}

const frozenParams = (l: { frozenModel: { params: ParamTree } | null }) => l.frozenModel!.params;

describe("SimpleCilLearner", () => {
  it("predicts argmax cos(φ(x), μ_c) with the raw class means of all training images (SimpleCIL's rule)", async () => {
    const rng = new SeededRng(3);
    const learner = simplecil(rng, "first-task");
    await run(learner, rng, streamWithValidation());
    const frozen = learner.frozenModel!;
    const reference = new SimpleCil();
    const train = synthetic(1, 40);
    reference.update(await embedSet(frozen, train, undefined), train.labels);
    const test = synthetic(2, 20);
    expect(await predictions(learner, test)).toEqual(Array.from(reference.predict(await embedSet(frozen, test, undefined))));
    learner.dispose();
  });

  it("frozen backbone: the final predictions do not depend on the task split or class order; old means never change", async () => {
    const test = synthetic(2, 20);
    const outcomes: number[][] = [];
    for (const tasks of [[[0, 1], [2, 3], [4, 5]], [[4, 5], [0, 1, 2, 3]], [[0, 1, 2, 3, 4, 5]]]) {
      const rng = new SeededRng(3);
      const learner = simplecil(rng, "none");
      const means: number[][] = [];
      const stream = split(tasks);
      const { MemoryTracker } = await import("@mnemo/core");
      const { runExperiment } = await import("@mnemo/core/tf");
      const tracker = new MemoryTracker();
      await runExperiment(
        { name: "toy", stream, learner, tracker, seed: 3, evaluation: { scenario: "class-incremental", batchSize: 64, evaluateFutureTasks: false } },
        { rng, tracker, stream, log: () => {}, step: 0 },
        {
          onTaskEvaluated: () => {
            const { classes, means: m } = learner.prototypeClassifier.means();
            means.push(Array.from(m.getRow(classes.indexOf(tasks[0]![0]!))));
          },
        },
      );
      for (const m of means) expect(m).toEqual(means[0]); // the first task's first class's mean, after every task
      outcomes.push(await predictions(learner, test));
      learner.dispose();
    }
    expect(outcomes[1]).toEqual(outcomes[0]);
    expect(outcomes[2]).toEqual(outcomes[0]);
  });

  it("first-task adaptation trains the backbone on task 1 only, then keeps it frozen, and learns", async () => {
    const rng = new SeededRng(3);
    const learner = simplecil(rng, "first-task");
    let afterFirst: ParamTree | undefined;
    const stream = streamWithValidation();
    const { MemoryTracker } = await import("@mnemo/core");
    const { runExperiment } = await import("@mnemo/core/tf");
    const tracker = new MemoryTracker();
    const result = await runExperiment(
      { name: "toy", stream, learner, tracker, seed: 3, evaluation: { scenario: "class-incremental", batchSize: 64, evaluateFutureTasks: false } },
      { rng, tracker, stream, log: () => {}, step: 0 },
      { onTaskEvaluated: (i) => void (i === 0 && (afterFirst = cloneTree(learner.frozenModel!.params))) },
    );
    expect(await treesEqual(afterFirst!, learner.frozenModel!.params)).toBe(true);
    // The toy classes are easy: every class is recognised well after the last task (chance: 16.7 %).
    expect(finalAccuracy(result)).toBeGreaterThan(80);
    disposeTree(afterFirst);
    learner.dispose();
  });

  it("task-incremental prediction stays within the given classes; clear error before the first task", async () => {
    const rng = new SeededRng(3);
    const learner = simplecil(rng, "none");
    const x = tf.zeros([1, ...SHAPE]);
    expect(() => learner.predict(x)).toThrow(/learn a task before predicting/);
    await run(learner, rng, streamWithValidation());
    const p = learner.predict(imagesToTensor(synthetic(2, 3), range(0, 18)), { classes: [2, 3] });
    expect(new Set(await p.data()).size).toBeLessThanOrEqual(2);
    for (const v of await p.data()) expect([2, 3]).toContain(v);
    tf.dispose([x, p]);
    learner.dispose();
  });

  it("resumes bit-identically (mid first task and between tasks) and leaks no tensors", async () => {
    const before = tf.memory().numTensors;
    const make = (rng: SeededRng, shouldStop?: () => boolean) => simplecil(rng, "first-task", shouldStop);
    const params = (l: unknown) => frozenParams(l as SimpleCilLearner);
    const full = await uninterrupted(make, params);
    const resumed = await interruptedAndResumed(make, 7, params); // the first task trains steps 1..15
    expect(await sameOutcome(resumed, full)).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
  });
});
