/**
 * The episodic MetaLearner as a core Learner: no tensor leaks over 10 meta-iterations, α = 0 is
 * plain Adam training on the query batches, a stop-and-resume mid meta-training continues to the
 * identical parameters and meta-test score, and meta-test scores come with a 95% CI.
 */
import * as tf from "@tensorflow/tfjs";
import { type ExperimentContext, MemoryTracker, type ParamTree, SeededRng, TrainingInterrupted, type Task, treeKeys } from "@mnemo/core";
import { imagesToTensor, labelsToTensor } from "@mnemo/core/tf";
import { anyStreamConfigSchema, buildStream, EpisodeSampler, isEpisodicStream, type EpisodicStream } from "@mnemo/data";
import { createOptimizer, mlp } from "@mnemo/models";
import { beforeAll, describe, expect, it } from "vitest";
import { crossEntropy, meanAndCi95, MetaLearner, type MetaLearnerOptions } from "../src/index.js";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

async function blobStream(): Promise<EpisodicStream> {
  const cfg = anyStreamConfigSchema.parse({
    kind: "meta-learning",
    dataset: { name: "synthetic-blobs", num_classes: 15, dim: 8, train_per_class: 12, test_per_class: 8, noise: 20 },
    classes: { train: 5, validation: 5, test: 5 },
    episodes: { ways: 5, shots: 1, queries: 3 },
    test_episodes: { ways: 5, shots: 1, queries: 3, count: 20 },
  });
  const s = await buildStream(cfg, { seed: 3 });
  if (!isEpisodicStream(s)) throw new Error("expected an episodic stream");
  return s;
}

function options(stream: EpisodicStream, seed: number, over: Partial<MetaLearnerOptions> = {}): MetaLearnerOptions {
  return {
    name: "maml",
    backbone: mlp({ inputShape: stream.inputShape, hidden: [16] }),
    rng: new SeededRng(seed),
    episodes: stream.episodes,
    testEpisodes: stream.testEpisodes,
    validationEpisodes: 5,
    innerLr: 0.3,
    innerSteps: 1,
    testInnerSteps: 3,
    firstOrder: false,
    metaBatch: 2,
    iterations: 10,
    metaLr: 0.01,
    optimizer: { name: "adam" },
    validateEvery: 4,
    checkpointEvery: 3,
    logEvery: 1,
    baseline: false,
    normalization: stream.normalization,
    quiet: true,
    ...over,
  };
}

function context(stream: EpisodicStream, rng: SeededRng, saveCheckpoint?: ExperimentContext["saveCheckpoint"]): ExperimentContext {
  return { rng, tracker: new MemoryTracker(), stream, log: () => {}, step: 0, saveCheckpoint };
}

const values = (tree: ParamTree): Record<string, number[]> => Object.fromEntries(treeKeys(tree).map((k) => [k, Array.from((tree[k] as tf.Tensor).dataSync())]));

