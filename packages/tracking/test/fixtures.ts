import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { AccuracyMatrixJson, MetricsJson, RunJson } from "../src/run-dir.js";

export const MATRIX: (number | null)[][] = [
  [99.1, null, null],
  [90.5, 97.2, null],
  [80.25, 88.0, 96.4],
];

export function runJson(overrides: Partial<RunJson> = {}): RunJson {
  return {
    experiment: "split-mnist",
    runName: "ewc-seed1",
    seed: 1,
    backend: "cpu",
    threads: 4,
    gitCommit: "abc123",
    mnemoVersion: "0.1.0",
    startedAt: "2026-01-01T00:00:00.000Z",
    endedAt: "2026-01-01T00:10:00.000Z",
    status: "FINISHED",
    taskTimingsSec: [1.5, 2.5, 3.5],
    ...overrides,
  };
}

/** Writes a run directory in the CLI's format. */
export const CONFIG_YAML = "stream:\n  increment: 10\n  scenario: class-incremental\nmodel:\n  hidden: [256, 256]\nlr: 0.01\n";

export function writeRunDir(dir: string, run: RunJson = runJson(), matrix: (number | null)[][] = MATRIX, configYaml: string = CONFIG_YAML): string {
  mkdirSync(dir, { recursive: true });
  const acc: AccuracyMatrixJson = { matrix, taskClasses: matrix.map((_, i) => [2 * i, 2 * i + 1]) };
  const avg = matrix.map((row) => {
    const v = row.filter((x): x is number => x !== null);
    return v.reduce((a, b) => a + b, 0) / v.length;
  });
  const metrics: MetricsJson = { final: { avg_accuracy: avg[avg.length - 1], forgetting: 14.2 }, perStep: avg.map((a) => ({ avg_accuracy: a })) };
  writeFileSync(join(dir, "run.json"), JSON.stringify(run));
  writeFileSync(join(dir, "config.yaml"), configYaml);
  writeFileSync(join(dir, "accuracy_matrix.json"), JSON.stringify(acc));
  writeFileSync(join(dir, "metrics.json"), JSON.stringify(metrics));
  return dir;
}
