/**
 * @mnemo/sweep: plans, runs and summarises sweeps: sweep files, trial ids, manifest, local worker
 * pool. The CLI's `mnemo sweep` only parses arguments and prints; `@mnemo/queue` distributes the
 * same trials over machines with the same runTrial and manifest.
 */
export { canonical, canonicalJson, trialId, TRIAL_ID_LENGTH, TRIAL_NEUTRAL_KEYS } from "./hash.js";
export { sweepFileSchema, expandPoints, seedList, axisKeys, sample, roundSample, SweepSpecProblem, type SweepFile, type SweepValue, type Distribution, type PointSpec } from "./spec.js";
export { planSweep, defaultSweepDir, trialDir, toOverride, type Trial, type SweepPlan, type PlanOptions } from "./plan.js";
export {
  Manifest,
  ManifestError,
  openManifest,
  manifestCounts,
  MANIFEST_FILE,
  MANIFEST_LOCK,
  LOCK_STALE_MS,
  type ManifestData,
  type ManifestEntry,
  type TrialResult,
  type TrialStatus,
} from "./manifest.js";
export { runTrial, readTrialResult, trialRunState, TRIAL_TAGS, type RunTrialOptions, type TrialProgress, type TrialRunState } from "./trial.js";
export { prepareSweepDir, startParentRun, PARENT_DIR, type ParentRun } from "./sweep-dir.js";
export { summarizeSweepDir, readPlanRecord, planRecord, PLAN_FILE, type PlanRecord, type PointRow, type SweepDirSummary, type MeanStd } from "./summary.js";
export { childEntry, type ChildEntry } from "./child-entry.js";
export { runSweep, threadsPerWorker, defaultWorkers, type RunSweepOptions, type SweepOutcome, type SweepEvent, type ParentMessage, type ChildMessage } from "./pool.js";
export { writeSweepSummary, formatSweepTable, sweepSummaryCsv, sweepSummaryMarkdown, sweepSummaryHtml, sweepPlots, summaryHeader } from "./report.js";
export { SweepProgress, formatDuration } from "./progress.js";
