/**
 * Training and inference throughput of the CNN backbones (batch 64, 32×32×3, 100 classes).
 *
 *   node --import tsx tools/bench/throughput.ts [--backend wasm|cpu] [--threads 1|2] [--models conv4,resnet20]
 *
 * Without --threads, wasm runs with 1 and 2 threads. Each (backend, threads, model) runs in its
 * own child process so peak RSS and the thread setup belong to that configuration alone.
 * Prints a table, whether the must-targets are met and the ratio to PyTorch 1.13 on this
 * machine; merges the rows into tools/bench/results/throughput.json.
 * A script, not a test: speed is never asserted in CI.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type * as tfTypes from "@tensorflow/tfjs";

type BackendName = "wasm" | "cpu";
type ModelName = "conv4" | "resnet20";

interface Row {
  backend: BackendName;
  threads: number;
  model: ModelName;
  trainImgPerSec: number;
  forwardImgPerSec: number;
  trainStepMs: number;
  peakRssMB: number;
  steps: number;
  /** Process CPU time per training step: robust to other load on the machine, unlike wall time. */
  trainCpuMsPerStep: number;
  /** 1-minute load average before/after: above ~2 on this 2-core box, wall-clock numbers are depressed. */
  loadAvg: [number, number];
}

const BATCH = 64;
const CLASSES = 100;
const MODELS: readonly ModelName[] = ["conv4", "resnet20"];

/** PyTorch 1.13 CPU, 2 threads, same machine and workload (shared/reference/environment.md). */
const PYTORCH: Record<ModelName, { train: number; forward: number }> = {
  resnet20: { train: 478, forward: 2200 },
  conv4: { train: 808, forward: 1950 },
};

/** The must-targets of issue 3. */
const MUST: Record<ModelName, { train?: number; forward?: number }> = {
  resnet20: { train: 150, forward: 800 },
  conv4: { train: 350 },
};

const here = dirname(fileURLToPath(import.meta.url));
const resultsFile = join(here, "results", "throughput.json");

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

class UsageError extends Error {}

function parseArgs(): { backend: BackendName; threads: number[]; models: ModelName[]; seconds: number } {
  const backend = (arg("backend") ?? "wasm") as BackendName;
  if (backend !== "wasm" && backend !== "cpu") throw new UsageError(`--backend must be wasm or cpu, got ${backend}`);
  const t = arg("threads");
  const threads = backend === "cpu" ? [1] : t ? [Number(t)] : [1, 2];
  if (threads.some((n) => !Number.isInteger(n) || n < 1)) throw new UsageError(`--threads must be a positive integer, got ${t}`);
  const models = (arg("models") ?? MODELS.join(",")).split(",") as ModelName[];
  for (const m of models) if (!MODELS.includes(m)) throw new UsageError(`--models: unknown model ${m}; expected ${MODELS.join(",")}`);
  const seconds = Number(arg("seconds") ?? (backend === "cpu" ? 0 : 6));
  return { backend, threads, models, seconds };
}

// ---------------------------------------------------------------- child: one configuration

