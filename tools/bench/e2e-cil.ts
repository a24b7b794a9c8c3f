/**
 * End to end, where a user waits: one class-incremental run in Mnemo (`mnemo run`, the real CLI)
 * and the same protocol in a PyTorch script (tools/bench/pytorch/e2e_cil.py), on CIFAR-10 files
 * in the official binary format, generated at full size (50,000 + 10,000 images) by
 * packages/data/src/testing/generators.ts.
 *
 *   node --import tsx tools/bench/e2e-cil.ts [--model resnet20|resnet32] [--reduced] [--epochs 1]
 *        [--rounds 1] [--threads 2] [--backend wasm] [--no-torch] [--torch-spin] [--data-dir DIR] [--json out.json]
 *
 * Protocol (both): 5 tasks of 2 classes, fine-tuning with one 10-way head, SGD (momentum 0.9,
 * weight decay 5e-4, lr 0.05 constant), batch 64, random crop (pad 4) + horizontal flip,
 * per-channel normalisation, a checkpoint after every task, evaluation on the test images of all
 * seen classes after each task. `--reduced`: 1,000 images per train batch file and 1,000 test
 * images (a quick run; ratios then weigh start-up more). Reports the wall time of each process
 * (start to exit: start-up and data loading included), their ratio and the peak RSS of each
 * (VmHWM from /proc, polled). With several rounds the order alternates.
 * The labels and pixels are random: this measures time, not accuracy.
 * A script, not a test: speed is never asserted in CI.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { writeCifar10Folder } from "../../packages/data/src/testing/generators.js";
import { findTorchPython, formatRatio, formatTable, noTorchMessage, ratioStats, roundOrder, torchEnv } from "./side-by-side.js";

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, "..", "..");

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

class UsageError extends Error {}

export interface E2eArgs {
  model: "resnet20" | "resnet32";
  reduced: boolean;
  epochs: number;
  rounds: number;
  threads: number;
  backend: string;
  torch: boolean;
  /** Keep libgomp's default spin-waiting for PyTorch (side-by-side.ts torchEnv). */
  torchSpin: boolean;
  dataDir: string;
  json?: string;
}

function parseArgs(): E2eArgs {
  const model = arg("model") ?? "resnet20";
  if (model !== "resnet20" && model !== "resnet32") throw new UsageError(`--model must be resnet20 or resnet32, got ${model}`);
  const reduced = process.argv.includes("--reduced");
  const int = (name: string, fallback: number) => {
    const v = Number(arg(name) ?? fallback);
    if (!Number.isInteger(v) || v < 1) throw new UsageError(`--${name} must be a positive integer, got ${arg(name)}`);
    return v;
  };
  return {
    model,
    reduced,
    epochs: int("epochs", 1),
    rounds: int("rounds", 1),
    threads: int("threads", Math.min(os.cpus().length, 2)),
    backend: arg("backend") ?? "wasm",
    torch: !process.argv.includes("--no-torch"),
    torchSpin: process.argv.includes("--torch-spin"),
    dataDir: arg("data-dir") ?? join(os.tmpdir(), `mnemo-e2e-cil-${reduced ? "reduced" : "full"}`),
    json: arg("json"),
  };
}

