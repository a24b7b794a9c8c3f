/**
 * @mnemo/queue: distributes sweep trials over BullMQ on Redis. The enqueuer adds one job per trial
 * (job id = trial hash), workers on any machine pull and run them, the sweep's manifest on disk
 * stays the source of truth.
 */
export { QUEUE_NAME, openTrialQueue, parseQueueUrl, connectionOptions, watchRedis, startRedisHint, RedisUnavailableError, type QueueAddress, type RedisWatch } from "./connection.js";
export { enqueueTrials, jobIdOf, jobResult, DEFAULT_RETRY, type EnqueueReport, type RetryPolicy } from "./enqueue.js";
export { followTrials, type FollowOptions, type FollowProgress, type FollowResult } from "./follow.js";
export { startQueueWorker, workerIdentity, type QueueWorker, type QueueWorkerOptions, type WorkerExit } from "./worker.js";
export { queueStatus, formatQueueStatus, type QueueStatus, type WorkerStatus } from "./status.js";
export { versionMismatch, schemaHash, canonicalJson } from "./version.js";
export type { CodeVersion, StoreOpener, TrialContext, TrialJobData, TrialResult, TrialRunner, TrialStore, WorkerIdentity } from "./types.js";
export { localCodeVersion, trialJobs, manifestStore, sharedManifest, sweepRunner, type SweepRunnerOptions } from "./sweep-binding.js";