describe("MetaLearner", () => {
  it("leaks no tensors over 10 second-order meta-iterations with meta-validation and meta-test", async () => {
    const stream = await blobStream();
    const task = await stream.task(0);
    const before = tf.memory().numTensors;
    const o = options(stream, 1);
    const learner = new MetaLearner(o);
    await learner.learnTask(task, context(stream, o.rng));
    const mean = await learner.evaluateSet(task.test);
    expect(mean).toBeGreaterThanOrEqual(0);
    expect(learner.record.trainLoss).toHaveLength(10);
    expect(learner.record.validation.map((v) => v.iteration)).toEqual([4, 8, 10]);
    learner.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it("α = 0 is plain Adam training on the meta-batch's query sets", async () => {
    const stream = await blobStream();
    const task = await stream.task(0);
    const o = options(stream, 7, { innerLr: 0, iterations: 4, validateEvery: 100 });
    const learner = new MetaLearner({ ...o, validationEpisodes: 1 });
    await learner.learnTask({ ...task, validation: undefined }, context(stream, o.rng));
    // The same draws by hand: init and episodes come from the same named streams of the same seed.
    const rng = new SeededRng(7);
    let params = o.backbone.init(rng.stream("init"), 5).params;
    const sampler = new EpisodeSampler(task.train, stream.episodes, rng.stream("meta/episodes"));
    const adam = createOptimizer({ name: "adam" });
    for (let it = 0; it < 4; it++) {
      const queries = [sampler.next(), sampler.next()].map((e) => {
        const rows = Int32Array.from({ length: e.query.count }, (_, i) => i);
        return { x: imagesToTensor(e.query, rows, stream.normalization), y: labelsToTensor(e.query, rows) };
      });
      const keys = treeKeys(params);
      const grads = tf.grads((...ts: tf.Tensor[]) => {
        const p: ParamTree = Object.fromEntries(keys.map((k, i) => [k, ts[i] as tf.Tensor]));
        const losses = queries.map((q) => crossEntropy(o.backbone.apply(p, q.x, { training: true }).logits, q.y));
        return tf.div(tf.addN(losses), losses.length) as tf.Scalar;
      })(keys.map((k) => params[k] as tf.Tensor));
      params = adam.step(params, Object.fromEntries(keys.map((k, i) => [k, grads[i] as tf.Tensor])), o.metaLr);
    }
    const got = values(learner.model.params);
    const want = values(params);
    for (const k of Object.keys(want)) {
      (want[k] as number[]).forEach((v, i) => expect((got[k] as number[])[i]).toBeCloseTo(v, 5));
    }
    // And meta-training moved the parameters at all (the comparison is not vacuous).
    const init = values(o.backbone.init(new SeededRng(7).stream("init"), 5).params);
    expect(Object.keys(init).some((k) => (init[k] as number[]).some((v, i) => Math.abs(v - ((got[k] as number[])[i] as number)) > 1e-4))).toBe(true);
    learner.dispose();
  });

  it("stopped mid meta-training and resumed from its saved state, ends with the identical parameters and score", async () => {
    const stream = await blobStream();
    const task: Task = await stream.task(0);
    const full = new MetaLearner(options(stream, 11));
    await full.learnTask(task, context(stream, full.options.rng));
    const fullScore = await full.evaluateSet(task.test);

    const first = new MetaLearner(options(stream, 11));
    let saved: { learner: Record<string, unknown>; rng: ReturnType<SeededRng["snapshot"]> } | undefined;
    const rng1 = first.options.rng;
    first.setShouldStop(() => (saved !== undefined));
    await expect(
      first.learnTask(task, context(stream, rng1, async () => {
        // What the runner's checkpoint holds: the learner's state and every RNG stream, copied now.
        const s = await first.saveState();
        saved = { learner: cloneState(s), rng: rng1.snapshot() };
      })),
    ).rejects.toBeInstanceOf(TrainingInterrupted);
    first.dispose();
    expect(saved).toBeDefined();
    const second = new MetaLearner(options(stream, 11));
    await second.loadState((saved as { learner: Record<string, unknown> }).learner);
    second.options.rng.restore((saved as { rng: ReturnType<SeededRng["snapshot"]> }).rng);
    await second.learnTask(task, context(stream, second.options.rng));
    expect(values(second.model.params)).toEqual(values(full.model.params));
    expect(await second.evaluateSet(task.test)).toBe(fullScore);
    expect(second.record).toEqual(full.record);
    full.dispose();
    second.dispose();
  });

  it("95% CI: 1.96·sd/√n", () => {
    const s = meanAndCi95([40, 60, 40, 60]);
    expect(s.mean).toBe(50);
    expect(s.ci95).toBeCloseTo((1.96 * Math.sqrt(400 / 3)) / 2, 10);
  });
});

/** A deep copy of a saved state: tensors cloned (the live ones keep training), the rest as is. */
function cloneState(v: Record<string, unknown>): Record<string, unknown> {
  const copy = (x: unknown): unknown => {
    if (x instanceof tf.Tensor) return x.clone();
    if (Array.isArray(x)) return x.map(copy);
    if (x && typeof x === "object") return Object.fromEntries(Object.entries(x).map(([k, y]) => [k, copy(y)]));
    return x;
  };
  return copy(v) as Record<string, unknown>;
}
