export { MLFLOW_LIMITS, validateKey, validateArtifactPath } from "./limits.js";
export { chunkBatch, batchSize } from "./chunk.js";
export { pythonFloatRepr } from "./python-float.js";
export { DEFAULT_RETRY, backoffDelay, isRetryableStatus, type RetryPolicy } from "./retry.js";
export { authFromEnv, authorizationHeader, type TrackingAuth } from "./auth.js";
export {
  MlflowRestClient,
  UNAVAILABLE,
  isTransientTrackingError,
  artifactProxyPath,
  type MlflowClientOptions,
  type MlflowExperiment,
  type MlflowRun,
  type MlflowRunInfo,
  type CreateRunRequest,
  type SearchRunsRequest,
} from "./rest-client.js";
export { RestTracker, type RestTrackerOptions, type RestTrackerStats } from "./rest-tracker.js";
export { PENDING_FILE, REJECTED_FILE, readOps as readPendingOps, type PendingOp } from "./pending.js";
export { syncRunDir, syncJournal, findCrashedRuns, journalState, finishJournal, FAILURE_TAG, type SyncOptions, type SyncResult, type JournalState } from "./sync.js";
export {
  Journal,
  AckLog,
  JournalLock,
  JOURNAL_FILE,
  ACKS_FILE,
  JOURNAL_LOCK,
  JOURNAL_ARTIFACT_DIR,
  JOURNAL_ID_TAG,
  type JournalEntry,
  type JournalTarget,
} from "./journal.js";
export { JournalTracker, JournalSender, type JournalTrackerOptions, type JournalTrackerStats, type SenderResult } from "./journal-tracker.js";
export { FileStoreDestination, RestDestination, destinationFor, type RunDestination, type SendUnit } from "./destinations.js";
export { redactUri, redactSecrets, uriCredentials } from "./redact.js";
export { writeFileAtomic } from "./atomic.js";
export { processAlive } from "./process-alive.js";
export { MlflowFileStore, DEFAULT_EXPERIMENT_ID, DEFAULT_EXPERIMENT_NAME, type FileStoreOptions, type FileRunInfo } from "./file-store.js";
export { FileTracker, type FileTrackerOptions } from "./file-tracker.js";
export { createTracker, resolveTrackingTarget, type CreateTrackerOptions, type TrackingTarget } from "./factory.js";
export { flattenConfig } from "./flatten.js";
export {
  readRunDir,
  accuracyMatrixCsv,
  accuracyMatrixJson,
  type RunJson,
  type AccuracyMatrixJson,
  type MetricsJson,
  type ExperimentResult,
  type RunDirContents,
} from "./run-dir.js";
export { logExperimentResult, logRunDir, runTags, type LogResultOptions } from "./experiment-result.js";
export { accuracyHeatmapSvg, accuracyCurvesSvg, accuracyColor, seenTaskAccuracy, accuracyOverlaySvg, errorHeatmapSvg, errorBarSvg, escapeXml, type CurvesOptions, type OverlaySeries, type OverlayOptions, type AccuracyMatrix, type ErrorHeatmapRow, type ErrorHeatmapOptions, type ErrorBarSeries, type ErrorBarOptions } from "./svg.js";
export { renderReport, writeReport } from "./report.js";
export {
  configDiff,
  groupRuns,
  meanStd,
  isRepeatKey,
  isSweepDir,
  readSweepDir,
  sweepPoints,
  type ConfigDiff,
  type MeanStd,
  type RunGroup,
  type SweepContents,
  type SweepPoint,
} from "./compare.js";
export { RUN_STATUS_CODES, MLFLOW_TAGS, type MetricRecord, type KeyValue, type LogBatch, type MlflowRunStatus, type Clock } from "./types.js";
