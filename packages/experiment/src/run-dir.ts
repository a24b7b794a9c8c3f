/**
 * The run directory: everything needed to inspect, compare or resume a run, written as the run
 * goes (after every task) so that a crash loses at most the task in progress.
 *
 *   run.json              seed, backend, threads, git commit, versions, status, timings
 *   config.yaml           the config as resolved (defaults filled in, overrides applied)
 *   accuracy_matrix.json  { matrix (percent, R[i][j] = after task i on task j), taskClasses, testSizes }
 *   accuracy_matrix.csv   the same matrix as CSV
 *   metrics.json          { final, perStep } derived by @mnemo/core metrics
 *   label_map.json        remapped label -> original dataset class
 *   checkpoint/           the newest checkpoint (after every task, and mid-task per `checkpoint:`)
 *   tracking-journal.jsonl  every metric/param/tag/artifact/status, before MLflow gets it
 *   tracking-acks.jsonl   how far each destination acknowledged the journal
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, renameSync, writeFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { ConfigError, didYouMean } from "@mnemo/core";
import type { RunJson } from "@mnemo/tracking";

/** `run.json` as the CLI writes it: tracking's RunJson, also while running, plus what resume needs. */
export interface RunInfo extends Omit<RunJson, "endedAt" | "status"> {
  gitDirty: boolean | null;
  nodeVersion: string;
  endedAt: string | null;
  status: "RUNNING" | RunJson["status"];
  streamHash: string;
  evalTimingsSec: number[];
  error?: string;
  /** The MLflow run that mirrors this directory (the same one across --resume). */
  trackingRunId?: string;
  /** What checkpointing cost this run so far (all processes that ran it). */
  checkpoints?: { count: number; totalMs: number; lastMs: number; lastBytes: number };
}

/** FWT's random-init row b, written to the run directory once (a resumed run reads it back). */
export const FWT_BASELINE_FILE = "fwt_baseline.json";

/**
 * Per-class counts behind each accuracy-matrix entry (`ExperimentResult.perClassCounts`, indexed by
 * label; FSCIL's base / novel accuracy come from them), written beside accuracy_matrix.json.
 */
export const PER_CLASS_COUNTS_FILE = "per_class_counts.json";

/** The files of a finished run directory that are mirrored as MLflow artifacts (those present). */
export const RUN_ARTIFACTS = [
  "config.yaml",
  "accuracy_matrix.json",
  "accuracy_matrix.csv",
  "metrics.json",
  "label_map.json",
  "plots/accuracy_heatmap.svg",
  "plots/accuracy_curves.svg",
  "run.json",
  PER_CLASS_COUNTS_FILE,
  FWT_BASELINE_FILE,
  // The adaptation phase (`adaptation:`), when the config has one.
  "adaptation.json",
  "adaptation_errors.csv",
  "plots/adaptation_error_heatmap.svg",
  "plots/adaptation_error_curves.svg",
];

/** Writes atomically (temp file + rename) so a reader or a crash never sees half a file. */
export function writeFileAtomic(path: string, content: string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, content);
  renameSync(tmp, path);
}

export function createRunDir(root: string, experiment: string, seed: number, now = new Date()): { dir: string; runName: string } {
  const stamp = now.toISOString().replace(/[:.]/g, "-").replace("T", "_").slice(0, 19);
  const runName = `${stamp}-seed${seed}`;
  let dir = join(root, experiment, runName);
  for (let k = 2; ; k++) {
    try {
      mkdirSync(dir, { recursive: false });
      break;
    } catch (err) {
      if ((err as { code?: string }).code === "ENOENT") {
        mkdirSync(join(root, experiment), { recursive: true });
        continue;
      }
      if ((err as { code?: string }).code !== "EEXIST") throw err;
      dir = join(root, experiment, `${runName}-${k}`);
    }
  }
  return { dir, runName: dir.split("/").pop() as string };
}

export function gitInfo(cwd = process.cwd()): { commit: string | null; dirty: boolean | null } {
  try {
    const commit = execFileSync("git", ["rev-parse", "HEAD"], { cwd, stdio: ["ignore", "pipe", "ignore"] }).toString().trim();
    const status = execFileSync("git", ["status", "--porcelain", "--untracked-files=no"], { cwd, stdio: ["ignore", "pipe", "ignore"] }).toString();
    return { commit, dirty: status.trim().length > 0 };
  } catch {
    return { commit: null, dirty: null }; // not a git checkout (e.g. an installed package): recorded as unknown
  }
}

export function writeJson(dir: string, name: string, value: unknown): void {
  writeFileAtomic(join(dir, name), JSON.stringify(value, null, 2) + "\n");
}

/**
 * The config of a run to resume: `<dir>/config.yaml`. A wrong path is named as what it is (no such
 * directory, not a run directory), with the closest run directories next to it, instead of
 * "config file not found" for a file the user never named.
 */
export function resumeConfigFile(dir: string): string {
  const file = join(dir, "config.yaml");
  if (existsSync(file)) return file;
  const where = { file: "--resume" };
  if (!existsSync(dir)) {
    const parent = dirname(resolve(dir));
    let near = "";
    try {
      const names = readdirSync(parent).filter((n) => existsSync(join(parent, n, "config.yaml")) || existsSync(join(parent, n, "run.json")));
      near = didYouMean(basename(dir), names, (n) => join(dirname(dir), n));
    } catch {
      // the parent does not exist either: nothing to suggest
    }
    throw new ConfigError(`run directory ${dir} does not exist${near}; run directories are <output.dir>/<name>/<timestamp>-seed<seed>, e.g. runs/split-mnist/2026-01-01_12-00-00-seed0`, where);
  }
  const runs = readdirSync(dir).filter((n) => existsSync(join(dir, n, "config.yaml")));
  const hint = runs.length > 0 ? `; it holds ${runs.length} run${runs.length === 1 ? "" : "s"}, e.g. ${join(dir, runs.sort().at(-1) as string)}` : "";
  throw new ConfigError(`${dir} is not a run directory (no config.yaml)${hint}`, where);
}
