/**
 * Replay methods on the Experiment/Learner/Plugin contract, on a small synthetic class-incremental stream
 * (4x4 grey images; class c lights pixel c). Checks: no tensor leaks, bit-identical runs for a seed,
 * stored samples are the trained samples, DER++'s logit term, iCaRL's quota after each task, GDumb's
 * re-initialisation from the "init" stream, joint training on the union, and state round trips.
 */
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import {
  inMemoryStream,
  MemoryTracker,
  SeededRng,
  type ExperimentContext,
  type ExperimentResult,
  type ImageSet,
  type Learner,
  type ParamTree,
  type Plugin,
  type TaskStream,
} from "@mnemo/core";
import { runExperiment } from "@mnemo/core/tf";
import { selectBackend } from "@mnemo/runtime";
import { mlp, SupervisedLearner, type TrainingConfig } from "@mnemo/models";
import {
  derpp,
  experienceReplay,
  GDumbLearner,
  icarl,
  JointLearner,
  logitMatchingLoss,
  reweightCrossEntropy,
  type IcarlOptions,
} from "../src/plugins/index.js";
import { ClassBalancedBuffer, ReservoirBuffer } from "../src/index.js";

const SHAPE = [4, 4, 1] as const;
const CLASSES = 6;

function synthetic(seed: number, perClass: number): ImageSet {
  const rng = new SeededRng(seed).stream("data");
  const size = 16;
  const images = new Uint8Array(perClass * CLASSES * size);
  const labels = new Int32Array(perClass * CLASSES);
  let k = 0;
  for (let c = 0; c < CLASSES; c++) {
    for (let i = 0; i < perClass; i++, k++) {
      for (let p = 0; p < size; p++) images[k * size + p] = Math.min(255, Math.floor(rng.uniform(0, 60) + (p === c ? 190 : 0)));
      labels[k] = c;
    }
  }
  return { images, labels, count: k, shape: SHAPE };
}

const train = synthetic(1, 40);
const test = synthetic(2, 20);
const stream = (): TaskStream => inMemoryStream({ name: "toy", train, test, taskClasses: [[0, 1], [2, 3], [4, 5]] });
const training: TrainingConfig = { epochs: 4, batchSize: 16, lr: 0.01, optimizer: { name: "adam" }, schedule: { name: "constant" } };
const backbone = () => mlp({ inputShape: SHAPE, hidden: [32] });

async function run(learner: Learner, rng: SeededRng, s = stream()): Promise<ExperimentResult> {
  const tracker = new MemoryTracker();
  const context: ExperimentContext = { rng, tracker, stream: s, log: () => {}, step: 0 };
  return runExperiment({ name: "toy", stream: s, learner, tracker, seed: rng.seed, evaluation: { scenario: "class-incremental", batchSize: 64, evaluateFutureTasks: false } }, context);
}

function replayLearner(rng: SeededRng, plugins: Plugin[]): SupervisedLearner {
  return new SupervisedLearner({ backbone: backbone(), training, rng, head: "expanding", numClasses: CLASSES, plugins, quiet: true });
}

function histogram(labels: ArrayLike<number>): number[] {
  const h = new Array<number>(CLASSES).fill(0);
  for (let i = 0; i < labels.length; i++) h[labels[i] as number]! += 1;
  return h;
}

function finalAccuracy(r: ExperimentResult): number {
  const last = r.matrix[r.matrix.length - 1] as (number | null)[];
  return (last as number[]).reduce((a, b) => a + b, 0) / last.length;
}

/** A plugin that records something at each task end (runs after the plugins before it). */
function onTaskEnd(fn: Plugin["onTaskEnd"]): Plugin {
  return { name: "probe", onTaskEnd: fn };
}

function imageKey(images: Uint8Array, i: number, bytes = 16): string {
  return Array.from(images.subarray(i * bytes, (i + 1) * bytes)).join(",");
}

const trainKeys = new Map<string, number>();
for (let i = 0; i < train.count; i++) trainKeys.set(imageKey(train.images, i), train.labels[i] as number);

beforeAll(async () => {
  await selectBackend({ backend: "wasm", env: {} });
});

