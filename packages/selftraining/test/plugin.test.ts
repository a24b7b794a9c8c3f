import { beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { MemoryTracker, SeededRng, treeKeys, type ParamTree } from "@mnemo/core";
import { runExperiment } from "@mnemo/core/tf";
import { mlp, SupervisedLearner } from "@mnemo/models";
import { buildStream, streamConfigSchema, unlabelledTruth } from "@mnemo/data";
import { ensembleLoss, ensureEnsembleHeads, selfTraining, type SelfTrainingOptions, type SelfTrainingPlugin } from "../src/index.js";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

const streamConfig = streamConfigSchema.parse({
  kind: "class-incremental",
  dataset: { name: "synthetic-blobs", num_classes: 4, dim: 8, train_per_class: 60, test_per_class: 20, noise: 25 },
  increment: 2,
  order: "dataset",
  labels: { per_class: 3 },
});

async function run(options: Pick<SelfTrainingOptions, "confidence" | "policy"> & Partial<SelfTrainingOptions>, seed = 0) {
  const stream = await buildStream(streamConfig, { seed });
  const rng = new SeededRng(seed);
  const plugin = selfTraining({ warmupEpochs: 30, roundEpochs: 10, maxRounds: 3, batchSize: 16, heads: 3, rng: rng.stream("selftraining/batches"), ...options });
  const learner = new SupervisedLearner({
    backbone: mlp({ inputShape: [1, 1, 8], hidden: [16] }),
    rng,
    head: "expanding",
    numClasses: 4,
    quiet: true,
    plugins: [plugin],
    training: { epochs: 60, batchSize: 8, lr: 0.03, optimizer: { name: "adam" }, schedule: { name: "constant" } },
  });
  const tracker = new MemoryTracker();
  const precision: number[] = [];
  const before = tf.memory().numTensors;
  const result = await runExperiment(
    { name: "st", stream, learner, tracker, seed, evaluation: { scenario: "class-incremental", batchSize: 100, evaluateFutureTasks: false } },
    { rng, tracker, stream, log: () => {}, step: 0 },
    {
      onTaskEvaluated(i) {
        const { indices, labels } = plugin.pseudoLabels();
        const truth = unlabelledTruth(stream, i);
        precision.push(indices.length ? labels.filter((y, r) => y === truth[indices[r] as number]).length / indices.length : Number.NaN);
      },
    },
  );
  const keys = treeKeys(learner.model.params);
  learner.dispose();
  const leaked = tf.memory().numTensors - before;
  return { result, plugin: plugin as SelfTrainingPlugin, precision, keys, leaked };
}

describe("self-training plugin in a SupervisedLearner", () => {
  it("softmax + threshold: labels rounds, pseudo-labels are mostly right, nothing leaks, bit-reproducible", async () => {
    const a = await run({ confidence: "softmax", policy: { kind: "threshold", theta: 0.9 } });
    const b = await run({ confidence: "softmax", policy: { kind: "threshold", theta: 0.9 } });
    expect(a.result.matrix).toEqual(b.result.matrix);
    expect(a.plugin.rounds.map((r) => r.round)).toEqual([1, 2, 3, 1, 2, 3]);
    expect(a.plugin.rounds.every((r) => r.selected > 0)).toBe(true);
    for (const p of a.precision) expect(p).toBeGreaterThan(0.9);
    expect(a.leaked).toBeLessThanOrEqual(0);
  });

  it("tsim + curriculum: adds M heads under tsim.h*, the selection grows per round", async () => {
    const r = await run({ confidence: "tsim", policy: { kind: "curriculum", step: 0.2 } });
    expect(r.keys.filter((k) => k.startsWith("tsim.h"))).toEqual(["tsim.h0.bias", "tsim.h0.weight", "tsim.h1.bias", "tsim.h1.weight", "tsim.h2.bias", "tsim.h2.weight"]);
    const t0 = r.plugin.rounds.filter((x) => x.task === 0).map((x) => x.selected);
    // 114 unlabelled images; curriculum q = 0.8, 0.6, 0.4 selects ≈ 20%, 40%, 60%.
    expect(t0[0]).toBeGreaterThanOrEqual(23);
    expect(t0[0]).toBeLessThan(t0[1] as number);
    expect(t0[1]).toBeLessThan(t0[2] as number);
    expect(r.result.matrix[1]?.[1]).toBeGreaterThan(80);
    expect(r.leaked).toBeLessThanOrEqual(0);
  });

  it("the ensemble loss trains only the heads (gradient isolation)", () => {
    tf.tidy(() => {
      const rng = new SeededRng(1).stream("init");
      const backbone = mlp({ inputShape: [4], hidden: [5] });
      const { params } = backbone.init(rng, 3);
      const all = ensureEnsembleHeads(params, 3, 5, 3, rng);
      const keys = treeKeys(all);
      const x = tf.randomUniform([6, 4], 0, 1, "float32", 3);
      const xu = tf.randomUniform([4, 4], 0, 1, "float32", 4);
      const y = tf.tensor1d([0, 1, 2, 0, 1, 2], "int32");
      const grads = tf.grads((...t: tf.Tensor[]) => {
        const p: ParamTree = {};
        keys.forEach((k, i) => (p[k] = t[i] as tf.Tensor));
        const f = backbone.apply(p, x, { training: true }).features;
        const fu = backbone.apply(p, xu, { training: true }).features;
        // × 0 term: connects every key to the loss (tfjs refuses gradients of unconnected inputs).
        const all0 = tf.mul(tf.sum(backbone.apply(p, x, { training: true }).logits), 0);
        return tf.add(ensembleLoss(p, f, y, fu, 3, 1), all0) as tf.Scalar;
      })(keys.map((k) => all[k] as tf.Tensor));
      keys.forEach((k, i) => {
        const norm = tf.sum(tf.abs(grads[i] as tf.Tensor)).dataSync()[0] as number;
        if (k.startsWith("tsim.h")) expect(norm).toBeGreaterThan(0);
        else expect(norm).toBe(0);
      });
    });
  });
});
