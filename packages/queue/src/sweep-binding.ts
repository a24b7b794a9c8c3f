/**
 * @mnemo/sweep plugged into the queue: a sweep plan's trials as jobs, the sweep manifest as the
 * store, and runTrial as the runner (so a trial runs, resumes and is recorded exactly as in a
 * one-process sweep, and its MLflow run is a child of the sweep's parent run, tagged with the
 * worker's host).
 */
import { existsSync } from "node:fs";
import { hostname } from "node:os";
import { isAbsolute, join, resolve } from "node:path";
import { configJsonSchema, defaultRegistry, gitInfo, MNEMO_VERSION } from "@mnemo/experiment";
import { openManifest, runTrial, type SweepPlan, type Trial, type TrialResult as SweepTrialResult } from "@mnemo/sweep";
import type { CodeVersion, StoreOpener, TrialJobData, TrialResult, TrialRunner, TrialStore } from "./types.js";
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
  /** Lifecycle lines of the runs (resume, run directory). */
  log?: (line: string) => void;
}

/**
 * runTrial for a queued trial. The sweep directory is the job's: shared, the trial resumes from its
 * last checkpoint there (whichever worker wrote it); not shared, this machine keeps its own copy
 * under the same path and the trial starts over (or resumes a checkpoint this machine wrote).
 * MLflow: the trial is a child of the sweep's parent run, in the enqueuer's tracking store unless
 * this worker sets MLFLOW_TRACKING_URI itself.
 */
export function sweepRunner(options: SweepRunnerOptions = {}): TrialRunner {
  const ownUri = process.env.MLFLOW_TRACKING_URI;
  return async (job, ctx) => {
    const trial = job.trial.spec as Trial;
    if (!ownUri && job.tracking?.uri) process.env.MLFLOW_TRACKING_URI = job.tracking.uri;
    const result = await runTrial(trial, {
      sweepDir: job.sweep.dir,
      threads: options.threads,
      parentRunId: job.tracking?.parentRunId,
      host: ctx.worker.host,
      signal: ctx.signal,
      handleSignals: false, // the worker handles Ctrl-C: the trial checkpoints and goes back to the queue
      log: (line) => (options.log ?? ctx.log)(`  [${trial.id}] ${line}`),
    });
    return result as unknown as TrialResult;
  };
}
