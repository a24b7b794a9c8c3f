/**
 * Enqueueing a sweep's trials, idempotently: the job id is the trial's hash, so enqueueing the same
 * sweep twice (or again after a crash) adds nothing that is queued already. The sweep's store (its
 * manifest on disk) decides what is left to do: recorded trials are never enqueued again, whatever
 * Redis remembers (a Redis without persistence forgets everything when it restarts).
 */
import type { Job, Queue } from "bullmq";
import type { TrialJobData, TrialResult, TrialStore } from "./types.js";

export interface RetryPolicy {
  /** Retries after a failed try (BullMQ `attempts` is this + 1). */
  retries: number;
  /** First retry after this many ms, doubling after each further failure. */
  backoffMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { retries: 2, backoffMs: 10_000 };

export interface EnqueueReport {
  /** New jobs. */
  added: string[];
  /** Failed (or left over from other code or another sweep) jobs put back in the queue. */
  requeued: string[];
  /** Waiting, delayed or running already: left as they are. */
  queued: string[];
  /** Recorded in the store: not enqueued. */
  recorded: string[];
}

/** BullMQ refuses ids that read as integers; a hash of only decimal digits gets a prefix. */
export function jobIdOf(trialId: string): string {
  return `${parseInt(trialId, 10)}` === trialId ? `t${trialId}` : trialId;
}

const sameJob = (a: TrialJobData, b: TrialJobData): boolean => a.sweep.dir === b.sweep.dir && a.code.commit === b.code.commit && a.code.schema === b.code.schema;

/** The recorded result of a completed job, if it carries one. */
export function jobResult(job: Job): TrialResult | undefined {
  const r: unknown = job.returnvalue;
  return r !== null && typeof r === "object" && !Array.isArray(r) ? (r as TrialResult) : undefined;
}

export async function enqueueTrials(queue: Queue, jobs: readonly TrialJobData[], store: TrialStore, retry: RetryPolicy = DEFAULT_RETRY): Promise<EnqueueReport> {
  const report: EnqueueReport = { added: [], requeued: [], queued: [], recorded: [] };
  const opts = (id: string) => ({
    jobId: jobIdOf(id),
    attempts: retry.retries + 1,
    backoff: { type: "exponential" as const, delay: retry.backoffMs },
    removeOnComplete: false,
    removeOnFail: false,
  });
  for (const data of jobs) {
    const id = data.trial.id;
    const existing = await queue.getJob(jobIdOf(id));
    if (store.get(id) !== undefined) {
      report.recorded.push(id);
      // A leftover job of a recorded trial must not run it again on a machine without the manifest.
      if (existing && (await existing.getState()) !== "active") await existing.remove();
      continue;
    }
    if (!existing) {
      await queue.add("trial", data, opts(id));
      report.added.push(id);
      continue;
    }
    const state = await existing.getState();
    const theirs = existing.data as TrialJobData;
    if (state === "completed" && sameJob(theirs, data)) {
      const result = jobResult(existing);
      if (result && store.record(id, result)) {
        report.recorded.push(id); // finished by a worker that could not reach the manifest
        continue;
      }
    }
    if (state === "active") {
      report.queued.push(id);
    } else if (state === "failed" && sameJob(theirs, data)) {
      await existing.retry("failed", { resetAttemptsMade: true, resetAttemptsStarted: true });
      report.requeued.push(id);
    } else if (state === "completed" || state === "failed" || !sameJob(theirs, data)) {
      await existing.remove();
      await queue.add("trial", data, opts(id));
      report.requeued.push(id);
    } else {
      report.queued.push(id);
    }
  }
  return report;
}
