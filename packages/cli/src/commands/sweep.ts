/**
 * `mnemo sweep <sweep.yaml>`: one base config, a grid of overrides and a list of seeds; every
 * combination runs as its own run (nested under one MLflow parent run), then a table of
 * mean ± std per grid point is printed and saved.
 *
 *   name: cil-mnist-lr
 *   base: ../cil-mnist.yaml          # relative to the sweep file
 *   seeds: [0, 1, 2]
 *   grid:
 *     training.lr: [0.001, 0.0003]
 *     model.hidden: [[400, 400], [100]]
 *   set: { training.epochs: 1 }      # fixed overrides for every run
 *
 * The summary ranks grid points by validation ACC only (@mnemo/experiment's summarizeSweep); test
 * numbers are printed beside it and never order it. Points without stream.validation are unranked.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { loadConfig, positiveInt } from "@mnemo/experiment";
import { formatSweepSummary, loadExperimentConfig, readSweepRunMetrics, runFromConfig, summarizeSweep, type SweepRun } from "@mnemo/experiment";
import { createTracker } from "@mnemo/tracking";
import { stringify } from "yaml";
import { z } from "zod";
import { flag, formatHelp, parseArgs } from "../args.js";
import { sweepSpec } from "../specs.js";
import { runWithReporter } from "./run.js";

const scalar = z.union([z.string(), z.number(), z.boolean(), z.array(z.unknown())]);
export const sweepSchema = z.strictObject({
  name: z.string().min(1),
  base: z.string().min(1).describe("Base config file, relative to the sweep file"),
  seeds: z.array(z.number().int().min(0)).min(1).default([0]),
  grid: z.record(z.string(), z.array(scalar).min(1)).default({}).describe("key.path -> values; the sweep runs every combination"),
  set: z.record(z.string(), scalar).default({}).describe("Overrides applied to every run"),
  max_runs: positiveInt().default(200).describe("Refuse grids larger than this (a typo guard)"),
});

type Value = z.infer<typeof scalar>;

/** All combinations of the grid, in a stable order (keys as written, values as listed). */
export function gridPoints(grid: Record<string, Value[]>): Record<string, Value>[] {
  let points: Record<string, Value>[] = [{}];
  for (const [key, values] of Object.entries(grid)) points = points.flatMap((p) => values.map((v) => ({ ...p, [key]: v })));
  return points;
}

const toOverride = (key: string, v: Value): string => `${key}=${typeof v === "string" ? v : JSON.stringify(v)}`;

export async function sweepCommand(argv: string[]): Promise<number> {
  const parsed = parseArgs(sweepSpec, argv);
  if (parsed.help) {
    process.stdout.write(formatHelp(sweepSpec));
    return 0;
  }
  const file = parsed.positionals[0] as string;
  const quiet = flag(parsed, "--quiet");
  const loaded = loadConfig(file, sweepSchema);
  const sweep = loaded.value;
  const base = resolve(dirname(file), sweep.base);
  const points = gridPoints(sweep.grid);
  const total = points.length * sweep.seeds.length;
  if (total > sweep.max_runs) throw loaded.errorAt("grid", `${total} runs exceed max_runs (${sweep.max_runs}); raise max_runs if you mean it`);
  // Validate every combination before running any, so a typo fails in seconds, not hours.
  const fixed = Object.entries(sweep.set).map(([k, v]) => toOverride(k, v));
  const checked = points.map((p) => loadExperimentConfig(base, { overrides: [...fixed, ...Object.entries(p).map(([k, v]) => toOverride(k, v))] }));

  const out = join("runs", "sweeps", sweep.name, new Date().toISOString().replace(/[:.]/g, "-").slice(0, 19));
  mkdirSync(out, { recursive: true });
  // The children live inside the sweep's directory (not in runs/<base name>/, where they would mix
  // with unrelated runs of the base config), unless the sweep sets output.dir itself.
  const childDir = "output.dir" in sweep.set ? [] : [toOverride("output.dir", join(out, "runs"))];
  // One MLflow experiment for the parent and its children: the one the children log to.
  const experimentName = checked[0]?.value.name ?? sweep.name;
  writeFileSync(join(out, "sweep.yaml"), stringify(sweep));
  const parent = createTracker({ runDir: out });
  const parentId = await parent.startRun({ experimentName, runName: `sweep-${sweep.name}`, params: { base: sweep.base, runs: String(total) }, tags: { "mnemo.sweep": "true" } });

  const rows: { point: Record<string, Value>; seed: number; runDir: string }[] = [];
  const runs: SweepRun[] = [];
  let k = 0;
  for (const [pointIndex, point] of points.entries()) {
    for (const seed of sweep.seeds) {
      k++;
      const overrides = [...childDir, ...fixed, ...Object.entries(point).map(([key, v]) => toOverride(key, v)), `seed=${seed}`];
      process.stdout.write(`\n[${k}/${total}] ${overrides.join(" ")}\n`);
      const args = { configFile: base, overrides, quiet, parentRunId: parentId };
      const { runDir } = quiet ? await runFromConfig({ ...args, log: () => {} }) : await runWithReporter(args);
      rows.push({ point, seed, runDir });
      runs.push({ pointIndex, seed, metrics: readSweepRunMetrics(runDir) });
    }
  }

  const keys = Object.keys(sweep.grid);
  const summary = summarizeSweep(points, runs);
  process.stdout.write(`\nsweep ${sweep.name}: ${total} runs (${sweep.seeds.length} seeds each), mean ± std; ${summary.note}\n`);
  process.stdout.write(formatSweepSummary(summary, keys) + "\n");
  writeFileSync(join(out, "summary.json"), JSON.stringify({ sweep, runs: rows, rankedBy: summary.rankedBy, note: summary.note, summary: summary.points }, null, 2) + "\n");
  await parent.endRun("FINISHED");
  process.stdout.write(`-> ${out}\n`);
  return 0;
}
