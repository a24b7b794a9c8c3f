/**
 * runTrial: one trial through the experiment library, resumable. The trial's runs live in
 * `<sweepDir>/trials/<id>/runs/<name>/<stamp>-seed<n>/`; before running, that folder is looked at:
 * a finished run is read back (never retrained), a run with a checkpoint is continued with the
 * library's resume (bit-identical to an uninterrupted run), anything else starts a new run.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join, resolve } from "node:path";
import { TrainingInterrupted } from "@mnemo/core";
import { CHECKPOINT_DIR, resumeConfigFile, runFromConfig, syncRun, type Registry, type RunObserver, type RunProgress } from "@mnemo/experiment";
import { stringify } from "yaml";
import { openManifest, type TrialResult } from "./manifest.js";
import { trialDir, type Trial } from "./plan.js";

/** A trial's progress: the run's own report plus which trial it is. */
export type TrialProgress = RunProgress & { trialId: string };

export interface RunTrialOptions {
  /** The sweep directory (the manifest and the trial's runs are in it). */
  sweepDir: string;
  /** Wasm threads for a new run of this trial (a resumed run keeps its own). Default: the config's. */
  threads?: number;
  /** Nest the trial's MLflow run under the sweep's parent run. */
  parentRunId?: string;
  /** Called synchronously after every optimizer step, checkpoint and task (keep it cheap). */
  onProgress?: (progress: TrialProgress) => void;
  /** Aborting stops the trial after the current step with a checkpoint; runTrial then rejects with TrainingInterrupted. */
  signal?: AbortSignal;
  /** Lifecycle lines (run directory, resume); default: none. */
  log?: (line: string) => void;
  /** More run observers (a console table, ...). */
  observers?: RunObserver[];
  registry?: Registry;
  /** Record running / result / failure in the manifest (default true). */
  record?: boolean;
  /** Handle SIGINT/SIGTERM in this process (default true: Ctrl-C checkpoints the trial). */
  handleSignals?: boolean;
  /** The worker's host name for the manifest and the MLflow tag (default os.hostname()). */
  host?: string;
  /** Stop after this many optimizer steps (tests of resuming). */
  stopAfterSteps?: number;
}

/** The MLflow tags every trial's run carries (beside mlflow.parentRunId). */
export const TRIAL_TAGS = { id: "mnemo.sweep.trial", sweep: "mnemo.sweep.name", host: "mnemo.sweep.workerHost", point: "mnemo.sweep.point" } as const;

export interface TrialRunState {
  /** The run directory to continue or read, if any. */
  dir?: string;
  status: "none" | "finished" | "resumable" | "fresh";
}

/** What the trial folder holds: a finished run, one to resume from its checkpoint, or nothing usable. */
export function trialRunState(sweepDir: string, trial: Pick<Trial, "id" | "config">): TrialRunState {
  const root = join(trialDir(sweepDir, trial.id), "runs", trial.config.name);
  if (!existsSync(root)) return { status: "none" };
  const runs = readdirSync(root)
    .filter((n) => existsSync(join(root, n, "run.json")))
    .sort()
    .map((n) => join(root, n));
  const status = (d: string): string => (JSON.parse(readFileSync(join(d, "run.json"), "utf8")) as { status?: string }).status ?? "";
  const finished = runs.find((d) => status(d) === "FINISHED");
  if (finished) return { dir: finished, status: "finished" };
  const resumable = [...runs].reverse().find((d) => existsSync(join(d, CHECKPOINT_DIR)) || existsSync(join(d, `${CHECKPOINT_DIR}.old`)));
  if (resumable) return { dir: resumable, status: "resumable" };
  return { status: "fresh" };
}

