/**
 * The summary of a sweep: mean ± std per grid point, ranked by the validation split only.
 *
 * A sweep exists to choose hyper-parameters, so its ranking is the choice: ranking by a test
 * number would make "chosen on test" the default. Test numbers are shown beside the ranking (a
 * user wants to see them) but never order it; a point whose runs have no validation split is
 * left unranked, with a note saying how to give it one.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { METRIC_DEFINITIONS } from "@mnemo/core";
import { formatTable, pct } from "./table.js";

/** The metrics of one finished sweep run, read from its metrics.json. */
export interface SweepRunMetrics {
  /** Test ACC, task-macro (GEM), in percent. */
  testAccTaskMacro: number;
  /** Test AIA, sample-weighted (iCaRL), in percent. */
  testAiaSampleWeighted: number;
  /** Validation ACC, task-macro, in percent; null when the run had no validation split. */
  valAccTaskMacro: number | null;
}

/** Reads what the sweep summary needs from `<runDir>/metrics.json` (written by every finished run). */
export function readSweepRunMetrics(runDir: string): SweepRunMetrics {
  const m = JSON.parse(readFileSync(join(runDir, "metrics.json"), "utf8")) as {
    final: Record<string, number>;
    validation?: Record<string, number>;
  };
  return {
    testAccTaskMacro: m.final["acc_task_macro"] as number,
    testAiaSampleWeighted: m.final["aia_sample_weighted"] as number,
    valAccTaskMacro: m.validation?.["acc_task_macro"] ?? null,
  };
}

export interface MeanStd {
  mean: number;
  std: number;
}

function meanStd(xs: readonly number[]): MeanStd {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const std = xs.length > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1)) : 0;
  return { mean, std };
}

/** One run of a sweep: which grid point (its index in the grid's order), which seed, its metrics. */
export interface SweepRun {
  pointIndex: number;
  seed: number;
  metrics: SweepRunMetrics;
}

export interface SweepPointSummary<P> {
  point: P;
  runs: number;
  /** 1 = best validation ACC; null when some run of this point has no validation split. */
  rank: number | null;
  val_acc_task_macro: MeanStd | null;
  test_acc_task_macro: MeanStd;
  test_aia_sample_weighted: MeanStd;
}

export interface SweepSummary<P> {
  /** The metric the ranking uses (a metrics.json path), or null when no point could be ranked. */
  rankedBy: "validation.acc_task_macro" | null;
  /** Says, in words, what the ranking is and is not; printed and stored with the summary. */
  note: string;
  /** Ranked points first (best first), then the unranked ones in grid order. */
  points: SweepPointSummary<P>[];
}

const label = (key: string): string => METRIC_DEFINITIONS.find((d) => d.key === key)?.label ?? key;

/**
 * Mean ± std over seeds per grid point, ranked by mean validation ACC (task-macro), best first;
 * ties keep the grid order. Test metrics are summarised but play no part in the order.
 */
export function summarizeSweep<P>(points: readonly P[], runs: readonly SweepRun[]): SweepSummary<P> {
  const summaries = points.map((point, i): SweepPointSummary<P> => {
    const mine = runs.filter((r) => r.pointIndex === i);
    const vals = mine.map((r) => r.metrics.valAccTaskMacro);
    const validated = mine.length > 0 && vals.every((v): v is number => v !== null);
    return {
      point,
      runs: mine.length,
      rank: null,
      val_acc_task_macro: validated ? meanStd(vals as number[]) : null,
      test_acc_task_macro: meanStd(mine.map((r) => r.metrics.testAccTaskMacro)),
      test_aia_sample_weighted: meanStd(mine.map((r) => r.metrics.testAiaSampleWeighted)),
    };
  });
  const ranked = summaries
    .map((s, i) => ({ s, i }))
    .filter(({ s }) => s.val_acc_task_macro !== null)
    .sort((a, b) => (b.s.val_acc_task_macro as MeanStd).mean - (a.s.val_acc_task_macro as MeanStd).mean || a.i - b.i)
    .map(({ s }) => s);
  ranked.forEach((s, k) => (s.rank = k + 1));
  const unranked = summaries.filter((s) => s.rank === null);
  const base = `ranked by validation ${label("acc_task_macro")}, mean over seeds; the test columns are reported, never used to rank. AIA is the sample-weighted variant (iCaRL), not the task-macro mean`;
  const note =
    ranked.length === 0
      ? `not ranked: no run has a validation split (set stream.validation, e.g. { per_class: 100 }); test numbers are not for choosing hyper-parameters. AIA is the sample-weighted variant (iCaRL), not the task-macro mean`
      : unranked.length > 0
        ? `${base}; ${unranked.length} point(s) without a validation split are listed unranked`
        : base;
  return { rankedBy: ranked.length > 0 ? "validation.acc_task_macro" : null, note, points: [...ranked, ...unranked] };
}

/** The printed table: rank, grid values, runs, validation ACC, test ACC and test AIA, each named by its definition. */
export function formatSweepSummary<P extends Record<string, unknown>>(summary: SweepSummary<P>, keys: readonly string[]): string {
  const ms = (v: MeanStd | null): string => (v === null ? "–" : `${pct(v.mean)} ± ${pct(v.std)}`);
  return formatTable(
    ["rank (val)", ...keys, "runs", `val ${label("acc_task_macro")}`, `test ${label("acc_task_macro")}`, `test ${label("aia_sample_weighted")}`],
    summary.points.map((s) => [
      s.rank === null ? "–" : String(s.rank),
      ...keys.map((k) => JSON.stringify(s.point[k])),
      s.runs,
      ms(s.val_acc_task_macro),
      ms(s.test_acc_task_macro),
      ms(s.test_aia_sample_weighted),
    ]),
  );
}
