/**
 * Replay cost against a real training step: ResNet-32 (createBackbone("resnet32")), batch 32, CIFAR-size
 * images, on the backend `selectBackend()` picks (wasm here), versus
 *   (a) the buffer alone: reservoir insert 32 + sample 32 with M = 2000 CIFAR images (steady state), and
 *   (b) all of ER's per-step bookkeeping: reconstructing the stream rows, insert, sample, uint8 → float
 *       tensor and the concat with the stream batch (everything but the forward/backward of the replayed
 *       rows, which is the method's training cost, not the buffer's).
 *
 *   node --import tsx tools/bench/replay-step.ts [--steps 12] [--buffer-steps 2000]
 *
 * Prints the ratios and writes tools/bench/results/replay-step.json. Budget (issue 6): (a) < 5% of a step.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as tf from "@tensorflow/tfjs";
import { packRows, MemoryTracker, SeededRng, type ExperimentContext, type ImageSet, type Task, type TaskStream } from "@mnemo/core";
import { imagesToTensor, labelsToTensor } from "@mnemo/core/tf";
import { selectBackend } from "@mnemo/runtime";
import { createBackbone, SupervisedLearner } from "@mnemo/models";
import { ReservoirBuffer } from "@mnemo/replay";
import { experienceReplay } from "@mnemo/replay/plugins";

const M = 2000;
const BATCH = 32;
const SHAPE = [32, 32, 3] as const;
const BYTES = 32 * 32 * 3;
const CLASSES = 100;

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}
const steps = arg("steps", 12);
const bufferSteps = arg("buffer-steps", 2000);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

function randomSet(count: number, seed: number): ImageSet {
  const rng = new SeededRng(seed).stream("bench");
  const images = new Uint8Array(count * BYTES);
  for (let i = 0; i < images.length; i++) images[i] = rng.nextUint32() & 0xff;
  const labels = Int32Array.from({ length: count }, () => rng.int(CLASSES));
  return { images, labels, count, shape: SHAPE };
}

const backend = await selectBackend();
const normalization = { mean: [0.5071, 0.4867, 0.4408], std: [0.2675, 0.2565, 0.2761] };
const train = randomSet(BATCH * (steps + 4), 1);
const stream = { normalization, numTasks: 1 } as unknown as TaskStream;
const task: Task = { index: 0, classes: Array.from({ length: CLASSES }, (_, i) => i), train, test: train };

// (0) One ResNet-32 SGD step on 32 images: the learner's own loop (batch conversion, forward, backward, update).
const rng = new SeededRng(1);
const learner = new SupervisedLearner({
  backbone: createBackbone("resnet32", { inputShape: SHAPE }),
  rng,
  head: "fixed",
  numClasses: CLASSES,
  quiet: true,
  training: { epochs: 1, batchSize: BATCH, lr: 0.1, optimizer: { name: "sgd", momentum: 0.9 }, schedule: { name: "constant" } },
});
const context: ExperimentContext = { rng, tracker: new MemoryTracker(), stream, log: () => {}, step: 0 };
const stepMs: number[] = [];
const timing = {
  name: "timer",
  onBatch: () => void (t0 = performance.now()),
  onStepEnd: () => void stepMs.push(performance.now() - t0),
};
let t0 = 0;
(learner.plugins as unknown as object[]).push(timing);
await learner.learnTask(task, context);
learner.dispose();
const stepTimes = stepMs.slice(2); // the first steps compile kernels
const trainingStepMs = median(stepTimes);

// (a) Buffer alone, steady state.
const buffer = new ReservoirBuffer({ sampleShape: SHAPE, capacity: M, seed: new SeededRng(2).stream("buffer") });
const out = buffer.createBatch(BATCH);
const pool = randomSet(BATCH * 64, 3);
const batchAt = (s: number) => {
  const k = s % 64;
  return { images: pool.images.subarray(k * BATCH * BYTES, (k + 1) * BATCH * BYTES), labels: pool.labels.subarray(k * BATCH, (k + 1) * BATCH) };
};
for (let s = 0; s < 400; s++) {
  buffer.addBatch(batchAt(s));
  buffer.sample(BATCH, out);
}
const bufferRuns: number[] = [];
for (let r = 0; r < 5; r++) {
  const t = performance.now();
  for (let s = 0; s < bufferSteps; s++) {
    buffer.addBatch(batchAt(s));
    buffer.sample(BATCH, out);
  }
  bufferRuns.push(((performance.now() - t) * 1000) / bufferSteps);
}
const bufferUs = median(bufferRuns);

// (b) ER's whole per-step bookkeeping, driven like the learner drives it (same "batching" draws).
const erRng = new SeededRng(4);
const er = experienceReplay({ rng: erRng.scope("er"), capacity: M, replayBatchSize: BATCH, sampleShape: SHAPE, numClasses: CLASSES });
const big = randomSet(M + BATCH * 64, 5);
const bigTask: Task = { ...task, train: big };
const model = undefined as never;
const erUs: number[] = [];
er.onTaskStart?.({ task: bigTask, model, context });
const order = erRng.stream("batching").permutation(big.count);
const perEpoch = Math.floor(big.count / BATCH);
for (let it = 0; it < perEpoch; it++) {
  const idx = order.slice(it * BATCH, (it + 1) * BATCH);
  const indices = Int32Array.from(idx);
  const batch = tf.tidy(() => ({ x: imagesToTensor(big, idx, normalization), y: labelsToTensor(big, idx), streamCount: idx.length, indices, raw: packRows(big, indices) }));
  const t = performance.now();
  const event = { task: bigTask, model, context, batch, epoch: 0, iteration: it };
  const replaced = er.onBatch?.(event);
  er.onStepEnd?.(event);
  if (it > 80) erUs.push((performance.now() - t) * 1000); // buffer full (2000 / 32 = 63 steps) and warm
  tf.dispose([batch.x, batch.y]);
  if (replaced) tf.dispose([replaced.x, replaced.y]);
}
const pluginUs = median(erUs);

const result = {
  bench: "replay-step",
  date: new Date().toISOString(),
  backend: backend.description,
  node: process.version,
  cpu: cpus()[0]?.model ?? "unknown",
  cores: cpus().length,
  loadavg1m: Number((loadavg()[0] as number).toFixed(2)),
  config: { capacity: M, batch: BATCH, sampleShape: SHAPE, backbone: "resnet32", trainingSteps: stepTimes.length, bufferSteps },
  trainingStepMs: Number(trainingStepMs.toFixed(1)),
  trainingStepMsAll: stepTimes.map((x) => Number(x.toFixed(1))),
  bufferInsertSampleUs: Number(bufferUs.toFixed(1)),
  bufferPercentOfStep: Number(((100 * bufferUs) / 1000 / trainingStepMs).toFixed(4)),
  erBookkeepingUs: Number(pluginUs.toFixed(1)),
  erBookkeepingPercentOfStep: Number(((100 * pluginUs) / 1000 / trainingStepMs).toFixed(3)),
  budgetPercent: 5,
};
console.log(`backend ${result.backend}; ResNet-32 training step, batch ${BATCH}: ${result.trainingStepMs} ms (median of ${stepTimes.length})`);
console.log(`(a) reservoir insert ${BATCH} + sample ${BATCH}, M=${M}: ${result.bufferInsertSampleUs} µs = ${result.bufferPercentOfStep}% of a step (budget 5%)`);
console.log(`(b) ER bookkeeping per step (rows, insert, sample, to tensor, concat): ${result.erBookkeepingUs} µs = ${result.erBookkeepingPercentOfStep}% of a step`);
const file = join(dirname(fileURLToPath(import.meta.url)), "results", "replay-step.json");
mkdirSync(dirname(file), { recursive: true });
writeFileSync(file, JSON.stringify(result, null, 2) + "\n");
console.log(`wrote ${file}`);
