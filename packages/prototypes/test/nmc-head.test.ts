/**
 * The NMC head plugin inside a real SupervisedLearner: the scores it returns are exactly those of a
 * NearestMeanClassifier built from the trained backbone's features (per preset), old classes are
 * re-embedded from stored samples when a method has them and kept otherwise, means follow the
 * weights that are evaluated, and state/resume/leak behaviour.
 */
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { disposeTree, SeededRng, subsetByClasses, type ImageSet, type ModelHandle, type ParamTree, type Plugin } from "@mnemo/core";
import { cloneTree, runExperiment } from "@mnemo/core/tf";
import { NearestMeanClassifier, NMC_PRESETS } from "../src/index.js";
import { embedSet } from "../src/learner/embed.js";
import { nmcHead, NMC_PRESET_NAMES, type NmcPresetName } from "../src/plugins/index.js";
import { contextFor, interruptedAndResumed, learnerWith, run, sameOutcome, streamWithValidation, synthetic, uninterrupted } from "@mnemo/models/testing";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

const presetOptions = (p: NmcPresetName) => (p === "simple_baseline" ? NMC_PRESETS.simpleBaseline : NMC_PRESETS[p]);

/** Predicted labels of the learner on a set, as numbers. */
async function predictions(predict: (x: tf.Tensor) => tf.Tensor1D, set: ImageSet): Promise<number[]> {
  const { range } = await import("@mnemo/core");
  const { imagesToTensor } = await import("@mnemo/core/tf");
  const pred = tf.tidy(() => predict(imagesToTensor(set, range(0, set.count))));
  const out = Array.from(await pred.data());
  pred.dispose();
  return out;
}