/** The numbers of a finished run directory, as the manifest stores them. */
export function readTrialResult(trialId: string, runDir: string, host = hostname()): TrialResult {
  const m = JSON.parse(readFileSync(join(runDir, "metrics.json"), "utf8")) as {
    final: Record<string, number>;
    validation?: Record<string, number>;
    cost?: Record<string, number>;
  };
  const acc = JSON.parse(readFileSync(join(runDir, "accuracy_matrix.json"), "utf8")) as { matrix: (number | null)[][]; validationMatrix?: (number | null)[][] };
  const info = JSON.parse(readFileSync(join(runDir, "run.json"), "utf8")) as { endedAt?: string | null };
  return {
    trialId,
    runDir: resolve(runDir),
    acc_task_macro: m.final["acc_task_macro"] as number,
    aia_sample_weighted: m.final["aia_sample_weighted"] as number,
    forgetting: m.final["forgetting"] ?? 0,
    val_acc_task_macro: m.validation?.["acc_task_macro"] ?? null,
    wall_seconds: (m.cost?.["train_seconds"] ?? 0) + (m.cost?.["eval_seconds"] ?? 0),
    matrix: acc.matrix,
    ...(acc.validationMatrix ? { validationMatrix: acc.validationMatrix } : {}),
    host,
    finishedAt: info.endedAt ?? new Date().toISOString(),
  };
}

/**
 * Runs one trial to its result: skips it when the manifest has one, reads a finished run back,
 * resumes an interrupted one from its checkpoint, or starts it. The result is recorded in the
 * manifest exactly once (`record: false` leaves that to the caller) and returned; when another
 * process recorded the trial first, its result is the one returned.
 */
export async function runTrial(trial: Trial, options: RunTrialOptions): Promise<TrialResult> {
  const sweepDir = resolve(options.sweepDir);
  const record = options.record !== false;
  const manifest = openManifest(sweepDir);
  const host = options.host ?? hostname();
  const done = record ? manifest.get(trial.id) : undefined;
  if (done?.status === "finished" && done.result) return done.result;

  const dir = trialDir(sweepDir, trial.id);
  mkdirSync(dir, { recursive: true });
  const trialFile = join(dir, "trial.json");
  if (!existsSync(trialFile)) writeFileSync(trialFile, JSON.stringify({ id: trial.id, index: trial.index, point: trial.point, seed: trial.seed }, null, 2) + "\n");
  const finish = (runDir: string): TrialResult => {
    const result = readTrialResult(trial.id, runDir, host);
    if (!record) return result;
    manifest.recordResult(trial.id, result, trial);
    return manifest.get(trial.id)?.result ?? result;
  };

  const state = trialRunState(sweepDir, trial);
  if (state.status === "finished" && state.dir) {
    // Killed after run.json said FINISHED: the tracking may lack the artifacts or the closing status.
    await syncRun(state.dir, { onWarning: (m) => options.log?.(`mnemo: tracking: ${m}`) });
    return finish(state.dir);
  }
  let configFile: string;
  let resume: string | undefined;
  if (state.status === "resumable" && state.dir) {
    configFile = resumeConfigFile(state.dir);
    resume = state.dir;
  } else {
    const config = { ...trial.config, output: { ...trial.config.output, dir: join(dir, "runs") }, ...(options.threads !== undefined ? { threads: options.threads } : {}) };
    configFile = join(dir, "config.yaml");
    writeFileSync(configFile, `# trial ${trial.id} of sweep ${sweepDir} (point ${JSON.stringify(trial.point)}, seed ${trial.seed})\n` + stringify(config));
  }
  if (record) manifest.markRunning(trial, { runDir: resume, host });
  const tagger: RunObserver = {
    onRunStart({ dir: runDir, tracker }) {
      if (record && !resume) manifest.noteRunDir(trial, resolve(runDir));
      tracker?.setTags({ [TRIAL_TAGS.id]: trial.id, [TRIAL_TAGS.host]: host, [TRIAL_TAGS.point]: JSON.stringify(trial.point).slice(0, 5000) });
    },
  };
  try {
    const outcome = await runFromConfig({
      configFile,
      resume,
      quiet: true,
      parentRunId: options.parentRunId,
      registry: options.registry,
      log: options.log ?? (() => {}),
      observers: [tagger, ...(options.observers ?? [])],
      onProgress: options.onProgress ? (p) => options.onProgress?.({ ...p, trialId: trial.id }) : undefined,
      signal: options.signal,
      handleSignals: options.handleSignals,
      stopAfterSteps: options.stopAfterSteps,
    });
    return finish(outcome.runDir);
  } catch (err) {
    if (record) {
      if (err instanceof TrainingInterrupted) manifest.update((m) => {
        const e = m.trials[trial.id];
        if (e && e.status === "running") e.status = "pending"; // its checkpoint continues it on the next run
      });
      else manifest.recordFailure(trial.id, (err as Error).message);
    }
    throw err;
  }
}
