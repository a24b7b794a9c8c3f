import { stringify as toYaml } from "yaml";
import type { Tracker } from "@mnemo/core";
import { perTaskKey } from "@mnemo/core/metrics";
import { flattenConfig } from "./flatten.js";
import { accuracyMatrixCsv, accuracyMatrixJson, readRunDir, type ExperimentResult } from "./run-dir.js";
import { accuracyCurvesSvg, accuracyHeatmapSvg } from "./svg.js";

export interface LogResultOptions {
  /** Nest under a sweep's parent run. */
  parentRunId?: string;
}

/** Tags every Mnemo run carries (reproducibility facts; params are the config). */
export function runTags(result: ExperimentResult): Record<string, string> {
  const r = result.run;
  const tags: Record<string, string> = {
    "mnemo.seed": String(r.seed),
    "mnemo.backend": String(r.backend),
    "mnemo.threads": String(r.threads),
    "mnemo.version": String(r.mnemoVersion),
    "mnemo.startedAt": String(r.startedAt),
    "mnemo.endedAt": String(r.endedAt),
  };
  if (r.gitCommit) {
    tags["mnemo.gitCommit"] = r.gitCommit;
    // MLflow's UI shows this one in the run header.
    tags["mlflow.source.git.commit"] = r.gitCommit;
  }
  return tags;
}

/**
 * Logs a finished experiment as one MLflow run: flattened config as params, per-step metrics,
 * the accuracy matrix as per-task metrics (`accuracy_task<j>` at step i) and as JSON/CSV/SVG
 * artifacts, then closes the run with the experiment's status. Returns the run id.
 */
export async function logExperimentResult(tracker: Tracker, result: ExperimentResult, options: LogResultOptions = {}): Promise<string> {
  const runId = await tracker.startRun({
    experimentName: result.run.experiment,
    runName: result.run.runName,
    params: flattenConfig(result.config),
    tags: runTags(result),
    parentRunId: options.parentRunId,
  });
  const perStep = result.metrics?.perStep ?? [];
  perStep.forEach((m, step) => tracker.logMetrics(m, step));
  if (result.metrics) {
    // Final metrics land on the last step; ones already logged there with the same value are skipped
    // so the MLflow chart does not show a doubled point.
    const lastStep = Math.max(0, perStep.length - 1);
    const last = perStep[perStep.length - 1] ?? {};
    const fresh = Object.fromEntries(Object.entries(result.metrics.final).filter(([k, v]) => last[k] !== v));
    if (Object.keys(fresh).length > 0) tracker.logMetrics(fresh, lastStep);
  }
  (result.run.taskTimingsSec ?? []).forEach((sec, step) => tracker.logMetrics({ task_time_sec: sec }, step));
  if (result.accuracy) {
    result.accuracy.matrix.forEach((row, step) => {
      const m: Record<string, number> = {};
      row.forEach((v, j) => {
        if (v !== null) m[perTaskKey("accuracy", j)] = v;
      });
      if (Object.keys(m).length > 0) tracker.logMetrics(m, step);
    });
    await tracker.logArtifact("accuracy_matrix.json", accuracyMatrixJson(result.accuracy));
    await tracker.logArtifact("accuracy_matrix.csv", accuracyMatrixCsv(result.accuracy));
    await tracker.logArtifact("plots/accuracy_heatmap.svg", accuracyHeatmapSvg(result.accuracy.matrix));
    await tracker.logArtifact("plots/accuracy_curves.svg", accuracyCurvesSvg(result.accuracy.matrix, { testSizes: result.accuracy.testSizes }));
  }
  await tracker.logArtifact("config.yaml", result.configYaml ?? toYaml(result.config));
  await tracker.logArtifact("run.json", JSON.stringify(result.run, null, 2) + "\n");
  await tracker.endRun(result.run.status);
  return runId;
}

/** Logs a run directory written by `mnemo run` (see readRunDir). */
export async function logRunDir(tracker: Tracker, runDir: string, options: LogResultOptions = {}): Promise<string> {
  return logExperimentResult(tracker, readRunDir(runDir), options);
}
