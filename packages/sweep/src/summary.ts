/**
 * The summary of a sweep directory: per grid point, mean ± std over seeds of test ACC, AIA,
 * forgetting and wall time, ranked by validation ACC only (@mnemo/experiment's summarizeSweep;
 * test numbers are reported, never used to rank). Read from plan.json and the manifest, so it
 * works on a sweep that is still running (points show how many of their trials are in).
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { summarizeSweep, type SweepRun } from "@mnemo/experiment";
import { openManifest, type ManifestEntry, type TrialResult } from "./manifest.js";
import type { SweepPlan } from "./plan.js";
import type { SweepValue } from "./spec.js";

export const PLAN_FILE = "plan.json";

/** What plan.json keeps of a plan: enough to summarise without re-reading the sweep file. */
export interface PlanRecord {
  name: string;
  file: string;
  base: string;
  keys: string[];
  points: Record<string, SweepValue>[];
  seeds: number[];
  trials: { id: string; index: number; pointIndex: number; seed: number }[];
}

export function planRecord(plan: SweepPlan): PlanRecord {
  return {
    name: plan.name,
    file: plan.file,
    base: plan.base,
    keys: plan.keys,
    points: plan.points,
    seeds: plan.seeds,
    trials: plan.trials.map((t) => ({ id: t.id, index: t.index, pointIndex: t.pointIndex, seed: t.seed })),
  };
}

export function readPlanRecord(dir: string): PlanRecord {
  const file = join(dir, PLAN_FILE);
  if (!existsSync(file)) throw new Error(`${dir} is not a sweep directory (no ${PLAN_FILE}); run \`mnemo sweep <sweep.yaml>\` to make one`);
  return JSON.parse(readFileSync(file, "utf8")) as PlanRecord;
}

interface MeanStdLike {
  mean: number;
  std: number;
}

export interface MeanStd extends MeanStdLike {
  n: number;
}

function meanStd(xs: readonly number[]): MeanStd {
  const n = xs.length;
  if (n === 0) return { mean: Number.NaN, std: Number.NaN, n };
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  const std = n > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : 0;
  return { mean, std, n };
}

export interface PointRow {
  /** Index of the point in the plan. */
  index: number;
  point: Record<string, SweepValue>;
  /** Trials of this point with a result / planned. */
  runs: number;
  planned: number;
  /** 1 = best validation ACC; null when unranked (no validation split, or no result yet). */
  rank: number | null;
  val_acc_task_macro: MeanStd | null;
  acc_task_macro: MeanStd;
  aia_sample_weighted: MeanStd;
  forgetting: MeanStd;
  wall_seconds: MeanStd;
  seeds: number[];
  trialIds: string[];
}

export interface SweepDirSummary {
  name: string;
  dir: string;
  keys: string[];
  rankedBy: "validation.acc_task_macro" | null;
  note: string;
  /** Ranked points first (best first), then the unranked ones in plan order. */
  points: PointRow[];
  counts: { planned: number; finished: number; failed: number; pruned: number; running: number; pending: number };
  /** The finished trials (plan order). */
  trials: { id: string; pointIndex: number; seed: number; result: TrialResult }[];
}

/** Summarises a sweep directory from its plan.json and manifest.json. */
export function summarizeSweepDir(dir: string): SweepDirSummary {
  const plan = readPlanRecord(dir);
  const manifest = openManifest(dir).read();
  const entry = (id: string): ManifestEntry | undefined => manifest.trials[id];
  const finished = plan.trials.flatMap((t) => {
    const e = entry(t.id);
    return e?.status === "finished" && e.result ? [{ id: t.id, pointIndex: t.pointIndex, seed: t.seed, result: e.result }] : [];
  });
  const runs: SweepRun[] = finished.map((t) => ({
    pointIndex: t.pointIndex,
    seed: t.seed,
    metrics: { testAccTaskMacro: t.result.acc_task_macro, testAiaSampleWeighted: t.result.aia_sample_weighted, valAccTaskMacro: t.result.val_acc_task_macro },
  }));
  const indexed = plan.points.map((point, index) => ({ index, point }));
  // Points without any result yet are left out of the ranking (summarizeSweep would rank NaN).
  const withRuns = indexed.filter((p) => runs.some((r) => r.pointIndex === p.index));
  const ranked = summarizeSweep(
    withRuns,
    runs.map((r) => ({ ...r, pointIndex: withRuns.findIndex((p) => p.index === r.pointIndex) })),
  );
  const rowOf = (index: number, rank: number | null, val: MeanStdLike | null): PointRow => {
    const mine = finished.filter((t) => t.pointIndex === index);
    const planned = plan.trials.filter((t) => t.pointIndex === index);
    const vals = mine.map((t) => t.result.val_acc_task_macro);
    return {
      index,
      point: plan.points[index] as Record<string, SweepValue>,
      runs: mine.length,
      planned: planned.length,
      rank,
      val_acc_task_macro: val && vals.every((v): v is number => v !== null) ? meanStd(vals) : null,
      acc_task_macro: meanStd(mine.map((t) => t.result.acc_task_macro)),
      aia_sample_weighted: meanStd(mine.map((t) => t.result.aia_sample_weighted)),
      forgetting: meanStd(mine.map((t) => t.result.forgetting)),
      wall_seconds: meanStd(mine.map((t) => t.result.wall_seconds)),
      seeds: mine.map((t) => t.seed),
      trialIds: planned.map((t) => t.id),
    };
  };
  const rows = ranked.points.map((s) => rowOf(s.point.index, s.rank, s.val_acc_task_macro));
  for (const p of indexed) if (!withRuns.includes(p)) rows.push(rowOf(p.index, null, null));
  const counts = { planned: plan.trials.length, finished: finished.length, failed: 0, pruned: 0, running: 0, pending: 0 };
  for (const t of plan.trials) {
    const s = entry(t.id)?.status ?? "pending";
    if (s !== "finished") counts[s]++;
  }
  return { name: plan.name, dir, keys: plan.keys, rankedBy: ranked.rankedBy, note: ranked.note, points: rows, counts, trials: finished };
}
