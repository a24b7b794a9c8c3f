/**
 * The enqueuer's side while workers run: follows the sweep's jobs until every trial is recorded (or
 * has failed for good), recording results that workers without the sweep directory returned.
 */
import type { Queue } from "bullmq";
import { jobIdOf, jobResult } from "./enqueue.js";
import type { TrialStore } from "./types.js";

export interface FollowProgress {
  recorded: number;
  total: number;
  /** Running trials by worker name. */
  running: { id: string; worker: string }[];
  waiting: number;
  /** Failed tries waiting for their back-off. */
  retrying: number;
  failed: number;
}

export interface FollowResult {
  recorded: string[];
  /** Trials that failed on every try, with BullMQ's reason. */
  failed: { id: string; reason: string }[];
  /** Trials no longer in the queue (Redis restarted without persistence): rerun the sweep to enqueue them again. */
  missing: string[];
}

export interface FollowOptions {
  pollMs?: number;
  onProgress?: (p: FollowProgress) => void;
}

export async function followTrials(queue: Queue, ids: readonly string[], store: TrialStore, options: FollowOptions = {}): Promise<FollowResult> {
  const pollMs = options.pollMs ?? 1000;
  for (;;) {
    const progress: FollowProgress = { recorded: 0, total: ids.length, running: [], waiting: 0, retrying: 0, failed: 0 };
    const failed: FollowResult["failed"] = [];
    const missing: string[] = [];
    const recorded: string[] = [];
    for (const id of ids) {
      if (store.get(id) !== undefined) {
        recorded.push(id);
        continue;
      }
      const job = await queue.getJob(jobIdOf(id));
      if (!job) {
        missing.push(id);
        continue;
      }
      const state = await job.getState();
      if (state === "completed") {
        const result = jobResult(job);
        if (result) {
          store.record(id, result);
          recorded.push(id);
        } else missing.push(id);
      } else if (state === "failed" && job.attemptsMade >= (job.opts.attempts ?? 1)) failed.push({ id, reason: job.failedReason });
      else if (state === "failed") progress.retrying++; // on its way to the back-off
      else if (state === "active") progress.running.push({ id, worker: job.processedBy ?? "?" });
      else if (state === "delayed") progress.retrying++;
      else progress.waiting++;
    }
    progress.recorded = recorded.length;
    progress.failed = failed.length;
    options.onProgress?.(progress);
    if (progress.running.length + progress.waiting + progress.retrying === 0) return { recorded, failed, missing };
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
