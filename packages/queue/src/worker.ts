/**
 * A queue worker: pulls trials from BullMQ and runs them, one at a time by default.
 *
 * - Same code: a trial enqueued from another git commit or config schema is refused (put back in
 *   the queue for a worker that has that code) and the worker stops with the reason.
 * - A lock with a heartbeat: BullMQ renews the job's lock every `lockMs / 2` while the trial runs.
 *   A worker that dies stops renewing it; the stalled-job check of any live worker (every
 *   `stalledMs`) puts the trial back in the queue and another worker picks it up. Its runner
 *   resumes from the trial's last checkpoint when the run directory is shared, else starts over.
 * - Exactly once: a trial the sweep's store has recorded is never run again (its recorded result
 *   completes the job); a fresh result is recorded in the store before the job completes.
 * - Retries: a failed trial is retried with exponential back-off (the enqueuer's policy); a
 *   config error is not retried (it would fail the same way).
 */
import { hostname } from "node:os";
import { MnemoError, TrainingInterrupted } from "@mnemo/core";
import { Queue, UnrecoverableError, WaitingError, Worker, type Job } from "bullmq";
import { connectionOptions, QUEUE_NAME, type QueueAddress } from "./connection.js";
import type { CodeVersion, StoreOpener, TrialJobData, TrialResult, TrialRunner, WorkerIdentity } from "./types.js";
import { versionMismatch } from "./version.js";

export interface QueueWorkerOptions {
  address: QueueAddress;
  runner: TrialRunner;
  openStore: StoreOpener;
  /** This worker's code; trials from other code are refused. */
  code: CodeVersion;
  /** Trials at once (default 1: a trial uses the machine's cores itself). */
  concurrency?: number;
  /** Job lock duration; renewed every half of it (default 60 s). */
  lockMs?: number;
  /** How often this worker looks for stalled jobs of dead workers (default: lockMs / 2). */
  stalledMs?: number;
  /** A trial whose worker died more often than this is failed (default 3). */
  maxStalled?: number;
  /** Exit once the queue has nothing waiting, delayed or running (default: run until stopped). */
  untilEmpty?: boolean;
  /** Lines for the console: trial start, end, retry, refusal. */
  log: (line: string) => void;
  identity?: WorkerIdentity;
}

export interface WorkerExit {
  reason: "empty" | "stopped" | "refused" | "interrupted";
  /** Trials this worker ran to the end. */
  ran: number;
  /** Why a trial was refused (reason "refused"). */
  message?: string;
}

export interface QueueWorker {
  identity: WorkerIdentity;
  /** Resolves when the worker has stopped (queue empty with `untilEmpty`, refusal, stop()). */
  done: Promise<WorkerExit>;
  /** Stops taking trials; with `abort`, the running ones stop after their current step (checkpointed, back in the queue). */
  stop: (options?: { abort?: boolean }) => Promise<void>;
  /** Trials running now. */
  busy: () => number;
}

export function workerIdentity(): WorkerIdentity {
  const host = hostname();
  return { name: `${host}:${process.pid}`, host };
}

const errorMessage = (err: unknown): string => (err instanceof Error ? err.message : String(err));