async function measure(backend: BackendName, threads: number, model: ModelName, seconds: number): Promise<Row> {
  const tf = await import("@tensorflow/tfjs");
  const { prepareWasm, wasmThreadCount } = await import("../../packages/kernels/src/index.js");
  const { createBackbone } = await import("../../packages/models/src/backbones/index.js");
  const { createOptimizer } = await import("../../packages/models/src/train/optimizers.js");
  const { RandomStream, disposeTree, keepTree, treeKeys } = await import("@mnemo/core");
  type ParamTree = import("@mnemo/core").ParamTree;

  if (backend === "wasm") await prepareWasm({ threads });
  await tf.setBackend(backend);
  tf.enableProdMode();
  const actualThreads = backend === "wasm" ? wasmThreadCount() : 1;

  // The benchmark's network is the PyTorch reference's: 1x1-conv shortcuts for ResNet-20.
  const bb = model === "resnet20" ? createBackbone("resnet20", { shortcut: "conv" }) : createBackbone("conv4");
  const rng = new RandomStream(1);
  let { params, state } = bb.init(rng, CLASSES);
  const x = tf.tensor4d(rng.fillNormal(new Float32Array(BATCH * 32 * 32 * 3)), [BATCH, 32, 32, 3]);
  const y = tf.oneHot(tf.tensor1d(Array.from({ length: BATCH }, () => rng.int(CLASSES)), "int32"), CLASSES);
  const opt = createOptimizer({ name: "sgd", momentum: 0.9 });
  const keys = treeKeys(params);

  const trainStep = async (): Promise<void> => {
    let newState: ParamTree = {};
    const { value, grads } = tf.valueAndGrads((...ts: tfTypes.Tensor[]) => {
      const p: ParamTree = Object.fromEntries(keys.map((k, i) => [k, ts[i] as tfTypes.Tensor]));
      const out = bb.apply(p, x, { training: true, state });
      newState = keepTree(out.state ?? {});
      return tf.losses.softmaxCrossEntropy(y, out.logits) as tfTypes.Scalar;
    })(keys.map((k) => params[k] as tfTypes.Tensor));
    const gradTree: ParamTree = Object.fromEntries(keys.map((k, i) => [k, grads[i] as tfTypes.Tensor]));
    const next = opt.step(params, gradTree, 0.01);
    await value.data();
    tf.dispose([value, ...grads]);
    disposeTree(params);
    disposeTree(state);
    params = next;
    state = newState;
  };
  const forward = async (): Promise<void> => {
    const logits = tf.tidy(() => bb.apply(params, x, { training: false, state }).logits);
    await logits.data();
    logits.dispose();
  };

  const timeLoop = async (fn: () => Promise<void>, warmup: number, minSteps: number) => {
    for (let i = 0; i < warmup; i++) await fn();
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    let steps = 0;
    while (steps < minSteps || performance.now() - t0 < seconds * 1000) {
      await fn();
      steps++;
    }
    const c = process.cpuUsage(c0);
    return { ms: (performance.now() - t0) / steps, steps, cpuMs: (c.user + c.system) / 1000 / steps };
  };
  const slow = backend === "cpu";
  const load0 = os.loadavg()[0] as number;
  const train = await timeLoop(trainStep, slow ? 0 : 3, slow ? 1 : 5);
  const fwd = await timeLoop(forward, slow ? 0 : 3, slow ? 1 : 10);
  return {
    backend,
    threads: actualThreads,
    model,
    trainImgPerSec: round((BATCH * 1000) / train.ms),
    forwardImgPerSec: round((BATCH * 1000) / fwd.ms),
    trainStepMs: round(train.ms),
    peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
    steps: train.steps,
    trainCpuMsPerStep: round(train.cpuMs),
    loadAvg: [round(load0), round(os.loadavg()[0] as number)],
  };
}

function round(v: number): number {
  return Math.round(v * 10) / 10;
}

// ---------------------------------------------------------------- parent: matrix, table, file

function runChild(backend: BackendName, threads: number, model: ModelName, seconds: number): Row {
  const script = fileURLToPath(import.meta.url);
  const r = spawnSync(
    process.execPath,
    ["--import", "tsx", script, "--child", "--backend", backend, "--threads", String(threads), "--models", model, "--seconds", String(seconds)],
    { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], maxBuffer: 1 << 20 },
  );
  const line = r.stdout.trim().split("\n").pop() ?? "";
  if (r.status !== 0 || !line.startsWith("{")) {
    throw new Error(`benchmark child ${backend}/${threads}/${model} failed (exit ${r.status}); output: ${r.stdout.slice(-500)}`);
  }
  return JSON.parse(line) as Row;
}

