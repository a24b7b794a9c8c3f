/**
 * Replay-buffer cost per training step: insert a batch of 32 CIFAR images (32×32×3 uint8) and sample a
 * batch of 32, with M = 2000, in steady state (buffer full, stream well past M).
 *
 *   node --import tsx tools/bench/replay-buffer.ts [--steps 4000] [--repeats 7]
 *
 * Prints a table and writes tools/bench/results/replay-buffer.json. The budget is < 5% of a training
 * step; a ResNet-32 step on 32 images takes on the order of 100 ms here, so the ratio is against 100 ms.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { SeededRng } from "@mnemo/core";
import { ClassBalancedBuffer, GDumbBuffer, ReservoirBuffer, type OnlineBuffer, type SampleBatchInput } from "@mnemo/replay";

const M = 2000;
const BATCH = 32;
const SHAPE = [32, 32, 3];
const SAMPLE_BYTES = 32 * 32 * 3;
const NUM_CLASSES = 100;
const TRAINING_STEP_MS = 100;

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}
const steps = arg("steps", 4000);
const repeats = arg("repeats", 7);

/** A pool of distinct stream batches (random bytes, labels, logits) cycled through, so inputs are not constant. */
function makeBatches(count: number, withLogits: boolean): SampleBatchInput[] {
  const rng = new SeededRng(1).stream("bench");
  return Array.from({ length: count }, () => {
    const images = new Uint8Array(BATCH * SAMPLE_BYTES);
    for (let i = 0; i < images.length; i += 4) new DataView(images.buffer).setUint32(i, rng.nextUint32());
    const labels = Int32Array.from({ length: BATCH }, () => rng.int(NUM_CLASSES));
    return withLogits ? { images, labels, fields: { logits: rng.fillNormal(new Float32Array(BATCH * NUM_CLASSES)) } } : { images, labels };
  });
}

interface Case {
  name: string;
  make: () => OnlineBuffer;
  logits: boolean;
}

const logits = { logits: { type: "float32", width: NUM_CLASSES } } as const;
const cases: Case[] = [
  { name: "reservoir", make: () => new ReservoirBuffer({ sampleShape: SHAPE, capacity: M, seed: 1 }), logits: false },
  {
    name: "reservoir + DER++ logits (100 × f32)",
    make: () => new ReservoirBuffer({ sampleShape: SHAPE, capacity: M, seed: 1, fields: logits }),
    logits: true,
  },
  {
    name: "class-balanced (floor-spread, 100 classes)",
    make: () =>
      new ClassBalancedBuffer({
        sampleShape: SHAPE,
        numClasses: NUM_CLASSES,
        policy: { kind: "fixed-total", total: M, rounding: "floor-spread" },
        seed: 1,
      }),
    logits: false,
  },
  {
    name: "GDumb greedy (100 classes)",
    make: () => new GDumbBuffer({ sampleShape: SHAPE, capacity: M, numClasses: NUM_CLASSES, seed: 1 }),
    logits: false,
  },
];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

interface Row {
  buffer: string;
  insertUs: number;
  sampleUs: number;
  totalUs: number;
  percentOfStep: number;
  byteSize: number;
}

const rows: Row[] = [];
for (const c of cases) {
  const batches = makeBatches(64, c.logits);
  const buf = c.make();
  const out = buf.createBatch(BATCH);
  // Warm-up: fill past M (steady state is the reservoir-replacement regime) and let the JIT settle.
  for (let i = 0; i < 400; i++) {
    buf.addBatch(batches[i % batches.length] as SampleBatchInput);
    buf.sample(BATCH, out);
  }
  const insertRuns: number[] = [];
  const sampleRuns: number[] = [];
  for (let r = 0; r < repeats; r++) {
    let t0 = process.hrtime.bigint();
    for (let s = 0; s < steps; s++) buf.addBatch(batches[s % batches.length] as SampleBatchInput);
    insertRuns.push(Number(process.hrtime.bigint() - t0) / 1e3 / steps);
    t0 = process.hrtime.bigint();
    for (let s = 0; s < steps; s++) buf.sample(BATCH, out);
    sampleRuns.push(Number(process.hrtime.bigint() - t0) / 1e3 / steps);
  }
  const insertUs = median(insertRuns);
  const sampleUs = median(sampleRuns);
  const totalUs = insertUs + sampleUs;
  rows.push({
    buffer: c.name,
    insertUs,
    sampleUs,
    totalUs,
    percentOfStep: (100 * totalUs) / (TRAINING_STEP_MS * 1000),
    byteSize: buf.byteSize(),
  });
}

// Worst case for insert: the fill phase, where every sample is copied into the slab (in steady state most
// offers are rejected by the reservoir test, so the rows above mostly time the coin flips).
{
  const batches = makeBatches(64, false);
  const fillBatches = Math.floor(M / BATCH);
  const runs: number[] = [];
  for (let r = 0; r < repeats * 20; r++) {
    const buf = new ReservoirBuffer({ sampleShape: SHAPE, capacity: M, seed: r });
    const t0 = process.hrtime.bigint();
    for (let s = 0; s < fillBatches; s++) buf.addBatch(batches[s % batches.length] as SampleBatchInput);
    runs.push(Number(process.hrtime.bigint() - t0) / 1e3 / fillBatches);
  }
  const sampleUs = (rows[0] as Row).sampleUs;
  const insertUs = median(runs.slice(repeats)); // the first runs warm the JIT
  rows.push({
    buffer: "reservoir, fill phase (all 32 copied)",
    insertUs,
    sampleUs,
    totalUs: insertUs + sampleUs,
    percentOfStep: (100 * (insertUs + sampleUs)) / (TRAINING_STEP_MS * 1000),
    byteSize: (rows[0] as Row).byteSize,
  });
}

const f = (x: number, d = 1) => x.toFixed(d);
console.log(
  `replay buffer cost per training step: M=${M}, ${SHAPE.join("x")} uint8, insert ${BATCH} + sample ${BATCH}; median of ${repeats} × ${steps} steps`,
);
console.log(
  `${"buffer".padEnd(44)} ${"insert µs".padStart(10)} ${"sample µs".padStart(10)} ${"total µs".padStart(10)} ${"% of 100 ms".padStart(12)} ${"bytes".padStart(10)}`,
);
for (const r of rows) {
  console.log(
    `${r.buffer.padEnd(44)} ${f(r.insertUs).padStart(10)} ${f(r.sampleUs).padStart(10)} ${f(r.totalUs).padStart(10)} ${f(r.percentOfStep, 3).padStart(12)} ${String(r.byteSize).padStart(10)}`,
  );
}

const file = join(dirname(fileURLToPath(import.meta.url)), "results", "replay-buffer.json");
mkdirSync(dirname(file), { recursive: true });
writeFileSync(
  file,
  JSON.stringify(
    {
      bench: "replay-buffer",
      date: new Date().toISOString(),
      node: process.version,
      cpu: cpus()[0]?.model ?? "unknown",
      config: { capacity: M, sampleShape: SHAPE, insertBatch: BATCH, sampleBatch: BATCH, steps, repeats, trainingStepMs: TRAINING_STEP_MS },
      unit: "microseconds per batch (median over repeats)",
      results: rows,
    },
    null,
    2,
  ) + "\n",
);
console.log(`wrote ${file}`);