export function startQueueWorker(options: QueueWorkerOptions): QueueWorker {
  const identity = options.identity ?? workerIdentity();
  const lockMs = options.lockMs ?? 60_000;
  const log = options.log;
  let ran = 0;
  let busy = 0;
  let exit: WorkerExit | undefined;
  const aborter = new AbortController();
  let resolveDone!: (e: WorkerExit) => void;
  const done = new Promise<WorkerExit>((res) => (resolveDone = res));

  const processor = async (job: Job, token?: string): Promise<TrialResult> => {
    busy++;
    try {
      return await processTrial(job, token);
    } finally {
      busy--;
    }
  };

  const putBack = async (job: Job, token: string | undefined): Promise<never> => {
    await job.moveToWait(token);
    throw new WaitingError();
  };

  const processTrial = async (job: Job, token?: string): Promise<TrialResult> => {
    const data = job.data as TrialJobData;
    const id = data.trial.id;
    const mismatch = versionMismatch(data.code, options.code);
    if (mismatch) {
      const message = `refusing trial ${id} (${data.trial.label}) of sweep ${data.sweep.name}: ${mismatch}`;
      log(message);
      finish({ reason: "refused", ran, message });
      return putBack(job, token);
    }
    const store = options.openStore(data);
    const prior = store?.get(id);
    if (prior !== undefined) {
      log(`trial ${id} (${data.trial.label}) is recorded already: not run again`);
      return prior;
    }
    const attempt = Math.max(1, job.attemptsStarted);
    log(`trial ${id} start (${data.trial.label}) attempt ${attempt}${attempt > 1 ? " (resumes from its checkpoint if its run directory is here)" : ""}`);
    const started = Date.now();
    let result: TrialResult;
    try {
      result = await options.runner(data, { worker: identity, attempt, log, signal: aborter.signal });
    } catch (err) {
      if (err instanceof TrainingInterrupted) {
        log(`trial ${id} interrupted: checkpoint saved, back in the queue for any worker`);
        finish({ reason: "interrupted", ran });
        return putBack(job, token);
      }
      if (aborter.signal.aborted) {
        log(`trial ${id} stopped with the worker: ${errorMessage(err)}`);
        return putBack(job, token);
      }
      const tries = (job.opts.attempts ?? 1) - job.attemptsMade - 1;
      if (err instanceof MnemoError && err.code === "CONFIG") {
        log(`trial ${id} failed (not retried: a config error fails every time): ${errorMessage(err)}`);
        throw new UnrecoverableError(errorMessage(err));
      }
      log(`trial ${id} failed: ${errorMessage(err)}${tries > 0 ? ` (${tries} ${tries === 1 ? "retry" : "retries"} left, with back-off)` : " (no retries left)"}`);
      throw err;
    }
    if (store) store.record(id, result); // exactly once: a no-op when the runner recorded it already
    ran++;
    const where = store ? "recorded in the sweep manifest" : "returned to the enqueuer (the sweep directory is not on this machine)";
    log(`trial ${id} done in ${((Date.now() - started) / 1000).toFixed(1)} s, ${where}`);
    return { ...result, worker: identity.name, workerHost: identity.host };
  };

  const worker = new Worker(QUEUE_NAME, processor, {
    connection: connectionOptions(options.address),
    concurrency: options.concurrency ?? 1,
    lockDuration: lockMs,
    stalledInterval: options.stalledMs ?? Math.max(500, Math.floor(lockMs / 2)),
    maxStalledCount: options.maxStalled ?? 3,
    name: identity.name,
    drainDelay: 1,
    autorun: true,
  });
  let lastError = "";
  worker.on("error", (err) => {
    // Connection trouble is the watchdog's to report; other errors (a lost lock) once each.
    const m = errorMessage(err);
    if (m !== lastError && !/ECONNREFUSED|ECONNRESET|Connection is closed|ETIMEDOUT|EPIPE/.test(m)) log(`worker: ${m}`);
    lastError = m;
  });

  let queue: Queue | undefined;
  let idleTimer: NodeJS.Timeout | undefined;
  if (options.untilEmpty) {
    queue = new Queue(QUEUE_NAME, { connection: connectionOptions(options.address) });
    queue.on("error", () => {});
    let emptyChecks = 0;
    const check = async (): Promise<void> => {
      if (exit || busy > 0 || !queue) return;
      const c = await queue.getJobCounts("wait", "active", "delayed", "prioritized", "waiting-children");
      const left = Object.values(c).reduce((a, b) => a + b, 0);
      emptyChecks = left === 0 && busy === 0 ? emptyChecks + 1 : 0;
      if (emptyChecks >= 2) finish({ reason: "empty", ran });
    };
    idleTimer = setInterval(() => void check().catch(() => {}), 500);
  }

  const finish = (e: WorkerExit): void => {
    if (exit) return;
    exit = e;
    if (idleTimer) clearInterval(idleTimer);
    // Let the current job settle (moved back to wait, or completed) before closing.
    void (async () => {
      await worker.close().catch(() => {});
      await queue?.close().catch(() => {});
      resolveDone(e);
    })();
  };

  return {
    identity,
    done,
    stop: async (o = {}) => {
      if (o.abort) aborter.abort();
      finish({ reason: "stopped", ran });
      await done;
    },
    busy: () => busy,
  };
}
