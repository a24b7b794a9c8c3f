/**
 * @mnemo/sweep plugged into the queue: a sweep plan's trials as jobs, the sweep manifest as the
 * store, and runTrial as the runner (so a trial runs, resumes and is recorded exactly as in a
 * one-process sweep, and its MLflow run is a child of the sweep's parent run, tagged with the
 * worker's host).
 */
import { fork } from "node:child_process";
import { existsSync } from "node:fs";
import { hostname } from "node:os";
import { isAbsolute, join, resolve } from "node:path";
import { ConfigError, TrainingInterrupted } from "@mnemo/core";
import { configJsonSchema, defaultRegistry, gitInfo, MNEMO_VERSION } from "@mnemo/experiment";
import { childEntry, openManifest, type SweepPlan, type Trial, type TrialResult as SweepTrialResult } from "@mnemo/sweep";
import type { CodeVersion, StoreOpener, TrialJobData, TrialResult, TrialRunner, TrialStore } from "./types.js";
import type { FromChild, ToChild } from "./trial-child.js";
import { schemaHash } from "./version.js";

/** This checkout's code: git commit (and whether tracked files are modified), config schema hash, version. */
export function localCodeVersion(cwd = process.cwd()): CodeVersion {
  const git = gitInfo(cwd);
  return { commit: git.commit, dirty: git.dirty, schema: schemaHash(configJsonSchema(defaultRegistry)), mnemo: MNEMO_VERSION };
}

const label = (t: Trial): string => [...Object.entries(t.point).map(([k, v]) => `${k}=${JSON.stringify(v)}`), `seed=${t.seed}`].join(" ");

/** A path tracking URI made absolute (a worker in another directory logs to the same store). */
function absoluteUri(uri: string | undefined): string | undefined {
  if (!uri) return undefined;
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(uri) || isAbsolute(uri) ? uri : resolve(uri);
}

/** One job per trial of the plan, carrying the trial (plain JSON) and this checkout's code version. */
export function trialJobs(plan: SweepPlan, options: { parentRunId?: string; code: CodeVersion; trackingUri?: string }): TrialJobData[] {
  const enqueuedAt = new Date().toISOString();
  const uri = absoluteUri(options.trackingUri ?? process.env.MLFLOW_TRACKING_URI ?? "mlruns");
  return plan.trials.map((t) => ({
    format: 1,
    sweep: { name: plan.name, dir: plan.dir },
    trial: { id: t.id, label: label(t), spec: t },
    code: options.code,
    tracking: { uri, parentRunId: options.parentRunId, experimentName: t.config.name },
    enqueuedAt,
    enqueuedBy: hostname(),
  }));
}

/** The sweep manifest as the queue's store: a trial counts as recorded once it is `finished` with a result. */
export function manifestStore(sweepDir: string): TrialStore {
  const manifest = openManifest(sweepDir);
  return {
    get: (id) => {
      const e = manifest.get(id);
      return e?.status === "finished" && e.result ? (e.result as unknown as TrialResult) : undefined;
    },
    record: (id, result) => manifest.recordResult(id, result as unknown as SweepTrialResult),
  };
}

/**
 * The manifest of a job's sweep where this machine shares the sweep directory (it has the
 * enqueuer's sweep.yaml there); otherwise none, and the result goes back through the queue.
 */
export const sharedManifest: StoreOpener = (job) => (existsSync(join(job.sweep.dir, "sweep.yaml")) ? manifestStore(job.sweep.dir) : undefined);

export interface SweepRunnerOptions {
  /** Wasm threads per trial (default: the config's). */
  threads?: number;
  /** Lifecycle lines of the runs (resume, run directory); default: none. */
  log?: (line: string) => void;
}

const CHILD = childEntry(import.meta.url, "trial-child");

/**
 * runTrial for a queued trial, in a child process (trial-child.ts), so that nothing the trial does
 * can block the worker's lock renewal. The sweep directory is the job's: shared, the trial resumes
 * from its last checkpoint there (whichever worker wrote it); not shared, this machine keeps its
 * own copy under the same path and the trial starts over (or resumes a checkpoint this machine
 * wrote). MLflow: the trial is a child of the sweep's parent run, tagged with this worker's host,
 * in the enqueuer's tracking store unless this worker sets MLFLOW_TRACKING_URI itself.
 */
export function sweepRunner(options: SweepRunnerOptions = {}): TrialRunner {
  const ownUri = process.env.MLFLOW_TRACKING_URI;
  return (job, ctx) =>
    new Promise<TrialResult>((resolvePromise, reject) => {
      const trial = job.trial.spec as Trial;
      const env = { ...process.env };
      if (!ownUri && job.tracking?.uri) env.MLFLOW_TRACKING_URI = job.tracking.uri;
      const child = fork(CHILD.file, [], { execArgv: CHILD.execArgv, stdio: ["ignore", "pipe", "pipe", "ipc"], env });
      let outcome: FromChild | undefined;
      let stderrTail = "";
      let pending = "";
      child.stdout?.on("data", (d: Buffer) => {
        pending += d.toString();
        const lines = pending.split("\n");
        pending = lines.pop() ?? "";
        for (const l of lines) options.log?.(`  [${trial.id}] ${l}`);
      });
      child.stderr?.on("data", (d: Buffer) => (stderrTail = (stderrTail + d.toString()).slice(-4000)));
      const onAbort = (): void => {
        if (child.connected) child.send({ type: "stop" } satisfies ToChild);
      };
      ctx.signal.addEventListener("abort", onAbort, { once: true });
      child.on("message", (raw) => {
        const m = raw as FromChild;
        if (m.type === "ready") {
          child.send({ type: "run", trial, sweepDir: job.sweep.dir, threads: options.threads, parentRunId: job.tracking?.parentRunId, host: ctx.worker.host } satisfies ToChild);
          if (ctx.signal.aborted) onAbort();
        } else outcome = m;
      });
      child.on("error", (err) => {
        outcome ??= { type: "error", message: `could not start the trial's process: ${err.message}`, config: false };
      });
      child.on("exit", (code, signal) => {
        ctx.signal.removeEventListener("abort", onAbort);
        if (outcome?.type === "done") resolvePromise(outcome.result);
        else if (outcome?.type === "interrupted") reject(new TrainingInterrupted(-1));
        else if (outcome?.type === "error") reject(outcome.config ? new ConfigError(outcome.message) : new Error(outcome.message));
        else reject(new Error(`the trial's process ended (${signal ? `signal ${signal}` : `exit code ${code}`}) before reporting${stderrTail ? `: ${stderrTail.trim().split("\n").slice(-3).join(" | ")}` : ""}`));
      });
    });
}
