/**
 * Training and inference throughput of the CNN backbones, Mnemo beside PyTorch on this machine
 * (batch 64, 32×32×3, 100 classes, same thread count).
 *
 *   node --import tsx tools/bench/throughput.ts [--backend wasm|webgpu|node-gpu|node|cpu] [--threads 2]
 *        [--models conv4,resnet20,resnet32,reduced-resnet18] [--rounds 3] [--seconds 4] [--no-torch]
 *        [--torch-spin] [--json out.json]
 *
 * When a python that imports torch is found (tools/bench/side-by-side.ts says where it looks;
 * install: apt-get install -y python3-torch libopenblas0-pthread), each round runs, for every
 * model, Mnemo's child and the PyTorch child (tools/bench/pytorch/throughput.py) back to back in
 * alternating order, and the ratio of each pair is reported as min/median/max over the rounds.
 * PyTorch runs with OMP_WAIT_POLICY=PASSIVE (`--torch-spin`: libgomp's default spinning, which
 * collapses on a machine with more runnable threads than cores; side-by-side.ts torchEnv).
 * Without torch it says that no ratio is available. Every (framework, model, round) runs in its
 * own process so peak RSS and the thread setup belong to it alone; each row carries the load
 * average before/after (this VM is shared: above ~2 on 2 cores wall-clock numbers are depressed,
 * which is why only same-round ratios are quoted).
 * A script, not a test: speed is never asserted in CI.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type * as tfTypes from "@tensorflow/tfjs";
import { findTorchPython, formatRange, formatRatio, formatTable, noTorchMessage, ratioStats, roundOrder, torchEnv, type RatioStats } from "./side-by-side.js";

type BackendName = "wasm" | "webgpu" | "node-gpu" | "node" | "cpu";
const BACKENDS: readonly BackendName[] = ["wasm", "webgpu", "node-gpu", "node", "cpu"];
export const MODELS = ["conv4", "resnet20", "resnet32", "reduced-resnet18"] as const;
type ModelName = (typeof MODELS)[number];

export interface Row {
  framework: "mnemo" | "pytorch";
  /** Mnemo: the backend's description ("wasm (2 threads, simd)"); PyTorch: "torch 1.13.1". */
  engine: string;
  threads: number;
  model: ModelName;
  round: number;
  trainImgPerSec: number;
  forwardImgPerSec: number;
  trainStepMs: number;
  peakRssMB: number;
  steps: number;
  /** Process CPU time per training step: less sensitive to other load than wall time. */
  trainCpuMsPerStep: number;
  loadAvg: [number, number];
}

const BATCH = 64;
const CLASSES = 100;
const here = dirname(fileURLToPath(import.meta.url));
const resultsFile = join(here, "results", "throughput.json");

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

class UsageError extends Error {}

interface Args {
  backend: BackendName;
  threads: number;
  models: ModelName[];
  rounds: number;
  seconds: number;
  torch: boolean;
  /** Keep libgomp's default spin-waiting for PyTorch (see torchEnv). */
  torchSpin: boolean;
  json?: string;
}

function parseArgs(): Args {
  const backend = (arg("backend") ?? "wasm") as BackendName;
  if (!BACKENDS.includes(backend)) throw new UsageError(`--backend must be one of ${BACKENDS.join(", ")}, got ${backend}`);
  const threads = Number(arg("threads") ?? Math.min(os.cpus().length, 2));
  if (!Number.isInteger(threads) || threads < 1) throw new UsageError(`--threads must be a positive integer, got ${arg("threads")}`);
  const models = (arg("models") ?? MODELS.join(",")).split(",") as ModelName[];
  for (const m of models) if (!MODELS.includes(m)) throw new UsageError(`--models: unknown model ${m}; expected ${MODELS.join(",")}`);
  const rounds = Number(arg("rounds") ?? 3);
  if (!Number.isInteger(rounds) || rounds < 1) throw new UsageError(`--rounds must be a positive integer, got ${arg("rounds")}`);
  const seconds = Number(arg("seconds") ?? (backend === "cpu" ? 0 : 4));
  return { backend, threads, models, rounds, seconds, torch: !process.argv.includes("--no-torch"), torchSpin: process.argv.includes("--torch-spin"), json: arg("json") };
}

// ---------------------------------------------------------------- child: one Mnemo configuration