describe("nmc plugin", () => {
  for (const preset of NMC_PRESET_NAMES) {
    it(`${preset}: predictions are the nearest class mean of the trained backbone's features`, async () => {
      const rng = new SeededRng(3);
      const stream = streamWithValidation();
      const head = nmcHead({ preset });
      let model: ModelHandle | undefined;
      const learner = learnerWith(rng, [head, { name: "grab", onTaskEnd: (e) => void (model = e.model) }]);
      // One task with every class: all means come from the final backbone, so a classifier built by hand must agree.
      const single = { ...stream, numTasks: 1, taskClasses: [[0, 1, 2, 3, 4, 5]], task: async () => ({ ...(await stream.task(0)), index: 0, classes: [0, 1, 2, 3, 4, 5], train: synthetic(1, 40) }) };
      await run(learner, rng, single);
      const test = synthetic(2, 20);
      const frozen = { backbone: model!.backbone, params: model!.params, state: model!.state };
      const reference = new NearestMeanClassifier(presetOptions(preset));
      const train = synthetic(1, 40);
      const mirrored = (set: ImageSet) => {
        const [h, w] = set.shape;
        const out = new Uint8Array(set.images.length);
        for (let n = 0; n < set.count; n++) for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) out[n * h * w + i * w + j] = set.images[n * h * w + i * w + (w - 1 - j)]!;
        return { ...set, images: out };
      };
      const flip = preset === "icarl";
      reference.update(await embedSet(frozen, train, undefined), train.labels, flip ? { flipped: await embedSet(frozen, mirrored(train), undefined) } : {});
      const expected = Array.from(reference.predict(await embedSet(frozen, test, undefined), flip ? { flipped: await embedSet(frozen, mirrored(test), undefined) } : {}));
      learner.beforeEvaluation();
      expect(await predictions((x) => learner.predict(x), test)).toEqual(expected);
      learner.afterEvaluation();
      expect(head.classifier.classes()).toEqual([0, 1, 2, 3, 4, 5]);
      learner.dispose();
    });
  }

  it("without stored samples an old class keeps the mean it got when it was trained", async () => {
    const rng = new SeededRng(3);
    const head = nmcHead({ preset: "pycil" });
    const learner = learnerWith(rng, [head]);
    const stream = streamWithValidation();
    const context = contextFor(rng, stream);
    const meansOfClass0: number[][] = [];
    await runExperiment(
      { name: "toy", stream, learner, tracker: context.tracker, seed: 3, evaluation: { scenario: "class-incremental", batchSize: 64, evaluateFutureTasks: false } },
      context,
      // The evaluation after each task builds that task's means.
      { onTaskEvaluated: () => void meansOfClass0.push(Array.from(head.classifier.mean(0))) },
    );
    expect(meansOfClass0).toHaveLength(3);
    expect(meansOfClass0[2]).toEqual(meansOfClass0[0]);
    for (const c of [0, 1, 2, 3, 4, 5]) expect(head.classifier.count(c)).toBe(40); // each class's own training images, once
    learner.dispose();
  });

  it("with stored samples, old classes are re-embedded from them with the current backbone", async () => {
    const rng = new SeededRng(3);
    // A fixed "buffer": 5 samples of each class 0..5 (only those of classes not in the current task are used).
    const stored = subsetByClasses(synthetic(11, 5), [0, 1, 2, 3, 4, 5]);
    const head = nmcHead({ preset: "pycil", exemplars: () => stored });
    const counts: number[][] = [];
    const learner = learnerWith(rng, [head]);
    const stream = streamWithValidation();
    const result = await run(learner, rng, stream, contextFor(rng, stream));
    counts.push([0, 1, 2, 3, 4, 5].map((c) => head.classifier.count(c)));
    // After the last task (classes 4, 5): classes 0..3 from the 5 stored samples each, 4 and 5 from their 40 training images.
    expect(counts[0]).toEqual([5, 5, 5, 5, 40, 40]);
    expect(head.hasExemplars).toBe(true);
    expect(result.matrix[2]!.every((v) => v !== null)).toBe(true);
    learner.dispose();
  });

  it("means come from the weights that are evaluated (a plugin that swaps them in, listed before or after)", async () => {
    for (const swapFirst of [true, false]) {
      const rng = new SeededRng(3);
      let init: ParamTree | undefined;
      let trained: ParamTree | undefined;
      // Evaluates the initial weights, as momentum interpolation with τ = 1 would.
      const swap: Plugin = {
        name: "swap",
        onTaskStart: ({ model }) => void (init ??= cloneTree(model.params)),
        beforeEval: (m) => {
          trained = m.params;
          m.params = init!;
        },
        afterEval: (m) => void (m.params = trained!),
      };
      const head = nmcHead({ preset: "pycil" });
      let model: ModelHandle | undefined;
      const grab: Plugin = { name: "grab", onTaskEnd: (e) => void (model = e.model) };
      const learner = learnerWith(rng, swapFirst ? [swap, head, grab] : [head, swap, grab]);
      const stream = streamWithValidation();
      const single = { ...stream, numTasks: 1, taskClasses: [[0, 1, 2, 3, 4, 5]], task: async () => ({ ...(await stream.task(0)), index: 0, classes: [0, 1, 2, 3, 4, 5], train: synthetic(1, 40) }) };
      await run(learner, rng, single);
      const reference = new NearestMeanClassifier(NMC_PRESETS.pycil);
      const frozen = { backbone: model!.backbone, params: init!, state: model!.state };
      const train = synthetic(1, 40);
      reference.update(await embedSet(frozen, train, undefined), train.labels);
      for (const c of [0, 3, 5]) expect(Array.from(head.classifier.mean(c))).toEqual(Array.from(reference.mean(c)));
      disposeTree(init);
      learner.dispose();
    }
  });

  it("uses the logits until a task's means exist, and rejects unknown presets", () => {
    const head = nmcHead({ preset: "pycil" });
    const features = tf.zeros([2, 3]) as tf.Tensor2D;
    const logits = tf.zeros([2, 2]) as tf.Tensor2D;
    expect(head.scores?.({ model: {} as ModelHandle, x: features, features, logits })).toBeUndefined();
    tf.dispose([features, logits]);
    expect(() => nmcHead({ preset: "ncm" as NmcPresetName })).toThrow(/icarl, pycil, simple_baseline/);
  });

  it("resumes bit-identically from a mid-task checkpoint, and leaks no tensors", async () => {
    const before = tf.memory().numTensors;
    const stored = synthetic(11, 5);
    // With stored samples every old mean is rebuilt at the task end; without, the old means come from the checkpoint.
    for (const [preset, exemplars] of [["icarl", () => stored], ["simple_baseline", undefined]] as const) {
      const make = (rng: SeededRng, shouldStop?: () => boolean) => learnerWith(rng, [nmcHead({ preset, ...(exemplars ? { exemplars } : {}) })], { shouldStop });
      const full = await uninterrupted(make);
      const resumed = await interruptedAndResumed(make, 22);
      expect(await sameOutcome(resumed, full)).toBe(true);
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});
