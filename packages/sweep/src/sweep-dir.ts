/**
 * The sweep directory, stable across reruns (default `runs/sweeps/<name>/`, no timestamp):
 *
 *   sweep.yaml          the sweep file as last run (`mnemo report` recognises the directory by it)
 *   plan.json           axis keys, points, seeds and trial ids of the current sweep file
 *   manifest.json       trial id -> status, run directory, result (manifest.ts)
 *   parent/             the MLflow parent run's journal (the same parent run on every rerun)
 *   trials/<id>/        trial.json, config.yaml, runs/<name>/<stamp>-seed<n>/
 *   logs/worker-<n>.log the output of each --workers process
 *   summary.{json,csv,md,html}  written after every run of the sweep (report.ts)
 */
import { copyFileSync, mkdirSync, existsSync, readFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { MNEMO_VERSION } from "@mnemo/experiment";
import type { Tracker } from "@mnemo/core";
import { createTracker, writeFileAtomic } from "@mnemo/tracking";
import { openManifest, type ManifestData } from "./manifest.js";
import type { SweepPlan } from "./plan.js";
import { PLAN_FILE, planRecord } from "./summary.js";

/** Creates or updates the sweep directory for this plan: sweep.yaml, plan.json, the manifest's trial list. */
export function prepareSweepDir(plan: SweepPlan): ManifestData {
  mkdirSync(plan.dir, { recursive: true });
  const copy = join(plan.dir, "sweep.yaml");
  if (!existsSync(copy) || readFileSync(copy, "utf8") !== readFileSync(plan.file, "utf8")) copyFileSync(plan.file, copy);
  writeFileAtomic(join(plan.dir, PLAN_FILE), JSON.stringify(planRecord(plan), null, 2) + "\n");
  return openManifest(plan.dir).sync(plan);
}

/** The sweep's MLflow parent run: one per sweep directory, continued (same run id) on every rerun. */
export interface ParentRun {
  runId: string;
  tracker: Tracker;
  end(status: "FINISHED" | "FAILED" | "KILLED"): Promise<void>;
}

export const PARENT_DIR = "parent";

/**
 * Starts (or continues) the parent run. Its params are the sweep's name and base config, which
 * never change for a directory; trial counts are tags, updated on every rerun. The children's
 * experiment is the base config's name, so parent and children are one MLflow experiment.
 */
export async function startParentRun(plan: SweepPlan, options: { onWarning?: (m: string) => void } = {}): Promise<ParentRun> {
  const runDir = join(plan.dir, PARENT_DIR);
  mkdirSync(runDir, { recursive: true });
  const tracker = createTracker({ runDir, journal: true, onWarning: options.onWarning ?? ((m) => process.stderr.write(`mnemo: tracking: ${m}\n`)) });
  const experimentName = plan.trials[0]?.config.name ?? plan.name;
  const runId = await tracker.startRun({
    experimentName,
    runName: `sweep-${plan.name}`,
    params: { "sweep.name": plan.name, "sweep.base": plan.base },
    tags: { "mnemo.sweep": "true", "mnemo.sweep.name": plan.name, "mnemo.version": MNEMO_VERSION, "mnemo.sweep.host": hostname() },
  });
  tracker.setTags({ "mnemo.sweep.trials": String(plan.trials.length), "mnemo.sweep.points": String(plan.points.length), "mnemo.sweep.seeds": plan.seeds.join(",") });
  return { runId, tracker, end: (status) => tracker.endRun(status) };
}
