/**
 * The FSCIL learner (@mnemo/prototypes/learner) and the cosine head it trains with, on a tiny
 * synthetic few-shot stream: 6 base classes with many images, then 2 sessions of 2-way 5-shot.
 */
import { beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import {
  accuracyCurve,
  fscilSessionFromCounts,
  type FscilSessionMetrics,
  type ExperimentContext,
  type ExperimentResult,
  type ImageSet,
  inMemoryStream,
  MemoryTracker,
  SeededRng,
  subsetByClasses,
  type Task,
  type TaskStream,
} from "@mnemo/core";
import { cloneTree, runExperiment } from "@mnemo/core/tf";
import { selectBackend } from "@mnemo/runtime";
import { cosineHead, cosineLogits, mlp, type TrainingConfig } from "@mnemo/models";
import { FscilPrototypeLearner, sessionMetrics, type FscilLearnerOptions } from "../src/learner/index.js";

/** A session's metrics from the runner's per-class counts: `predict`'s and the "plain" variant's. */
interface FscilSessionReport {
  calibrated: FscilSessionMetrics;
  plain: FscilSessionMetrics | null;
}

const SHAPE: [number, number, number] = [4, 4, 1];
const BASE = [0, 1, 2, 3, 4, 5];
const SESSIONS = [[6, 7], [8, 9]];

/** Class c lights up pixel c (and c+6 for c < 10, so novel classes share pixels with base ones), plus noise. */
function synthetic(seed: number, perClass: (c: number) => number, classes: number[]): ImageSet {
  const rng = new SeededRng(seed).stream("data");
  const size = 16;
  const total = classes.reduce((a, c) => a + perClass(c), 0);
  const images = new Uint8Array(total * size);
  const labels = new Int32Array(total);
  let k = 0;
  for (const c of classes) {
    for (let i = 0; i < perClass(c); i++, k++) {
      for (let p = 0; p < size; p++) {
        const on = p === c || p === (c + 6) % 16;
        images[k * size + p] = Math.min(255, Math.floor(rng.uniform(0, 70) + (on ? 170 : 0)));
      }
      labels[k] = c;
    }
  }
  return { images, labels, count: k, shape: SHAPE };
}

/** A few-shot stream: base classes with 40 images (+ a validation split of 10), novel classes with 5 shots. */
function fewShotStream(withValidation = true): TaskStream {
  const all = [...BASE, ...SESSIONS.flat()];
  const inner = inMemoryStream({
    name: "toy-fscil",
    scenario: "few-shot-class-incremental",
    train: synthetic(1, (c) => (c < 6 ? 40 : 5), all),
    test: synthetic(2, () => 20, all),
    taskClasses: [BASE, ...SESSIONS],
  });
  const validation = subsetByClasses(synthetic(3, () => 10, BASE), BASE);
  return {
    ...inner,
    async task(index: number): Promise<Task> {
      const t = await inner.task(index);
      return index === 0 && withValidation ? { ...t, validation } : t;
    },
  };
}

const training: TrainingConfig = { epochs: 3, batchSize: 16, lr: 0.1, optimizer: { name: "sgd", momentum: 0.9 }, schedule: { name: "constant" } };

function learnerFor(seed: number, extra: Partial<FscilLearnerOptions> = {}): FscilPrototypeLearner {
  return new FscilPrototypeLearner({ backbone: mlp({ inputShape: SHAPE, hidden: [32] }), training, rng: new SeededRng(seed), quiet: true, ...extra });
}

interface Run {
  result: ExperimentResult;
  reports: FscilSessionReport[];
  tracker: MemoryTracker;
  logs: string[];
  prototypes: number[][][];
}

async function run(learner: FscilPrototypeLearner, stream = fewShotStream()): Promise<Run> {
  return runWith(learner, stream);
}

async function runWith(learner: FscilPrototypeLearner, stream: TaskStream, after?: (i: number) => Promise<void>): Promise<Run> {
  const tracker = new MemoryTracker();
  const logs: string[] = [];
  const context: ExperimentContext = { rng: new SeededRng(0), tracker, stream, log: (m) => logs.push(m), step: 0 };
  const reports: FscilSessionReport[] = [];
  const prototypes: number[][][] = [];
  const result = await runExperiment(
    { name: "toy", stream, learner, tracker, seed: 0, evaluation: { scenario: "class-incremental", batchSize: 64, evaluateFutureTasks: false } },
    context,
    {
      onTaskEvaluated: async (i, _row, partial) => {
        const counts = partial.perClassCounts!;
        const hasPlain = counts[i]![0]!.variants?.plain !== undefined;
        reports[i] = { calibrated: fscilSessionFromCounts(counts, partial.taskClasses, i), plain: hasPlain ? fscilSessionFromCounts(counts, partial.taskClasses, i, "plain") : null };
        prototypes[i] = learner.prototypeClassifier.prototypes().prototypes.to2DArray();
        await after?.(i);
      },
    },
  );
  return { result, reports, tracker, logs, prototypes };
}

beforeAll(async () => {
  await selectBackend({ backend: "wasm", env: {} });
});

describe("cosineHead", () => {
  it("gives s·cos logits, has no bias, trains every parameter and grows by keeping old columns", () => {
    const before = tf.memory().numTensors;
    const backbone = cosineHead(mlp({ inputShape: SHAPE, hidden: [8] }), { scale: 16 });
    const rng = new SeededRng(1);
    const { params, state } = backbone.init(rng.stream("init"), 3);
    expect(Object.keys(params).sort()).toEqual(["fc0.bias", "fc0.weight", "head.weight"]);
    const x = tf.randomUniform([5, 4, 4, 1], 0, 1, "float32", 1);
    const out = backbone.apply(params, x, { training: false, state });
    const expected = tf.tidy(() => {
      const f = out.features.div(out.features.norm("euclidean", 1, true));
      const w = params["head.weight"] as tf.Tensor2D;
      return f.matMul(w.div(w.norm("euclidean", 0, true))).mul(16) as tf.Tensor2D;
    });
    const got = out.logits.arraySync();
    expected.arraySync().forEach((row, i) => row.forEach((v, j) => expect(got[i]?.[j]).toBeCloseTo(v, 4)));
    expect(Math.max(...got.flat().map(Math.abs))).toBeLessThanOrEqual(16 + 1e-4);

    // Every trainable tensor is reachable from the loss (tfjs throws otherwise).
    const keys = Object.keys(params).sort();
    const { grads, value } = tf.valueAndGrads((...ts: tf.Tensor[]) => {
      const p = Object.fromEntries(keys.map((k, i) => [k, ts[i] as tf.Tensor]));
      return backbone.apply(p, x, { training: true, state }).logits.square().mean() as tf.Scalar;
    })(keys.map((k) => params[k] as tf.Tensor));
    for (const g of grads) expect(tf.tidy(() => g.abs().sum().dataSync()[0])).toBeGreaterThan(0);

    const grown = backbone.growHead(params, 5, rng.stream("init"));
    expect(grown["head.weight"]?.shape).toEqual([8, 5]);
    expect(tf.tidy(() => Array.from(grown["head.weight"]!.slice([0, 0], [8, 3]).dataSync()))).toEqual(Array.from(params["head.weight"]!.dataSync()));
    tf.dispose([x, out.features, out.logits, expected, value, ...grads, grown["head.weight"] as tf.Tensor, ...Object.values(params)]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it("zero feature rows give zero logits, not NaN", () => {
    const logits = tf.tidy(() => cosineLogits(tf.zeros([2, 3]), tf.ones([3, 4]), 16).arraySync());
    expect(logits.flat().every((v) => v === 0)).toBe(true);
  });
});

describe("FscilPrototypeLearner", () => {
  it("learns the base classes, adds few-shot classes, and leaks no tensors", async () => {
    const before = tf.memory().numTensors;
    const learner = learnerFor(7);
    const { result, reports, tracker, logs } = await run(learner);
    learner.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(result.matrix[0]?.[0]).toBeGreaterThan(90);
    expect(result.matrix[2]?.[2]).toBeGreaterThan(50); // 2 new classes among 10 from 5 shots each
    expect(tracker.metrics.some((m) => m.key === "val_accuracy")).toBe(true); // selection ran on validation
    expect(logs.join("\n")).not.toContain("no validation split");
    // The evaluator's session accuracy is the sample-weighted A_t of the accuracy matrix.
    const curve = accuracyCurve(result.matrix.map((r) => r.map((v) => v ?? 0)), result.testSizes);
    reports.forEach((r, i) => expect(r.calibrated.accuracy).toBeCloseTo(curve[i] as number, 9));
    expect(reports[0]?.calibrated.novel).toBeNaN();
    expect(reports[2]?.calibrated.harmonicMean).toBeGreaterThan(0);
  });

  it("the counts recorded by the runner's evaluation give the metrics of predicting every seen test image directly", async () => {
    const stream = fewShotStream();
    const learner = learnerFor(9);
    const direct: FscilSessionMetrics[] = [];
    const { reports } = await runWith(learner, stream, async (i) => {
      const images: number[] = [];
      const labels: number[] = [];
      for (let j = 0; j <= i; j++) {
        const set = await stream.testSet(j);
        images.push(...set.images);
        labels.push(...set.labels);
      }
      const x = tf.tensor4d(Float32Array.from(images, (v) => v / 255), [labels.length, ...SHAPE]);
      const pred = learner.predict(x);
      direct[i] = sessionMetrics(pred.dataSync(), labels, 6 + 2 * i, BASE.length);
      tf.dispose([x, pred]);
    });
    learner.dispose();
    expect(reports.map((r) => r.calibrated)).toEqual(direct);
    expect(reports[2]?.plain?.novel).toBeGreaterThan(0);
  });

  it("is bit-identical for a seed and differs for another seed", async () => {
    const a = await run(learnerFor(11));
    const b = await run(learnerFor(11));
    const c = await run(learnerFor(12));
    expect(a.result.matrix).toEqual(b.result.matrix);
    expect(a.prototypes).toEqual(b.prototypes);
    expect(a.prototypes).not.toEqual(c.prototypes);
  });

  it("calibration never changes base prototypes, nor predictions among base classes on base data", async () => {
    const learner = learnerFor(5);
    const stream = fewShotStream();
    const context: ExperimentContext = { rng: new SeededRng(0), tracker: new MemoryTracker(), stream, log: () => {}, step: 0 };
    const baseTest = await stream.testSet(0);
    const x = tf.tensor4d(Float32Array.from(baseTest.images, (v) => v / 255), [baseTest.count, ...SHAPE]);
    const baseOnly = { classes: BASE };
    await learner.learnTask(await stream.task(0), context);
    const protos0 = BASE.map((c) => Array.from(learner.prototypeClassifier.prototype(c)));
    const pred0 = learner.predict(x, baseOnly);
    const predAll0 = learner.predict(x);
    expect(Array.from(pred0.dataSync())).toEqual(Array.from(predAll0.dataSync())); // only base classes exist yet
    for (const s of [1, 2]) {
      await learner.learnTask(await stream.task(s), context);
      expect(BASE.map((c) => Array.from(learner.prototypeClassifier.prototype(c)))).toEqual(protos0);
      expect(BASE.map((c) => Array.from(learner.plainClassifier!.prototype(c)))).toEqual(protos0);
      // Novel prototypes really are calibrated (they differ from the plain normalised means).
      const novel = SESSIONS[s - 1]![0]!;
      expect(Array.from(learner.prototypeClassifier.prototype(novel))).not.toEqual(Array.from(learner.plainClassifier!.prototype(novel)));
      const pred = learner.predict(x, baseOnly);
      expect(Array.from(pred.dataSync())).toEqual(Array.from(pred0.dataSync()));
      pred.dispose();
    }
    tf.dispose([x, pred0, predAll0]);
    learner.dispose();
  });

  it("teen: false predicts with plain prototypes (no second classifier)", async () => {
    const teen = await run(learnerFor(3));
    const plainLearner = learnerFor(3, { teen: false });
    const plain = await run(plainLearner);
    expect(plainLearner.plainClassifier).toBeNull();
    expect(plainLearner.name).toBe("prototypes");
    // Same seed, same base model: the uncalibrated shadow of the TEEN run is the plain run.
    plain.reports.forEach((r, i) => expect(r.calibrated).toEqual(teen.reports[i]?.plain));
    plainLearner.dispose();
  });

  it("saveState/loadState restores predictions exactly and leaks nothing", async () => {
    const before = tf.memory().numTensors;
    const stream = fewShotStream();
    const context: ExperimentContext = { rng: new SeededRng(0), tracker: new MemoryTracker(), stream, log: () => {}, step: 0 };
    const a = learnerFor(9);
    await a.learnTask(await stream.task(0), context);
    await a.learnTask(await stream.task(1), context);
    const saved = await a.saveState();
    // What a checkpoint round trip gives: copies of the tensors, structured-cloned typed arrays.
    const decoded = { ...structuredClone({ ...saved, params: null, state: null }), params: cloneTree(saved.params!), state: cloneTree(saved.state!) };
    const b = learnerFor(9);
    await b.loadState(decoded); // b owns the copies now
    const test = await stream.testSet(1);
    const x = tf.tensor4d(Float32Array.from(test.images, (v) => v / 255), [test.count, ...SHAPE]);
    const pa = a.predict(x);
    const pb = b.predict(x);
    expect(Array.from(pb.dataSync())).toEqual(Array.from(pa.dataSync()));
    tf.dispose([x, pa, pb]);
    const withoutTensors = { ...saved, params: null, state: null };
    await expect(learnerFor(9, { teen: false }).loadState(withoutTensors)).rejects.toThrow(/TEEN on/);
    await expect(b.loadState({ kind: "other" })).rejects.toThrow(/fscil-prototypes/);
    a.dispose();
    b.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it("says so when the base session has no validation split", async () => {
    const learner = learnerFor(2, { training: { ...training, epochs: 1 } });
    const { logs, tracker } = await run(learner, fewShotStream(false));
    learner.dispose();
    expect(logs.join("\n")).toMatch(/no validation split.*stream\.validation\.fraction/);
    expect(tracker.metrics.some((m) => m.key === "val_accuracy")).toBe(false);
  });

  it("predicting before the base session is a clear error", () => {
    const x = tf.zeros([1, ...SHAPE]);
    expect(() => learnerFor(1).predict(x)).toThrow(/learn task 0/);
    x.dispose();
  });
});