/** The CIFAR-10 folder at the chosen size, generated once and reused while its files have the right sizes. */
export function ensureData(dataDir: string, reduced: boolean): { perBatch: number; test: number } {
  const perBatch = reduced ? 1000 : 10_000;
  const test = reduced ? 1000 : 10_000;
  const folder = join(dataDir, "cifar-10-batches-bin");
  const size = (f: string) => (existsSync(join(folder, f)) ? statSync(join(folder, f)).size : -1);
  const ok = [1, 2, 3, 4, 5].every((b) => size(`data_batch_${b}.bin`) === perBatch * 3073) && size("test_batch.bin") === test * 3073;
  if (!ok) {
    const t0 = performance.now();
    writeCifar10Folder(dataDir, perBatch, test, 1);
    console.error(`generated ${folder} (${5 * perBatch} + ${test} images) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  return { perBatch, test };
}

export function mnemoConfig(a: E2eArgs, outDir: string): string {
  return [
    "# Written by tools/bench/e2e-cil.ts: the protocol of tools/bench/pytorch/e2e_cil.py.",
    "name: e2e-cil-bench",
    "seed: 1",
    `backend: ${a.backend}`,
    `threads: ${a.threads}`,
    "stream:",
    "  kind: class-incremental",
    "  dataset:",
    "    name: cifar10",
    "  increment: 2",
    "  validation: { per_class: 0 }",
    "model:",
    `  backbone: ${a.model}`,
    "  head: fixed",
    "method:",
    "  name: finetune",
    "training:",
    `  epochs: ${a.epochs}`,
    "  batch_size: 64",
    "  lr: 0.05",
    "  optimizer: { name: sgd, momentum: 0.9, weight_decay: 0.0005 }",
    "  schedule: { name: constant }",
    "  augment:",
    "    crop: { padding: 4 }",
    "    flip: true",
    "evaluation:",
    "  future_tasks: false",
    "  batch_size: 500",
    "output:",
    `  dir: ${JSON.stringify(outDir)}`,
    "",
  ].join("\n");
}

interface Measured {
  status: number | null;
  wallSeconds: number;
  /** Peak resident set (VmHWM) of the child; undefined where /proc is not there. */
  peakRssMB?: number;
  stdout: string;
  stderr: string;
}

/** Runs a child to completion, timing it and polling its high-water RSS mark. */
function runMeasured(cmd: string, argv: string[], opts: { cwd: string; env: NodeJS.ProcessEnv }): Promise<Measured> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(cmd, argv, { cwd: opts.cwd, env: opts.env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    let peakKb: number | undefined;
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const poll = () => {
      try {
        const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"));
        if (m) peakKb = Math.max(peakKb ?? 0, Number(m[1]));
      } catch {
        // the process is gone or there is no /proc: keep the last reading
      }
    };
    const timer = setInterval(poll, 200);
    child.on("error", (e) => {
      clearInterval(timer);
      reject(e);
    });
    child.on("exit", (status) => {
      clearInterval(timer);
      resolve({ status, wallSeconds: (performance.now() - t0) / 1000, peakRssMB: peakKb === undefined ? undefined : Math.round(peakKb / 1024), stdout, stderr });
    });
  });
}

interface E2eRow {
  framework: "mnemo" | "pytorch";
  round: number;
  wallSeconds: number;
  peakRssMB?: number;
  trainSeconds: number[];
  evalSeconds: number[];
  backend: string;
  loadAvg: [number, number];
}

async function runMnemo(a: E2eArgs, work: string, round: number): Promise<E2eRow> {
  const outDir = join(work, `runs-${round}`);
  const configFile = join(work, "e2e-cil.yaml");
  writeFileSync(configFile, mnemoConfig(a, outDir));
  const tsx = import.meta.resolve("tsx");
  const load0 = os.loadavg()[0] as number;
  const r = await runMeasured(process.execPath, ["--conditions=@mnemo/source", "--import", tsx, join(repo, "packages/cli/src/main.ts"), "run", configFile, "--quiet"], {
    cwd: work,
    env: { ...process.env, MNEMO_DATA_DIR: a.dataDir, MNEMO_DOWNLOAD: "0", MNEMO_BACKEND: "" },
  });
  if (r.status !== 0) throw new Error(`mnemo run failed (exit ${r.status}):\n${r.stderr.slice(-2000)}`);
  const expDir = join(outDir, "e2e-cil-bench");
  const runName = readdirSync(expDir).sort().pop() as string;
  const info = JSON.parse(readFileSync(join(expDir, runName, "run.json"), "utf8")) as { taskTimingsSec: number[]; evalTimingsSec: number[]; backend: string };
  return {
    framework: "mnemo",
    round,
    wallSeconds: r.wallSeconds,
    peakRssMB: r.peakRssMB,
    trainSeconds: info.taskTimingsSec,
    evalSeconds: info.evalTimingsSec,
    backend: info.backend,
    loadAvg: [load0, os.loadavg()[0] as number],
  };
}

async function runTorch(python: string, a: E2eArgs, work: string, round: number): Promise<E2eRow> {
  const load0 = os.loadavg()[0] as number;
  const argv = [join(here, "pytorch", "e2e_cil.py"), "--data", a.dataDir, "--model", a.model, "--threads", String(a.threads), "--epochs", String(a.epochs)];
  const r = await runMeasured(python, argv, { cwd: work, env: torchEnv(a.threads, a.torchSpin) });
  const line = r.stdout.trim().split("\n").pop() ?? "";
  if (r.status !== 0 || !line.startsWith("{")) throw new Error(`PyTorch e2e failed (exit ${r.status}):\n${r.stderr.slice(-2000)}`);
  const out = JSON.parse(line) as { version: string; trainSeconds: number[]; evalSeconds: number[]; peakRssMB: number };
  return {
    framework: "pytorch",
    round,
    wallSeconds: r.wallSeconds,
    peakRssMB: r.peakRssMB ?? out.peakRssMB,
    trainSeconds: out.trainSeconds,
    evalSeconds: out.evalSeconds,
    backend: `torch ${out.version}${a.torchSpin ? "" : " (OMP passive)"}`,
    loadAvg: [load0, os.loadavg()[0] as number],
  };
}

const sum = (v: readonly number[]) => v.reduce((s, x) => s + x, 0);

/** The printed table: one line per run, then the wall-time ratio (PyTorch / Mnemo: above 1 = Mnemo faster). */
export function formatE2e(rows: readonly E2eRow[], torchNote?: string): string {
  const table = formatTable(
    ["round", "framework", "engine", "wall s", "train s", "eval s", "peak RSS MB", "load"],
    rows.map((r) => [
      String(r.round + 1),
      r.framework,
      r.backend,
      r.wallSeconds.toFixed(1),
      sum(r.trainSeconds).toFixed(1),
      sum(r.evalSeconds).toFixed(1),
      r.peakRssMB === undefined ? "—" : String(r.peakRssMB),
      `${r.loadAvg[0].toFixed(1)}→${r.loadAvg[1].toFixed(1)}`,
    ]),
  );
  const pairs = rows
    .filter((r) => r.framework === "mnemo")
    .flatMap((m) => {
      const t = rows.find((r) => r.framework === "pytorch" && r.round === m.round);
      return t ? [{ mnemo: t.wallSeconds, reference: m.wallSeconds }] : [];
    });
  const lines = [table, ""];
  if (torchNote) lines.push(torchNote);
  else lines.push(`speed-up (PyTorch wall / Mnemo wall, same round; > 1 = Mnemo faster): ${formatRatio(ratioStats(pairs))}`);
  return lines.join("\n");
}

async function main(): Promise<void> {
  const a = parseArgs();
  const { perBatch, test } = ensureData(a.dataDir, a.reduced);
  const probe = a.torch ? findTorchPython() : ({ ok: false, reason: "--no-torch" } as const);
  console.log(probe.ok ? `PyTorch ${probe.version} (${probe.python}) runs the same protocol` : noTorchMessage(probe.reason));
  const work = join(os.tmpdir(), `mnemo-e2e-cil-work-${process.pid}`);
  mkdirSync(work, { recursive: true });
  const rows: E2eRow[] = [];
  for (let round = 0; round < a.rounds; round++) {
    for (const fw of roundOrder(round)) {
      if (fw === "pytorch" && !probe.ok) continue;
      console.error(`round ${round + 1}/${a.rounds}: ${fw} ...`);
      const row = fw === "mnemo" ? await runMnemo(a, work, round) : await runTorch((probe as { python: string }).python, a, work, round);
      console.error(`  ${fw}: ${row.wallSeconds.toFixed(1)} s wall, peak RSS ${row.peakRssMB ?? "?"} MB`);
      rows.push(row);
    }
  }
  console.log(
    `\n${a.model}, 5 tasks × 2 classes, ${5 * perBatch} train / ${test} test images${a.reduced ? " (--reduced)" : " (full size)"}, ${a.epochs} epoch(s) per task, batch 64, ${a.threads} threads; ${new Date().toISOString()}`,
  );
  console.log(formatE2e(rows, probe.ok ? undefined : "no ratio to PyTorch is available: PyTorch was not found (see above)"));
  const out = a.json ?? join(here, "results", `e2e-cil-${a.model}${a.reduced ? "-reduced" : ""}.json`);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify({ measuredAt: new Date().toISOString(), args: a, pytorch: probe.ok ? probe.version : null, rows }, null, 2) + "\n");
  console.log(`\nsaved ${out}`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((e: unknown) => {
    console.error(e instanceof UsageError ? `usage: ${e.message}` : e);
    process.exitCode = 1;
  });
}
