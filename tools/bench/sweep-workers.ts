/**
 * `mnemo sweep --workers 1` against `--workers 2` on one 4-trial Split-MNIST sweep (real MNIST:
 * 2 learning rates × 2 seeds, an MLP, steps capped), each in a fresh sweep directory, in
 * alternating order over the rounds. Reports each wall time (the whole command: start-up, data
 * loading, the summary), the ratio workers-1 / workers-2 (> 1 = two workers faster), the load
 * average before and after each measurement, and whether both gave identical results (every
 * trial's numbers by trial id, wall time aside).
 *
 *   node --import tsx tools/bench/sweep-workers.ts [--rounds 1] [--steps 40] [--json out.json]
 *
 * With --workers 1 the trial gets all cores' wasm threads (threads = cores / workers); with 2,
 * each trial one thread. A script, not a test: speed is never asserted in CI.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const bin = join(here, "..", "..", "packages/cli/bin/mnemo.mjs");

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

const rounds = Number(arg("rounds", "1"));
const steps = Number(arg("steps", "40"));
const work = mkdtempSync(join(os.tmpdir(), "mnemo-bench-sweep-"));
writeFileSync(
  join(work, "base.yaml"),
  `name: bench-sweep
seed: 0
stream:
  kind: class-incremental
  dataset: { name: mnist }
  order: dataset
  increment: 2
  limit_per_class: { train: 400, test: 100 }
  validation: { per_class: 20 }
model: { backbone: mlp, hidden: [256, 256] }
training: { epochs: 1, batch_size: 32, max_steps_per_task: ${steps}, optimizer: { name: adam } }
`,
);
writeFileSync(join(work, "sweep.yaml"), `name: bench\nbase: base.yaml\nseeds: [0, 1]\ngrid:\n  training.lr: [0.001, 0.003]\n`);

const load = (): string => os.loadavg().map((l) => l.toFixed(1)).join(" ");

interface Measurement {
  workers: number;
  round: number;
  seconds: number;
  loadBefore: string;
  loadAfter: string;
  results: Record<string, unknown>;
}

function measure(workers: number, round: number): Measurement {
  const dir = join(work, `w${workers}-r${round}`);
  const loadBefore = load();
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [bin, "sweep", join(work, "sweep.yaml"), "--dir", dir, "--workers", String(workers), "--quiet"], {
    cwd: work,
    env: { ...process.env, MLFLOW_TRACKING_URI: join(work, `mlruns-${workers}-${round}`) },
    encoding: "utf8",
  });
  const seconds = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`mnemo sweep --workers ${workers} failed (${r.status}):\n${r.stderr}`);
  const trials = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8")).trials as Record<string, { result: Record<string, unknown> }>;
  const results = Object.fromEntries(
    Object.entries(trials).map(([id, e]) => {
      const { runDir: _r, host: _h, finishedAt: _f, wall_seconds: _w, ...rest } = e.result;
      return [id, rest];
    }),
  );
  return { workers, round, seconds, loadBefore, loadAfter: load(), results };
}

const all: Measurement[] = [];
for (let round = 0; round < rounds; round++) {
  const order = round % 2 === 0 ? [1, 2] : [2, 1];
  for (const w of order) {
    const m = measure(w, round);
    all.push(m);
    process.stdout.write(`round ${round} --workers ${w}: ${m.seconds.toFixed(1)} s (load ${m.loadBefore} -> ${m.loadAfter})\n`);
  }
}
const ratios = Array.from({ length: rounds }, (_, round) => {
  const one = all.find((m) => m.round === round && m.workers === 1) as Measurement;
  const two = all.find((m) => m.round === round && m.workers === 2) as Measurement;
  return one.seconds / two.seconds;
});
const reference = JSON.stringify(all[0]?.results);
const identical = all.every((m) => JSON.stringify(m.results) === reference);
process.stdout.write(
  `\n${os.availableParallelism()} cores; 4 trials; ratio wall(--workers 1) / wall(--workers 2): ${ratios.map((r) => r.toFixed(2)).join(", ")} (> 1 = two workers faster); results identical: ${identical}\n`,
);
const json = process.argv.indexOf("--json");
if (json >= 0) writeFileSync(process.argv[json + 1] as string, JSON.stringify({ measurements: all.map(({ results: _r, ...m }) => m), ratios, identical }, null, 2) + "\n");
if (!identical) process.exitCode = 1;
