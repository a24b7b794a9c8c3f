/**
 * A sweep ranks its grid points by validation only: the test numbers are shown, never used to
 * order, so "chosen on test" cannot come out of `mnemo sweep`.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { formatSweepSummary, readSweepRunMetrics, summarizeSweep, type SweepRun, type SweepRunMetrics } from "@mnemo/experiment";

const m = (val: number | null, test: number, aia = test): SweepRunMetrics => ({ valAccTaskMacro: val, testAccTaskMacro: test, testAiaSampleWeighted: aia });

describe("summarizeSweep", () => {
  it("ranks by mean validation ACC even where test ACC orders the points the other way", () => {
    const points = [{ lr: 0.1 }, { lr: 0.01 }, { lr: 0.001 }];
    const runs: SweepRun[] = [
      // lr 0.1: best on test, worst on validation
      { pointIndex: 0, seed: 0, metrics: m(0.5, 0.95) },
      { pointIndex: 0, seed: 1, metrics: m(0.6, 0.93) },
      // lr 0.01: best on validation
      { pointIndex: 1, seed: 0, metrics: m(0.9, 0.6) },
      { pointIndex: 1, seed: 1, metrics: m(0.8, 0.7) },
      { pointIndex: 2, seed: 0, metrics: m(0.7, 0.8) },
      { pointIndex: 2, seed: 1, metrics: m(0.7, 0.8) },
    ];
    const s = summarizeSweep(points, runs);
    expect(s.rankedBy).toBe("validation.acc_task_macro");
    expect(s.points.map((p) => [p.point.lr, p.rank])).toEqual([
      [0.01, 1],
      [0.001, 2],
      [0.1, 3],
    ]);
    expect(s.points[0]!.val_acc_task_macro!.mean).toBeCloseTo(0.85, 12);
    expect(s.points[0]!.val_acc_task_macro!.std).toBeCloseTo(Math.sqrt(0.005), 12);
    expect(s.points[2]!.test_acc_task_macro.mean).toBeCloseTo(0.94, 12);
    expect(s.note).toMatch(/ranked by validation ACC \(task-macro\)/);
    expect(s.note).toMatch(/never used to rank/);
    expect(s.note).toMatch(/AIA is the sample-weighted variant \(iCaRL\), not the task-macro mean/);
    const table = formatSweepSummary(s, ["lr"]);
    expect(table).toContain("rank (val)");
    expect(table).toContain("val ACC (task-macro)");
    expect(table).toContain("test AIA (iCaRL, sample-weighted)");
    // The first data row is the validation winner.
    expect(table.split("\n").find((l) => l.includes("0.01"))!.trim().startsWith("1")).toBe(true);
  });

  it("leaves points without a validation split unranked, and ranks nothing when no run has one", () => {
    const some = summarizeSweep([{ a: 1 }, { a: 2 }], [
      { pointIndex: 0, seed: 0, metrics: m(null, 0.99) },
      { pointIndex: 1, seed: 0, metrics: m(0.4, 0.1) },
    ]);
    expect(some.points.map((p) => [p.point.a, p.rank])).toEqual([
      [2, 1],
      [1, null],
    ]);
    expect(some.note).toMatch(/1 point\(s\) without a validation split are listed unranked/);
    const none = summarizeSweep([{ a: 1 }, { a: 2 }], [
      { pointIndex: 0, seed: 0, metrics: m(null, 0.2) },
      { pointIndex: 1, seed: 0, metrics: m(null, 0.9) },
    ]);
    expect(none.rankedBy).toBeNull();
    expect(none.points.map((p) => p.rank)).toEqual([null, null]);
    expect(none.points.map((p) => p.point.a)).toEqual([1, 2]); // grid order, not test order
    expect(none.note).toMatch(/^not ranked: no run has a validation split/);
  });

  it("reads validation and test metrics from a run's metrics.json", () => {
    const dir = mkdtempSync(join(tmpdir(), "mnemo-sweep-summary-"));
    writeFileSync(join(dir, "metrics.json"), JSON.stringify({ final: { acc_task_macro: 0.7, aia_sample_weighted: 0.8 }, validation: { acc_task_macro: 0.65 } }));
    expect(readSweepRunMetrics(dir)).toEqual({ testAccTaskMacro: 0.7, testAiaSampleWeighted: 0.8, valAccTaskMacro: 0.65 });
    writeFileSync(join(dir, "metrics.json"), JSON.stringify({ final: { acc_task_macro: 0.7, aia_sample_weighted: 0.8 } }));
    expect(readSweepRunMetrics(dir).valAccTaskMacro).toBeNull();
  });
});