interface ResultsFile {
  machine: { cpus: string; logicalCores: number; node: string };
  batch: number;
  classes: number;
  pytorch: typeof PYTORCH;
  rows: (Row & { measuredAt: string })[];
}

function saveRows(rows: Row[]): ResultsFile {
  const measuredAt = new Date().toISOString();
  const old: ResultsFile | undefined = existsSync(resultsFile) ? (JSON.parse(readFileSync(resultsFile, "utf8")) as ResultsFile) : undefined;
  const key = (r: Row) => `${r.backend}/${r.threads}/${r.model}`;
  const merged = new Map((old?.rows ?? []).map((r) => [key(r), r]));
  for (const r of rows) merged.set(key(r), { ...r, measuredAt });
  const file: ResultsFile = {
    machine: { cpus: os.cpus()[0]?.model ?? "unknown", logicalCores: os.cpus().length, node: process.version },
    batch: BATCH,
    classes: CLASSES,
    pytorch: PYTORCH,
    rows: [...merged.values()].sort((a, b) => key(a).localeCompare(key(b))),
  };
  mkdirSync(dirname(resultsFile), { recursive: true });
  writeFileSync(resultsFile, JSON.stringify(file, null, 2) + "\n");
  return file;
}

function report(rows: Row[]): void {
  const header = ["backend", "threads", "model", "train img/s", "x PyTorch", "forward img/s", "x PyTorch", "step ms", "CPU ms/step", "peak RSS MB", "load"];
  const lines = rows.map((r) => [
    r.backend,
    String(r.threads),
    r.model,
    r.trainImgPerSec.toFixed(1),
    (r.trainImgPerSec / PYTORCH[r.model].train).toFixed(2),
    r.forwardImgPerSec.toFixed(1),
    (r.forwardImgPerSec / PYTORCH[r.model].forward).toFixed(2),
    r.trainStepMs.toFixed(1),
    r.trainCpuMsPerStep.toFixed(1),
    String(r.peakRssMB),
    r.loadAvg.map((l) => l.toFixed(1)).join("→"),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] as string).length)));
  const fmt = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i] as number)).join("  ");
  console.log(fmt(header));
  for (const l of lines) console.log(fmt(l));
  if (rows.some((r) => Math.max(...r.loadAvg) > os.cpus().length)) {
    console.log("\nwarning: the machine was busy (load > cores): wall-clock img/s understate this code's speed");
  }
  console.log("\nmust-targets (best configuration measured in this run):");
  for (const model of MODELS) {
    const mine = rows.filter((r) => r.model === model);
    if (mine.length === 0) continue;
    const best = (f: (r: Row) => number) => Math.max(...mine.map(f));
    const m = MUST[model];
    if (m.train !== undefined) {
      const v = best((r) => r.trainImgPerSec);
      console.log(`  ${model} training >= ${m.train} img/s: ${v.toFixed(1)} ${v >= m.train ? "MET" : "NOT MET"}`);
    }
    if (m.forward !== undefined) {
      const v = best((r) => r.forwardImgPerSec);
      console.log(`  ${model} forward  >= ${m.forward} img/s: ${v.toFixed(1)} ${v >= m.forward ? "MET" : "NOT MET"}`);
    }
  }
}

async function main(): Promise<void> {
  const { backend, threads, models, seconds } = parseArgs();
  if (process.argv.includes("--child")) {
    console.log(JSON.stringify(await measure(backend, threads[0] as number, models[0] as ModelName, seconds)));
    return;
  }
  if (backend === "cpu") console.warn("cpu backend: one step per model, expect several minutes per model");
  const rows: Row[] = [];
  for (const t of threads) for (const m of models) rows.push(runChild(backend, t, m, seconds));
  report(rows);
  saveRows(rows);
  console.log(`\nsaved ${resultsFile}`);
}

main().catch((e: unknown) => {
  console.error(e instanceof UsageError ? `usage: ${e.message}` : e);
  process.exitCode = 1;
});
