/**
 * Closing runs whose process died: `syncRun` is what `mnemo sync <run-dir>` does, and what a
 * new `mnemo run` does to crashed runs in its folder. The run directory's journal is the source
 * of truth; this completes it where the run directory has what is missing, and delivers it.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { summarize, type ExperimentResult, type MetricSummary } from "@mnemo/core";
import { findCrashedRuns, finishJournal, journalState, syncRunDir, type JournalState, type SyncOptions, type SyncResult } from "@mnemo/tracking";
import type { ExperimentConfig } from "./config-schema.js";
import { RUN_ARTIFACTS, type RunInfo } from "./run-dir.js";

export interface SyncRunResult extends SyncResult {
  /** The run had finished (run.json FINISHED) but was killed before its journal was closed: closed now. */
  completed: boolean;
}

/** Files of `RUN_ARTIFACTS` present in the run directory. */
export function runArtifactFiles(dir: string): string[] {
  return RUN_ARTIFACTS.filter((f) => existsSync(join(dir, f)));
}

/** Some journal entries were not acknowledged by any destination yet. */
export function journalUndelivered(state: JournalState): boolean {
  return !state.acked.some((a) => a.seq >= state.lastSeq);
}

function readRunInfo(dir: string): RunInfo | undefined {
  try {
    return JSON.parse(readFileSync(join(dir, "run.json"), "utf8")) as RunInfo;
  } catch {
    return undefined;
  }
}

/**
 * Delivers a run directory's tracking to its destination (MLflow server or file store). A run
 * killed after it finished (run.json FINISHED, journal still open) gets its artifacts and the
 * FINISHED status journaled from the run directory first; a run killed before that is marked
 * FAILED with a tag saying why (`mnemo run --resume` sets it back to RUNNING).
 */
export async function syncRun(dir: string, options: SyncOptions & { onWarning?: (m: string) => void } = {}): Promise<SyncRunResult> {
  const state = journalState(dir);
  let completed = false;
  if (state && !state.live && (state.status === undefined || state.status === "RUNNING") && readRunInfo(dir)?.status === "FINISHED") {
    finishJournal(dir, { status: "FINISHED", artifacts: runArtifactFiles(dir).map((path) => ({ path, content: readFileSync(join(dir, path)) })) });
    completed = true;
  }
  return { ...(await syncRunDir(dir, options)), completed };
}

/** Closes the crashed runs under `<output.dir>/<name>` (see syncRun); a destination that is down only warns. */
export async function closeCrashedRuns(folder: string, options: SyncOptions & { onWarning?: (m: string) => void } = {}): Promise<{ dir: string; completed: boolean }[]> {
  const closed: { dir: string; completed: boolean }[] = [];
  for (const dir of findCrashedRuns(folder)) {
    try {
      const r = await syncRun(dir, options);
      closed.push({ dir, completed: r.completed });
    } catch (err) {
      options.onWarning?.(`could not close the crashed run ${dir}: ${(err as Error).message}`);
    }
  }
  return closed;
}

/** The outcome of a finished run, read back from its directory. */
export function outcomeFromRunDir(dir: string, config: ExperimentConfig): { runDir: string; result: ExperimentResult; summary: MetricSummary; config: ExperimentConfig } {
  const acc = JSON.parse(readFileSync(join(dir, "accuracy_matrix.json"), "utf8")) as Pick<ExperimentResult, "matrix" | "taskClasses" | "testSizes" | "validationMatrix" | "validationSizes">;
  const info = readRunInfo(dir);
  const result: ExperimentResult = { ...acc, trainSeconds: info?.taskTimingsSec ?? [], evalSeconds: info?.evalTimingsSec ?? [] };
  return { runDir: dir, result, summary: summarize(result.matrix, { testSizes: result.testSizes }), config };
}