async function measure(backend: BackendName, threads: number, model: ModelName, seconds: number): Promise<Omit<Row, "round">> {
  const tf = await import("@tensorflow/tfjs");
  const { RandomStream, disposeTree, treeKeys } = await import("@mnemo/core");
  const { keepTree } = await import("@mnemo/core/tf");
  const { selectBackend, releaseBackend } = await import("@mnemo/runtime");
  const { createBackbone } = await import("../../packages/models/src/backbones/index.js");
  const { createOptimizer } = await import("../../packages/models/src/train/optimizers.js");
  type ParamTree = import("@mnemo/core").ParamTree;

  const info = await selectBackend({ backend, threads, env: {} });

  // The PyTorch twins use 1x1-conv shortcuts (option B), so the ResNets here do too.
  const bb = model === "conv4" ? createBackbone("conv4") : model === "reduced-resnet18" ? createBackbone(model) : createBackbone(model, { shortcut: "conv" });
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
  const row: Omit<Row, "round"> = {
    framework: "mnemo",
    engine: info.description,
    threads: info.threads,
    model,
    trainImgPerSec: round1((BATCH * 1000) / train.ms),
    forwardImgPerSec: round1((BATCH * 1000) / fwd.ms),
    trainStepMs: round1(train.ms),
    peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
    steps: train.steps,
    trainCpuMsPerStep: round1(train.cpuMs),
    loadAvg: [round1(load0), round1(os.loadavg()[0] as number)],
  };
  await releaseBackend();
  return row;
}

function round1(v: number): number {
  return Math.round(v * 10) / 10;
}

// ---------------------------------------------------------------- parent: rounds, table, file

function lastJsonLine(stdout: string): string | undefined {
  return stdout
    .trim()
    .split("\n")
    .reverse()
    .find((l) => l.startsWith("{"));
}

function runMnemo(a: Args, model: ModelName): Omit<Row, "round"> {
  const script = fileURLToPath(import.meta.url);
  const argv = ["--import", "tsx", script, "--child", "--backend", a.backend, "--threads", String(a.threads), "--models", model, "--seconds", String(a.seconds)];
  const r = spawnSync(process.execPath, argv, { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], maxBuffer: 1 << 20 });
  const line = lastJsonLine(r.stdout ?? "");
  if (r.status !== 0 || !line) throw new Error(`Mnemo child ${a.backend}/${model} failed (exit ${r.status}); output: ${(r.stdout ?? "").slice(-500)}`);
  return JSON.parse(line) as Omit<Row, "round">;
}

function runTorch(python: string, a: Args, model: ModelName): Omit<Row, "round"> {
  const script = join(here, "pytorch", "throughput.py");
  const env = torchEnv(a.threads, a.torchSpin);
  const r = spawnSync(python, [script, "--model", model, "--threads", String(a.threads), "--seconds", String(Math.max(a.seconds, 1)), "--batch", String(BATCH), "--classes", String(CLASSES)], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
    env,
    maxBuffer: 1 << 20,
  });
  const line = lastJsonLine(r.stdout ?? "");
  if (r.status !== 0 || !line) throw new Error(`PyTorch child ${model} failed (exit ${r.status}); output: ${(r.stdout ?? "").slice(-500)}`);
  const row = JSON.parse(line) as Omit<Row, "round" | "engine"> & { version: string };
  return { ...row, framework: "pytorch", engine: `torch ${row.version}` };
}

export interface ModelSummary {
  model: ModelName;
  mnemoTrain: number[];
  torchTrain: number[];
  mnemoForward: number[];
  torchForward: number[];
  trainRatio?: RatioStats;
  forwardRatio?: RatioStats;
  /** PyTorch's CPU ms per training step / Mnemo's (> 1 = Mnemo does the step with less CPU): less load-sensitive than wall time. */
  cpuRatio?: RatioStats;
  mnemoRssMB: number;
  torchRssMB?: number;
  load: [number, number];
}

/** Per model: the rounds' numbers of each framework and the ratio of each same-round pair. */
export function summarize(rows: readonly Row[], models: readonly ModelName[]): ModelSummary[] {
  return models
    .map((model) => {
      const mine = rows.filter((r) => r.model === model && r.framework === "mnemo");
      const theirs = rows.filter((r) => r.model === model && r.framework === "pytorch");
      const pairs = (f: (r: Row) => number) =>
        mine.flatMap((m) => {
          const t = theirs.find((r) => r.round === m.round);
          return t ? [{ mnemo: f(m), reference: f(t) }] : [];
        });
      const loads = [...mine, ...theirs].flatMap((r) => r.loadAvg);
      return {
        model,
        mnemoTrain: mine.map((r) => r.trainImgPerSec),
        torchTrain: theirs.map((r) => r.trainImgPerSec),
        mnemoForward: mine.map((r) => r.forwardImgPerSec),
        torchForward: theirs.map((r) => r.forwardImgPerSec),
        trainRatio: ratioStats(pairs((r) => r.trainImgPerSec)),
        forwardRatio: ratioStats(pairs((r) => r.forwardImgPerSec)),
        cpuRatio: ratioStats(pairs((r) => 1 / r.trainCpuMsPerStep)),
        mnemoRssMB: Math.max(0, ...mine.map((r) => r.peakRssMB)),
        torchRssMB: theirs.length ? Math.max(...theirs.map((r) => r.peakRssMB)) : undefined,
        load: [Math.min(...loads), Math.max(...loads)] as [number, number],
      };
    })
    .filter((s) => s.mnemoTrain.length > 0);
}

