/**
 * The interpolation plugins inside a real SupervisedLearner on a small class-incremental stream with
 * validation splits: what each writes into the model, that choices come from validation data only,
 * clear errors, no tensor leaks, and bit-identical resume from a mid-task checkpoint.
 */
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { disposeTree, SeededRng, treesEqual, type ParamTree, type Plugin } from "@mnemo/core";
import { cloneTree } from "@mnemo/core/tf";
import { wiseFt, uniformSoup } from "../src/index.js";
import { growInto, MissingValidationError, MomentumInterpolation, soupPlugin, wiseFtPlugin } from "../src/plugins/index.js";
import { interruptedAndResumed, learnerWith, sameOutcome, run, streamWithValidation, synthetic, uninterrupted, values } from "@mnemo/models/testing";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

/** Records a copy of the model's parameters at a hook of one task. */
function probe(name: string, hook: "onTaskStart" | "onTaskEnd", taskIndex: number, sink: ParamTree[]): Plugin {
  return {
    name,
    [hook]: ({ task, model }: { task: { index: number }; model: { params: ParamTree } }) => {
      if (task.index === taskIndex) sink.push(cloneTree(model.params));
    },
  };
}

describe("wise_ft plugin", () => {
  it("replaces the trained weights with θ_α for the α of best validation accuracy (ties: larger α)", async () => {
    const rng = new SeededRng(3);
    const theta0: ParamTree[] = [];
    const theta1: ParamTree[] = [];
    const final: ParamTree[] = [];
    const wise = wiseFtPlugin();
    const learner = learnerWith(rng, [probe("t0", "onTaskStart", 1, theta0), probe("t1", "onTaskEnd", 1, theta1), wise, probe("f", "onTaskEnd", 1, final)]);
    await run(learner, rng, streamWithValidation());
    // The first task is left alone (its θ_0 is the random initialisation).
    expect(wise.choices.map((c) => c.task)).toEqual([1, 2]);
    for (const c of wise.choices) {
      expect(c.candidates).toHaveLength(11);
      const best = Math.max(...c.candidates);
      expect(c.accuracy).toBe(best);
      expect(c.alpha).toBe(Math.max(...wise.alphas.filter((_, k) => c.candidates[k] === best)));
    }
    const expected = wiseFt(theta0[0]!, theta1[0]!, wise.choices[0]!.alpha);
    expect(await treesEqual(final[0]!, expected)).toBe(true);
    for (const t of [...theta0, ...theta1, ...final, expected]) disposeTree(t);
    learner.dispose();
  });

  it("α = 0 undoes each task's training; α = 1 is plain fine-tuning, bit for bit", async () => {
    const rng = new SeededRng(3);
    const start: ParamTree[] = [];
    const end: ParamTree[] = [];
    const undo = learnerWith(rng, [probe("s", "onTaskStart", 2, start), wiseFtPlugin({ alphas: [0] }), probe("e", "onTaskEnd", 2, end)]);
    await run(undo, rng, streamWithValidation());
    expect(await treesEqual(start[0]!, end[0]!)).toBe(true);
    undo.dispose();
    for (const t of [...start, ...end]) disposeTree(t);

    const plain = new SeededRng(4);
    const a = learnerWith(plain, []);
    const ra = await run(a, plain, streamWithValidation());
    const one = new SeededRng(4);
    const b = learnerWith(one, [wiseFtPlugin({ alphas: [1] })]);
    const rb = await run(b, one, streamWithValidation());
    expect(rb.matrix).toEqual(ra.matrix);
    a.dispose();
    b.dispose();
  });

  it("chooses α on validation data only: a different test set changes nothing", async () => {
    const choose = async (test: ReturnType<typeof synthetic>) => {
      const rng = new SeededRng(5);
      const wise = wiseFtPlugin({ alphas: [0, 0.3, 0.6, 1] });
      const learner = learnerWith(rng, [wise]);
      await run(learner, rng, streamWithValidation({ test }));
      learner.dispose();
      return wise.choices;
    };
    const a = await choose(synthetic(2, 20));
    const b = await choose(synthetic(99, 5, 255)); // other images, other size, pure noise
    expect(b).toEqual(a);
  });

  it("says how to fix a stream without a validation split", async () => {
    const rng = new SeededRng(3);
    const learner = learnerWith(rng, [wiseFtPlugin()]);
    await expect(run(learner, rng, streamWithValidation({ validation: null }))).rejects.toThrow(MissingValidationError);
    await expect(run(learnerWith(new SeededRng(3), [wiseFtPlugin()]), new SeededRng(3), streamWithValidation({ validation: null }))).rejects.toThrow(
      /stream\.validation\.fraction/,
    );
    learner.dispose();
  });

  it("resumes bit-identically from a mid-task checkpoint and leaks no tensors", async () => {
    const before = tf.memory().numTensors;
    const make = (rng: SeededRng, shouldStop?: () => boolean) => learnerWith(rng, [wiseFtPlugin({ alphas: [0, 0.5, 1] })], { shouldStop });
    const full = await uninterrupted(make);
    const resumed = await interruptedAndResumed(make, 22); // task 1 runs steps 16..30
    expect(await sameOutcome(resumed, full)).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe("soup plugin", () => {
  it("uniform: the task ends with the mean of its checkpoints (every N steps + the final weights)", async () => {
    const rng = new SeededRng(3);
    const seen: ParamTree[] = [];
    let step = 0;
    // Records what the soup should take: every 4th step of task 1, then the final weights.
    const recorder: Plugin = {
      name: "rec",
      onTaskStart: () => void (step = 0),
      onStepEnd: ({ task, model }) => {
        step++;
        if (task.index === 1 && step % 4 === 0) seen.push(cloneTree(model.params));
      },
      onTaskEnd: ({ task, model }) => void (task.index === 1 && seen.push(cloneTree(model.params))),
    };
    const final: ParamTree[] = [];
    const soup = soupPlugin({ recipe: "uniform", everySteps: 4 });
    const learner = learnerWith(rng, [recorder, soup, probe("f", "onTaskEnd", 1, final)]);
    await run(learner, rng, streamWithValidation());
    // 15 steps per task: checkpoints at steps 4, 8, 12 and the final weights.
    expect(soup.reports[1]?.ingredients).toEqual(["step4", "step8", "step12", "final"]);
    const expected = uniformSoup(seen);
    expect(await treesEqual(final[0]!, expected)).toBe(true);
    for (const t of [...seen, ...final, expected]) disposeTree(t);
    learner.dispose();
  });

  it("epoch checkpoints; the final weights are not added twice", async () => {
    const rng = new SeededRng(3);
    const soup = soupPlugin({ recipe: "uniform" });
    const learner = learnerWith(rng, [soup]);
    await run(learner, rng, streamWithValidation());
    expect(soup.reports.map((r) => r.ingredients)).toEqual([0, 1, 2].map(() => ["epoch1", "epoch2", "epoch3"]));
    learner.dispose();
  });

  it("greedy: starts from the best checkpoint on validation and only ever improves it", async () => {
    const rng = new SeededRng(3);
    const soup = soupPlugin({ recipe: "greedy", everySteps: 3 });
    const learner = learnerWith(rng, [soup]);
    const r = await run(learner, rng, streamWithValidation());
    expect(r.matrix[2]!.every((v) => v !== null && v >= 0)).toBe(true);
    for (const report of soup.reports) {
      const ranked = report.steps[0]!;
      expect(report.members[0]).toBe(ranked.ingredient);
      expect(report.accuracy).toBeGreaterThanOrEqual(ranked.accuracy);
      const accepted = report.steps.filter((s) => s.accepted).map((s) => s.accuracy);
      for (let i = 1; i < accepted.length; i++) expect(accepted[i]).toBeGreaterThan(accepted[i - 1]!);
      expect(report.members.length).toBe(accepted.length);
    }
    learner.dispose();
  });

  it("resumes bit-identically from a mid-task checkpoint and leaks no tensors", async () => {
    const before = tf.memory().numTensors;
    const cases = [
      { recipe: "uniform", stopAt: 22 },
      { recipe: "greedy", stopAt: 28, maxIngredients: 3 }, // task-step 13: the checkpoints of steps 8 and 12 are in the soup
    ] as const;
    for (const { recipe, stopAt, ...rest } of cases) {
      const make = (rng: SeededRng, shouldStop?: () => boolean) => learnerWith(rng, [soupPlugin({ recipe, everySteps: 4, ...rest })], { shouldStop });
      const full = await uninterrupted(make);
      const resumed = await interruptedAndResumed(make, stopAt);
      expect(await sameOutcome(resumed, full)).toBe(true);
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe("momentum_interpolation plugin", () => {
  it("a grown head keeps the slow values of the old classes and takes the new columns from the fast weights", async () => {
    const slow = tf.tensor2d([[1, 2], [3, 4]]);
    const fast = tf.tensor2d([[9, 9, 5], [9, 9, 6]]);
    const grown = growInto(slow, fast);
    expect(await values(grown)).toEqual([1, 2, 5, 3, 4, 6]);
    expect(() => growInto(fast, slow)).toThrow(/cannot grow/);
    tf.dispose([slow, fast, grown]);
  });

  it("slow weights survive head growth across tasks: with τ = 1 they stay the initialisation", async () => {
    const rng = new SeededRng(3);
    const init: ParamTree[] = [];
    const momentum = new MomentumInterpolation({ tau: 1 });
    const learner = learnerWith(rng, [momentum, probe("i", "onTaskStart", 0, init)]);
    await run(learner, rng, streamWithValidation());
    const slow = momentum.slowWeights!;
    for (const [k, t] of Object.entries(init[0]!)) {
      const s = slow[k]!;
      const head = tf.tidy(() => tf.slice(s, new Array(s.rank).fill(0), t.shape));
      expect(await values(head)).toEqual(await values(t));
      head.dispose();
    }
    disposeTree(init[0]);
    learner.dispose();
  });

  it("resumes bit-identically from a mid-task checkpoint and leaks no tensors", async () => {
    const before = tf.memory().numTensors;
    const make = (rng: SeededRng, shouldStop?: () => boolean) => learnerWith(rng, [new MomentumInterpolation({ tau: 0.9, every: 2 })], { shouldStop });
    const full = await uninterrupted(make);
    const resumed = await interruptedAndResumed(make, 22);
    expect(await sameOutcome(resumed, full)).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
  });
});