describe("experience replay", () => {
  async function erRun(seed: number) {
    const rng = new SeededRng(seed);
    const er = experienceReplay({ rng, capacity: 30, replayBatchSize: 16, sampleShape: SHAPE, numClasses: CLASSES });
    const learner = replayLearner(rng, [er]);
    const result = await run(learner, rng);
    learner.dispose();
    return { result, er };
  }

  it("stores exactly the trained stream samples, beats fine-tuning's forgetting, leaks no tensors", async () => {
    const before = tf.memory().numTensors;
    const { result, er } = await erRun(3);
    expect(tf.memory().numTensors).toBe(before);
    // 3 tasks x 4 epochs x 80 images offered, one per trained stream row.
    if (!(er.buffer instanceof ReservoirBuffer)) throw new Error("ER's default buffer is a reservoir");
    expect(er.bufferKind).toBe("reservoir");
    expect(er.buffer.seen).toBe(3 * 4 * 80);
    expect(er.buffer.size).toBe(30);
    const seenLabels = new Set<number>();
    for (const slot of er.buffer.slots()) {
      const label = trainKeys.get(Array.from(er.buffer.imageAt(slot)).join(","));
      expect(label).toBe(er.buffer.labelAt(slot));
      seenLabels.add(label as number);
    }
    expect(seenLabels.size).toBeGreaterThan(3); // old classes survive in the reservoir
    const R = result.matrix;
    expect(R[2]?.[0]).toBeGreaterThan(50); // fine-tuning drops task 0 to ~0 here
  });

  it("buffer: class_balanced splits M evenly over the classes seen after every task; stored() is the buffer's contents", async () => {
    const rng = new SeededRng(3);
    const er = experienceReplay({ rng, capacity: 30, replayBatchSize: 16, sampleShape: SHAPE, numClasses: CLASSES, buffer: "class_balanced" });
    const counts: number[][] = [];
    const learner = replayLearner(rng, [er, onTaskEnd(() => void counts.push(histogram(er.stored().labels)))]);
    await run(learner, rng);
    learner.dispose();
    expect(er.buffer).toBeInstanceOf(ClassBalancedBuffer);
    // 30 slots over 2, 4, 6 classes seen: 15 each, then 8,8,7,7 (remainder to the first seen), then 5 each.
    expect(counts).toEqual([
      [15, 15, 0, 0, 0, 0],
      [8, 8, 7, 7, 0, 0],
      [5, 5, 5, 5, 5, 5],
    ]);
    const stored = er.stored();
    for (let i = 0; i < stored.count; i++) expect(trainKeys.get(imageKey(stored.images, i))).toBe(stored.labels[i]);
  });

  it("is bit-identical for a seed, different for another", async () => {
    const a = await erRun(5);
    const b = await erRun(5);
    const c = await erRun(6);
    expect(a.result.matrix).toEqual(b.result.matrix);
    expect(Array.from(a.er.buffer.state().arrays.images)).toEqual(Array.from(b.er.buffer.state().arrays.images));
    expect(Array.from(a.er.buffer.state().arrays.images)).not.toEqual(Array.from(c.er.buffer.state().arrays.images));
  });

  it("state() / loadState() restore the buffer and the batch reconstruction", async () => {
    const { er } = await erRun(7);
    const copy = experienceReplay({ rng: new SeededRng(99), capacity: 30, replayBatchSize: 16, sampleShape: SHAPE, numClasses: CLASSES });
    const saved = JSON.parse(JSON.stringify(er.state(), (_k, v) => (ArrayBuffer.isView(v) ? { typed: v.constructor.name, data: Array.from(v as Int32Array) } : v)), (_k, v) =>
      v && typeof v === "object" && "typed" in v ? new (globalThis as unknown as Record<string, new (d: number[]) => unknown>)[v.typed as string]!(v.data) : v,
    );
    copy.loadState(saved);
    const a = er.buffer.createBatch(8);
    const b = copy.buffer.createBatch(8);
    er.buffer.sample(8, a);
    copy.buffer.sample(8, b);
    expect(Array.from(b.slots)).toEqual(Array.from(a.slots));
    expect(Array.from(b.images)).toEqual(Array.from(a.images));
  });
});