/** The printed report: one line per model, ratios only where PyTorch ran in the same rounds. */
export function formatReport(summaries: readonly ModelSummary[], torchNote: string | undefined): string {
  const header = ["model", "Mnemo train", "PyTorch train", "train ratio", "Mnemo fwd", "PyTorch fwd", "fwd ratio", "train CPU ratio", "RSS MB (M/PT)", "load"];
  const lines = summaries.map((s) => [
    s.model,
    formatRange(s.mnemoTrain),
    formatRange(s.torchTrain),
    formatRatio(s.trainRatio),
    formatRange(s.mnemoForward),
    formatRange(s.torchForward),
    formatRatio(s.forwardRatio),
    formatRatio(s.cpuRatio),
    `${s.mnemoRssMB}/${s.torchRssMB ?? "—"}`,
    `${s.load[0].toFixed(1)}–${s.load[1].toFixed(1)}`,
  ]);
  const out = [
    formatTable(header, lines),
    "",
    "img/s (range over rounds); ratio = Mnemo / PyTorch of the same round: median (min–max).",
    "train CPU ratio = PyTorch's CPU time per training step / Mnemo's (> 1: Mnemo needs less CPU), robust to load.",
  ];
  if (torchNote) out.push("", torchNote);
  return out.join("\n");
}

async function main(): Promise<void> {
  const a = parseArgs();
  if (process.argv.includes("--child")) {
    console.log(JSON.stringify(await measure(a.backend, a.threads, a.models[0] as ModelName, a.seconds)));
    return;
  }
  const probe = a.torch ? findTorchPython() : ({ ok: false, reason: "--no-torch" } as const);
  console.log(
    probe.ok
      ? `PyTorch ${probe.version} (${probe.python}) runs beside Mnemo, ${a.rounds} alternating rounds, OMP_WAIT_POLICY=${a.torchSpin ? "default (spin)" : "PASSIVE"}`
      : noTorchMessage(probe.reason),
  );
  if (a.backend === "cpu") console.warn("cpu backend: one step per model, expect several minutes per model");
  const rows: Row[] = [];
  for (let round = 0; round < a.rounds; round++) {
    for (const model of a.models) {
      for (const fw of roundOrder(round)) {
        if (fw === "pytorch" && !probe.ok) continue;
        const row = fw === "mnemo" ? runMnemo(a, model) : runTorch((probe as { python: string }).python, a, model);
        rows.push({ ...row, round });
        console.error(`round ${round + 1}/${a.rounds} ${fw.padEnd(7)} ${model.padEnd(16)} train ${row.trainImgPerSec} img/s, forward ${row.forwardImgPerSec} img/s, load ${row.loadAvg.join("→")}`);
      }
    }
  }
  const summaries = summarize(rows, a.models);
  const mnemo = rows.find((r) => r.framework === "mnemo");
  console.log(`\nbatch ${BATCH}, 32×32×3, ${CLASSES} classes, ${a.threads} threads; Mnemo: ${mnemo?.engine}; ${new Date().toISOString()}`);
  console.log(formatReport(summaries, probe.ok ? undefined : "no ratio to PyTorch is available: PyTorch was not found (see above)"));
  const file = {
    measuredAt: new Date().toISOString(),
    machine: { cpus: os.cpus()[0]?.model ?? "unknown", logicalCores: os.cpus().length, node: process.version },
    batch: BATCH,
    classes: CLASSES,
    backend: a.backend,
    threads: a.threads,
    pytorch: probe.ok ? { python: probe.python, version: probe.version, ompWaitPolicy: a.torchSpin ? "default (spin)" : "PASSIVE" } : { missing: probe.reason },
    summaries,
    rows,
  };
  const out = a.json ?? resultsFile;
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify(file, null, 2) + "\n");
  console.log(`\nsaved ${out}`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((e: unknown) => {
    console.error(e instanceof UsageError ? `usage: ${e.message}` : e);
    process.exitCode = 1;
  });
}
