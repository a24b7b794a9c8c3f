/**
 * runSweep: the sweep on this machine. Without `workers`, trials run one after another in this
 * process (the one-process way); with `workers: N`, N trials at once, each in a child process
 * (src/child.ts, forked through `childEntry`) with its own wasm threads setting. Either way, finished trials are
 * skipped (by id, from the manifest and the trial folders), interrupted ones resume from their
 * checkpoint, the trials nest under the sweep's MLflow parent run, and the summary files are
 * written at the end (also after an interruption, for the trials that finished).
 */
import { fork, type ChildProcess } from "node:child_process";
import { closeSync, mkdirSync, openSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { TrainingInterrupted } from "@mnemo/core";
import type { Registry } from "@mnemo/experiment";
import { childEntry } from "./child-entry.js";
import { openManifest, type TrialResult } from "./manifest.js";
import type { SweepPlan, Trial } from "./plan.js";
import { writeSweepSummary } from "./report.js";
import { prepareSweepDir, startParentRun } from "./sweep-dir.js";
import { runTrial, trialRunState, type RunTrialOptions, type TrialProgress } from "./trial.js";

/** Parent -> child. */
export type ParentMessage = { type: "run"; trial: Trial; options: Pick<RunTrialOptions, "sweepDir" | "threads" | "parentRunId" | "host"> } | { type: "stop" } | { type: "exit" };
/** Child -> parent. */
export type ChildMessage =
  | { type: "ready" }
  | { type: "progress"; progress: TrialProgress }
  | { type: "done"; result: TrialResult }
  | { type: "interrupted"; message: string }
  | { type: "error"; message: string };

export type SweepEvent =
  | { type: "plan"; total: number; finished: number; toRun: number; workers: number; threads: number | undefined }
  | { type: "skip"; trial: Trial; result: TrialResult }
  | { type: "start"; trial: Trial; resumed: boolean; worker: number }
  | { type: "progress"; trial: Trial; progress: TrialProgress }
  | { type: "done"; trial: Trial; result: TrialResult; seconds: number }
  | { type: "failed"; trial: Trial; error: string }
  | { type: "interrupted"; trial: Trial };

export interface RunSweepOptions {
  /** Trials at once, each in a child process. Undefined: one after another in this process. */
  workers?: number;
  /** Wasm threads per trial; default with workers: floor(cores / workers), at least 1; without: the config's. */
  threads?: number;
  onEvent?: (event: SweepEvent) => void;
  /** Aborting stops the sweep: no new trials, running ones stop after their step with a checkpoint. */
  signal?: AbortSignal;
  /** Lifecycle lines of in-process trials. */
  log?: (line: string) => void;
  /** In-process trials only (a child uses the default registry and the config's `imports:`). */
  registry?: Registry;
  /** Cores to plan threads for (default os.availableParallelism()). */
  cores?: number;
}

export interface SweepOutcome {
  results: Map<string, TrialResult>;
  failed: { trial: Trial; error: string }[];
  interrupted: boolean;
  /** Trials this call ran (not skipped). */
  ran: number;
}

/** Threads per trial for N workers: the cores shared out, so N × threads never exceeds the cores. */
export function threadsPerWorker(workers: number, cores = availableParallelism()): number {
  return Math.max(1, Math.floor(cores / workers));
}

/** Workers that fit the cores when each trial computes on `threads` wasm threads. */
export function defaultWorkers(threads = 1, cores = availableParallelism()): number {
  return Math.max(1, Math.floor(cores / Math.max(1, threads)));
}

const WORKER = childEntry(import.meta.url, "child");

/** Runs the plan's unfinished trials and writes the summary. */
export async function runSweep(plan: SweepPlan, options: RunSweepOptions = {}): Promise<SweepOutcome> {
  const emit = options.onEvent ?? (() => {});
  const manifest = openManifest(plan.dir);
  prepareSweepDir(plan);
  const results = new Map<string, TrialResult>();
  const todo: Trial[] = [];
  const known = manifest.read();
  for (const t of plan.trials) {
    const e = known.trials[t.id];
    if (e?.status === "finished" && e.result) {
      results.set(t.id, e.result);
      emit({ type: "skip", trial: t, result: e.result });
    } else todo.push(t);
  }
  const workers = options.workers;
  const threads = options.threads ?? (workers !== undefined ? threadsPerWorker(workers, options.cores) : undefined);
  emit({ type: "plan", total: plan.trials.length, finished: results.size, toRun: todo.length, workers: workers ?? 1, threads });
  const parent = await startParentRun(plan);
  const failed: SweepOutcome["failed"] = [];
  let interrupted = false;
  let ran = 0;
  const onDone = (trial: Trial, result: TrialResult, t0: number): void => {
    results.set(trial.id, result);
    emit({ type: "done", trial, result, seconds: (performance.now() - t0) / 1000 });
  };
  const stopped = (): boolean => interrupted || (options.signal?.aborted ?? false);
  try {
    if (workers === undefined) {
      for (const trial of todo) {
        if (stopped()) break;
        const t0 = performance.now();
        emit({ type: "start", trial, resumed: trialRunState(plan.dir, trial).status === "resumable", worker: 0 });
        ran++;
        try {
          const result = await runTrial(trial, {
            sweepDir: plan.dir,
            threads,
            parentRunId: parent.runId,
            registry: options.registry,
            log: options.log,
            signal: options.signal,
            onProgress: (progress) => emit({ type: "progress", trial, progress }),
          });
          onDone(trial, result, t0);
        } catch (err) {
          if (err instanceof TrainingInterrupted) {
            interrupted = true;
            emit({ type: "interrupted", trial });
          } else {
            failed.push({ trial, error: (err as Error).message });
            emit({ type: "failed", trial, error: (err as Error).message });
          }
        }
      }
    } else {
      const queue = [...todo];
      const live = new Set<ChildProcess>();
      const onAbort = (): void => {
        interrupted = true;
        for (const c of live) if (c.connected) c.send({ type: "stop" } satisfies ParentMessage);
      };
      options.signal?.addEventListener("abort", onAbort, { once: true });
      const lane = async (worker: number): Promise<void> => {
        const w = new TrialWorker(plan.dir, worker, live);
        try {
          for (let trial = queue.shift(); trial && !stopped(); trial = queue.shift()) {
            ran++;
            const t0 = performance.now();
            emit({ type: "start", trial, resumed: trialRunState(plan.dir, trial).status === "resumable", worker });
            const outcome = await w.run(trial, { sweepDir: plan.dir, threads, parentRunId: parent.runId }, (progress) => emit({ type: "progress", trial, progress }));
            if (outcome.type === "done") onDone(trial, outcome.result, t0);
            else if (outcome.type === "interrupted") {
              interrupted = true;
              emit({ type: "interrupted", trial });
            } else {
              manifest.recordFailure(trial.id, outcome.message);
              failed.push({ trial, error: outcome.message });
              emit({ type: "failed", trial, error: outcome.message });
            }
          }
        } finally {
          w.close();
        }
      };
      try {
        await Promise.all(Array.from({ length: Math.max(1, workers) }, (_, w) => lane(w)));
      } finally {
        options.signal?.removeEventListener("abort", onAbort);
      }
    }
  } finally {
    const complete = plan.trials.every((t) => results.has(t.id));
    await parent.end(complete ? "FINISHED" : interrupted || options.signal?.aborted ? "KILLED" : "FAILED");
    writeSweepSummary(plan.dir);
  }
  return { results, failed, interrupted: interrupted || (options.signal?.aborted ?? false), ran };
}

/** A child process that runs trials one after another (child.ts, forked through `childEntry`). */
class TrialWorker {
  private child?: ChildProcess;
  private ready?: Promise<void>;
  private pending?: { resolve: (o: Extract<ChildMessage, { type: "done" | "interrupted" | "error" }>) => void; onProgress: (p: TrialProgress) => void; trialId: string };
  private outcome?: Extract<ChildMessage, { type: "done" | "interrupted" | "error" }>;
  /** The current process's log file. */
  log = "";

  constructor(
    private readonly sweepDir: string,
    private readonly index: number,
    private readonly live: Set<ChildProcess>,
  ) {}

  private start(): Promise<void> {
    const logs = join(this.sweepDir, "logs");
    mkdirSync(logs, { recursive: true });
    this.log = join(logs, `worker-${this.index}.log`);
    const fd = openSync(this.log, "a");
    const child = fork(WORKER.file, [], { execArgv: WORKER.execArgv, stdio: ["ignore", fd, fd, "ipc"], env: { ...process.env, MNEMO_SWEEP_WORKER: String(this.index) } });
    closeSync(fd);
    this.child = child;
    this.live.add(child);
    this.ready = new Promise((resolveReady, rejectReady) => {
      child.once("error", rejectReady);
      child.on("message", (raw) => {
        const m = raw as ChildMessage;
        if (m.type === "ready") resolveReady();
        else if (m.type === "progress") this.pending?.onProgress(m.progress);
        else if (this.pending) {
          const p = this.pending;
          this.pending = undefined;
          p.resolve(m);
        }
      });
      child.on("exit", (code, signal) => {
        this.live.delete(child);
        this.child = undefined;
        this.ready = undefined;
        rejectReady(new Error(`exit ${code ?? signal}`));
        if (this.pending) {
          const p = this.pending;
          this.pending = undefined;
          const message = `the worker process ended (${signal ? `signal ${signal}` : `exit code ${code}`}) during the trial; see ${this.log}`;
          openManifest(this.sweepDir).recordFailure(p.trialId, message);
          p.resolve({ type: "error", message });
        }
      });
    });
    return this.ready;
  }

  async run(trial: Trial, options: Extract<ParentMessage, { type: "run" }>["options"], onProgress: (p: TrialProgress) => void): Promise<Extract<ChildMessage, { type: "done" | "interrupted" | "error" }>> {
    try {
      await (this.ready ?? this.start());
    } catch (err) {
      return { type: "error", message: `could not start a trial worker (${(err as Error).message}); see ${this.log}` };
    }
    const child = this.child as ChildProcess;
    return new Promise((resolveRun) => {
      this.pending = { resolve: resolveRun, onProgress, trialId: trial.id };
      child.send({ type: "run", trial, options } satisfies ParentMessage);
    });
  }

  /** Lets the process end (after its trial, if one is running). */
  close(): void {
    if (this.child?.connected) this.child.send({ type: "exit" } satisfies ParentMessage);
  }
}