describe("DER++", () => {
  it("the logit term is zero when the current logits equal the stored ones, on the stored columns only", () => {
    const before = tf.memory().numTensors;
    const stored = tf.tensor2d([[1, -2, 0, 0], [0.5, 3, 0, 0]]);
    const mask = tf.tensor2d([[1, 1, 0, 0], [1, 1, 0, 0]]); // stored when the head had 2 classes
    const same = tf.tensor2d([[1, -2, 7, -9], [0.5, 3, 4, 4]]); // new columns are free
    const other = tf.tensor2d([[2, -2, 7, -9], [0.5, 1, 4, 4]]);
    const zero = logitMatchingLoss(same, stored, mask);
    const some = logitMatchingLoss(other, stored, mask);
    expect(zero.dataSync()[0]).toBe(0);
    expect(some.dataSync()[0]).toBeCloseTo((1 + 4) / 4, 6);
    tf.dispose([stored, mask, same, other, zero, some]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it("reweighting makes the learner's mean CE plus the correction equal the method's row weights", () => {
    const logits = tf.tensor2d([[1, 2, 0], [0, 1, 3], [2, 0, 1], [1, 1, 1]]);
    const y = tf.tensor1d([1, 2, 0, 1], "int32");
    const ce = tf.losses.softmaxCrossEntropy(tf.oneHot(y, 3), logits).dataSync()[0] as number;
    const rows = tf.tidy(() => tf.neg(tf.sum(tf.mul(tf.oneHot(y, 3), tf.logSoftmax(logits)), 1)).dataSync());
    const w = Float32Array.of(0.5, 0.5, 0, 0.25);
    const total = ce + (reweightCrossEntropy(logits, y, w).dataSync()[0] as number);
    expect(total).toBeCloseTo(0.5 * rows[0]! + 0.5 * rows[1]! + 0.25 * rows[3]!, 5);
    tf.dispose([logits, y]);
  });

  it("stores training-time logits of the trained samples with their head width; learns; no leaks; reproducible", async () => {
    const before = tf.memory().numTensors;
    const once = async () => {
      const rng = new SeededRng(4);
      const plugin = derpp({ rng, capacity: 30, replayBatchSize: 16, sampleShape: SHAPE, numClasses: CLASSES, alpha: 0.3, beta: 0.5 });
      const widths: number[][] = [];
      const probe = onTaskEnd(() => {
        widths.push(Array.from(plugin.buffer.slots(), (s) => plugin.buffer.fieldAt("width", s)[0] as number));
      });
      const learner = replayLearner(rng, [plugin, probe]);
      const result = await run(learner, rng);
      learner.dispose();
      return { result, widths, plugin };
    };
    const a = await once();
    expect(tf.memory().numTensors).toBe(before);
    expect(new Set(a.widths[0])).toEqual(new Set([2])); // head of 2 classes during task 0
    expect(new Set(a.widths[2])).toContain(6);
    expect(Math.min(...(a.widths[2] as number[]))).toBeLessThan(6); // narrower logits from earlier tasks survive
    for (const slot of a.plugin.buffer.slots()) {
      expect(trainKeys.get(Array.from(a.plugin.buffer.imageAt(slot)).join(","))).toBe(a.plugin.buffer.labelAt(slot));
      const w = a.plugin.buffer.fieldAt("width", slot)[0] as number;
      const logits = a.plugin.buffer.fieldAt("logits", slot);
      expect(Array.from(logits.subarray(w)).every((v) => v === 0)).toBe(true);
      expect(Array.from(logits.subarray(0, w)).some((v) => v !== 0)).toBe(true);
    }
    expect(a.result.matrix[2]?.[0]).toBeGreaterThan(50);
    const b = await once();
    expect(b.result.matrix).toEqual(a.result.matrix);
  });
});

describe("iCaRL", () => {
  const base = (rng: SeededRng): IcarlOptions => ({
    rng,
    sampleShape: SHAPE,
    numClasses: CLASSES,
    memory: { kind: "fixed-total", total: 12, rounding: "floor" },
    distillation: { kind: "kd", temperature: 2 },
    classifier: "nmc",
    nmc: "pycil",
    herding: "pycil",
    replayBatchSize: "proportional",
    featureBatchSize: 32,
  });

  async function icarlRun(seed: number, patch: Partial<IcarlOptions> = {}) {
    const rng = new SeededRng(seed);
    const plugin = icarl({ ...base(rng), ...patch });
    const counts: Record<number, number>[] = [];
    const probe = onTaskEnd(() => {
      const c: Record<number, number> = {};
      for (const label of plugin.memory.classes()) c[label] = plugin.memory.exemplarSlots(label).length;
      counts.push(c);
    });
    const learner = replayLearner(rng, [plugin, probe]);
    const result = await run(learner, rng);
    learner.dispose();
    return { result, counts, plugin };
  }

  it("keeps floor(K/k) herded exemplars per class after every task, classifies by NMC, leaks no tensors", async () => {
    const before = tf.memory().numTensors;
    const { result, counts, plugin } = await icarlRun(2);
    expect(tf.memory().numTensors).toBe(before); // teacher snapshots released by the learner's dispose
    expect(counts).toEqual([
      { 0: 6, 1: 6 },
      { 0: 3, 1: 3, 2: 3, 3: 3 },
      { 0: 2, 1: 2, 2: 2, 3: 2, 4: 2, 5: 2 },
    ]);
    expect(plugin.classifier.classes()).toEqual([0, 1, 2, 3, 4, 5]);
    expect(finalAccuracy(result)).toBeGreaterThan(70);
  });

  it("per-class memory grows with the classes; the ceil rule may exceed K", async () => {
    const perClass = await icarlRun(2, { memory: { kind: "per-class", perClass: 4 } });
    expect(perClass.counts[2]).toEqual({ 0: 4, 1: 4, 2: 4, 3: 4, 4: 4, 5: 4 });
    const ceil = await icarlRun(2, { memory: { kind: "fixed-total", total: 10, rounding: "ceil" } });
    expect(ceil.counts.map((c) => Object.values(c))).toEqual([[5, 5], [3, 3, 3, 3], [2, 2, 2, 2, 2, 2]]);
  });

  it("is bit-identical for a seed; the BCE variant and flip-averaged means also run leak-free", async () => {
    const a = await icarlRun(8);
    const b = await icarlRun(8);
    expect(a.result.matrix).toEqual(b.result.matrix);
    const before = tf.memory().numTensors;
    const bce = await icarlRun(8, { distillation: { kind: "bce" }, nmc: "icarl" });
    expect(tf.memory().numTensors).toBe(before);
    expect(finalAccuracy(bce.result)).toBeGreaterThan(50);
  });

  it("KD is the PyCIL formula", async () => {
    const { knowledgeDistillation } = await import("../src/plugins/index.js");
    const z = tf.tensor2d([[1, 2, 3], [0, -1, 1]]);
    const old = tf.tensor2d([[0.5, 1], [2, 0]]);
    const T = 2;
    const got = knowledgeDistillation(z, old, T).dataSync()[0] as number;
    const zs = [[1, 2], [0, -1]];
    const os = [[0.5, 1], [2, 0]];
    let want = 0;
    for (let i = 0; i < 2; i++) {
      const p = os[i]!.map((v) => Math.exp(v / T));
      const ps = p.reduce((a, b) => a + b, 0);
      const q = zs[i]!.map((v) => Math.exp(v / T));
      const qs = q.reduce((a, b) => a + b, 0);
      for (let j = 0; j < 2; j++) want -= (p[j]! / ps) * Math.log(q[j]! / qs);
    }
    expect(got).toBeCloseTo(want / 2, 5);
    tf.dispose([z, old]);
  });
});

describe("GDumb and joint", () => {
  /** Records the parameters each inner learner starts a task with. */
  function startProbe(into: ParamTree[]): Plugin {
    return {
      name: "start-probe",
      onTaskStart({ model }) {
        into.push(Object.fromEntries(Object.entries(model.params).map(([k, t]) => [k, t.clone()])));
      },
    };
  }

  it("GDumb re-initialises from the seeded init stream at every task and trains on its balanced buffer", async () => {
    const before = tf.memory().numTensors;
    const rng = new SeededRng(12);
    const starts: ParamTree[] = [];
    const learner = new GDumbLearner({ backbone: backbone(), training: { ...training, epochs: 30 }, rng, capacity: 18, numClasses: CLASSES, sampleShape: SHAPE, plugins: [startProbe(starts)], quiet: true });
    const result = await run(learner, rng);
    // The k-th model is the k-th draw of "init" with a head over the classes seen so far.
    const fresh = new SeededRng(12).stream("init");
    [2, 4, 6].forEach((classes, k) => {
      const { params, state } = backbone().init(fresh, classes);
      for (const key of Object.keys(params)) expect(Array.from(starts[k]![key]!.dataSync())).toEqual(Array.from(params[key]!.dataSync()));
      tf.dispose([...Object.values(params), ...Object.values(state)]);
    });
    expect([0, 1, 2, 3, 4, 5].map((c) => learner.buffer.countOf(c))).toEqual([3, 3, 3, 3, 3, 3]);
    expect(finalAccuracy(result)).toBeGreaterThan(60);
    learner.dispose();
    for (const t of starts) tf.dispose(Object.values(t));
    expect(tf.memory().numTensors).toBe(before);
  });

  it("plugins live as long as their learner: disposed once, at its dispose, never between tasks", async () => {
    const lifetime = () => {
      const seen = { disposals: 0, disposedAtTaskStart: [] as number[] };
      const plugin: Plugin = { name: "lifetime", onTaskStart: () => void seen.disposedAtTaskStart.push(seen.disposals), dispose: () => void seen.disposals++ };
      return { plugin, seen };
    };
    const learners = [
      (p: Plugin, rng: SeededRng) => new JointLearner({ backbone: backbone(), training, rng, plugins: [p], quiet: true }),
      (p: Plugin, rng: SeededRng) => new GDumbLearner({ backbone: backbone(), training, rng, capacity: 18, numClasses: CLASSES, sampleShape: SHAPE, plugins: [p], quiet: true }),
      (p: Plugin, rng: SeededRng) => replayLearner(rng, [p]),
    ];
    for (const make of learners) {
      const { plugin, seen } = lifetime();
      const rng = new SeededRng(14);
      const learner = make(plugin, rng);
      await run(learner, rng);
      // A retraining learner used to dispose the plugins with each task's model (0, 1, 2 here).
      expect(seen.disposedAtTaskStart, learner.name).toEqual([0, 0, 0]);
      learner.dispose();
      // ReplayLearner used to dispose its plugins twice.
      expect(seen.disposals, learner.name).toBe(1);
    }
    // A learner that never trained still releases its plugins.
    const { plugin, seen } = lifetime();
    new JointLearner({ backbone: backbone(), training, rng: new SeededRng(1), plugins: [plugin], quiet: true }).dispose();
    expect(seen.disposals).toBe(1);
  });

  it("joint trains a fresh model on the union of the tasks so far", async () => {
    const before = tf.memory().numTensors;
    const rng = new SeededRng(13);
    const sizes: number[] = [];
    const probe: Plugin = { name: "size", onTaskStart: ({ task }) => void sizes.push(task.train.count) };
    const learner = new JointLearner({ backbone: backbone(), training, rng, plugins: [probe], quiet: true });
    const result = await run(learner, rng);
    expect(sizes).toEqual([80, 160, 240]);
    expect(finalAccuracy(result)).toBeGreaterThan(85);
    const saved = await learner.saveState();
    const restored = new JointLearner({ backbone: backbone(), training, rng: new SeededRng(1), quiet: true });
    await restored.loadState(saved);
    const x = tf.randomUniform([5, 4, 4, 1]);
    const [p, q] = [restored.predict(x), learner.predict(x)];
    expect(Array.from(p.dataSync())).toEqual(Array.from(q.dataSync()));
    tf.dispose([x, p, q]);
    learner.dispose();
    restored.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
