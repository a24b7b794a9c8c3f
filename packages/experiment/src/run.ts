/**
 * The run lifecycle: a built experiment → a run directory (the source of truth, written after every
 * task) → checkpoints → the accuracy matrix, with observers (the tracker, a console reporter, your
 * own) told about each stage. `runFromConfig` is what `mnemo run` calls; code gets the same run.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  CheckpointError,
  costRecord,
  forwardTransfer,
  jointReferenceFrom,
  ShapeError,
  METRIC_DEFINITIONS,
  MNEMO_COMMAND,
  perTaskKey,
  taskLabel,
  metricRecord,
  parameterCount,
  type RandomInitBaseline,
  replayMemoryOf,
  validationSummary,
  type Experiment,
  type ExperimentContext,
  type ExperimentResult,
  summarize,
  type Tracker,
  TrainingInterrupted,
  type MetricSummary,
} from "@mnemo/core";
import { evaluateRandomInit, runExperiment } from "@mnemo/core/tf";
import { releaseBackend } from "@mnemo/runtime";
import type { LoadedConfig } from "./config-loader.js";
import { accuracyCurvesSvg, accuracyHeatmapSvg, accuracyMatrixCsv, createTracker, flattenConfig, journalState } from "@mnemo/tracking";
import { stringify } from "yaml";
import { AdaptationInterrupted, adaptationReport, learnerModel, removeAdaptationCheckpoint, runAdaptationPhase, writeAdaptationOutputs, type AdaptationResult } from "./adaptation.js";
import { buildExperiment, type BuildOptions, type BuiltExperiment } from "./assemble.js";
import { CHECKPOINT_DIR, type CheckpointCost, configHash, loadRunCheckpoint, type RunnerState, saveRunCheckpoint } from "./checkpointing.js";
import type { ExperimentConfig } from "./config-schema.js";
import { installInterruptHandler, setStopCheck } from "./interrupt.js";
import { defaultRegistry } from "./default-registry.js";
import { importComponentsOf } from "./imports.js";
import { closeCrashedRuns, journalUndelivered, outcomeFromRunDir, runArtifactFiles, syncRun } from "./lifecycle.js";
import { loadExperimentConfig } from "./load.js";
import { createRunDir, FWT_BASELINE_FILE, gitInfo, PER_CLASS_COUNTS_FILE, type RunInfo, writeJson } from "./run-dir.js";
import { MNEMO_VERSION } from "./version.js";

export interface RunStartEvent {
  dir: string;
  runName: string;
  built: BuiltExperiment;
  /** Set when the run continues from a checkpoint: the first task still to train. */
  resumedAtTask?: number;
  step: number;
  /** The run's tracker, already started (its `location()` says where the run is logged). */
  tracker?: Tracker;
}

export { FWT_BASELINE_FILE, PER_CLASS_COUNTS_FILE };

export interface TaskEndEvent {
  taskIndex: number;
  /** R[taskIndex][*], percent (null: not evaluated). */
  row: (number | null)[];
  /** The matrix so far. */
  result: ExperimentResult;
  /** Metrics of the tasks seen so far (rows and columns 0..taskIndex). */
  seen: MetricSummary;
  /** Method-specific metrics of this task (e.g. FSCIL base/novel accuracy). */
  extra: Record<string, number>;
}

export interface RunEndEvent {
  dir: string;
  status: "FINISHED" | "FAILED" | "KILLED";
  result?: ExperimentResult;
  summary?: MetricSummary;
  /** Files of the run directory worth mirroring (relative paths). */
  files: string[];
  /** FWT baseline and cost of a finished run. */
  extras?: RunExtras;
  error?: unknown;
  interruptedTask?: number;
}

/** The final numbers of a finished run, before run.json says FINISHED. */
export interface FinalMetricsEvent {
  result: ExperimentResult;
  summary: MetricSummary;
  extras: RunExtras;
}

/** Told about each stage of a run; the tracker is one, the CLI's table printer another. */
export interface RunObserver {
  onRunStart?(event: RunStartEvent): void | Promise<void>;
  onTaskEnd?(event: TaskEndEvent): void | Promise<void>;
  /** A finished run's final metrics are known (called before run.json is marked FINISHED, so a kill after it loses none). */
  onFinalMetrics?(event: FinalMetricsEvent): void | Promise<void>;
  onRunEnd?(event: RunEndEvent): void | Promise<void>;
}

/**
 * Where a run stands, reported synchronously as it goes (progress displays; the kill tests stop a
 * child exactly at one of these). `train` comes after every optimizer step.
 */
export type RunProgress =
  | { phase: "train"; task: number; step: number }
  | { phase: "checkpoint"; task: number; step: number; ms: number; bytes: number }
  | { phase: "evaluate"; task: number; step: number }
  | { phase: "task-end"; task: number; step: number }
  | { phase: "final-metrics" | "final-artifacts"; task: number; step: number };

export interface RunOptions {
  /** Continue the run in this directory from its checkpoint. */
  resume?: string;
  /** Stop (as Ctrl-C would) after this many optimizer steps: used to test resuming. */
  stopAfterSteps?: number;
  /** Nest the MLflow run under this parent (sweeps). */
  parentRunId?: string;
  /** The tracker the run logs to (default: MLFLOW_TRACKING_URI, else ./mlruns, spilling into the run directory). */
  tracker?: Tracker;
  /** More observers (e.g. `consoleReporter()`), told after the run directory and the tracker. */
  observers?: RunObserver[];
  /** Aborting it stops the run after the current step, as Ctrl-C does (checkpoint saved, TrainingInterrupted thrown). */
  signal?: AbortSignal;
  /** Ctrl-C / SIGTERM stop after the current step and save a checkpoint (default true). */
  handleSignals?: boolean;
  /** Lifecycle messages (run directory, resume, interruption); default: stderr. */
  log?: (line: string) => void;
  /** Progress reports (see RunProgress); called synchronously, so keep them cheap. */
  onProgress?: (progress: RunProgress) => void;
  /** Stop (as Ctrl-C would) after this many domains of the `adaptation:` phase: used to test resuming. */
  stopAfterAdaptationDomains?: number;
}

export interface RunOutcome {
  runDir: string;
  result: ExperimentResult;
  summary: MetricSummary;
  config: ExperimentConfig;
}

/** Metric names of the tracker and metrics.json, each computed once by @mnemo/core's metrics module. */
export function perTaskMetrics(e: TaskEndEvent, trainSeconds: number): Record<string, number> {
  const m: Record<string, number> = { seen_accuracy: e.seen.accuracyCurve[e.taskIndex] as number, task_time_sec: trainSeconds };
  e.row.forEach((v, j) => {
    if (v !== null) m[perTaskKey("accuracy", j)] = v;
  });
  if (e.taskIndex > 0) {
    m.forgetting = e.seen.forgetting;
    m.backward_transfer = e.seen.backwardTransfer;
  }
  const V = e.result.validationMatrix;
  const sizes = e.result.validationSizes;
  if (V && sizes) {
    const i = e.taskIndex;
    const val = validationSummary(
      V.slice(0, i + 1).map((r) => r.slice(0, i + 1)),
      sizes.slice(0, i + 1),
    );
    if (val) m.val_seen_accuracy = val.accSampleWeighted;
  }
  return { ...m, ...e.extra };
}

/** What the end of a run adds to metrics.json and the tracker, beyond the accuracy matrix. */
export interface RunExtras {
  /** FWT's random-init row b (runs with future-task evaluation). */
  baseline?: RandomInitBaseline;
  /** Flat cost metrics (`costRecord`). */
  cost?: Record<string, number>;
}

/** The final metrics under their definition names (METRIC_DEFINITIONS), validation ones prefixed `val_`, and the cost. */
export function finalMetrics(summary: MetricSummary, tasks: number, result?: ExperimentResult, extras: RunExtras = {}): Record<string, number> {
  const out: Record<string, number> = {
    final_average_accuracy: summary.finalAverageAccuracy,
    average_incremental_accuracy: summary.averageIncrementalAccuracy,
    ...(tasks > 1 ? { final_forgetting: summary.forgetting } : {}),
  };
  // backward_transfer and forgetting already went out with the last task's row under their
  // per-task names; the definition-named keys below are new keys, logged once.
  const named = metricRecord(summary);
  delete named.forgetting; // the per-task "forgetting" series already ends with this value at this step
  Object.assign(out, named);
  const val = result?.validationMatrix && result.validationSizes ? validationSummary(result.validationMatrix, result.validationSizes) : undefined;
  if (val) {
    out.val_acc_task_macro = val.accTaskMacro;
    out.val_acc_sample_weighted = val.accSampleWeighted;
    out.val_aia_sample_weighted = val.aiaSampleWeighted;
  }
  if (extras.cost) Object.assign(out, extras.cost);
  return out;
}

/**
 * FWT's baseline: the random-init model evaluated once on every task's test set, before training,
 * from a fresh copy of the learner's "init" stream; stored in the run directory so a resumed run
 * uses the same row. Undefined when future tasks are not evaluated (FWT needs R[i-1][i]) or T = 1.
 */
export async function fwtBaseline(built: BuiltExperiment, dir: string, resuming: boolean): Promise<RandomInitBaseline | undefined> {
  if (!built.evaluation.evaluateFutureTasks || built.stream.numTasks < 2) return undefined;
  const file = join(dir, FWT_BASELINE_FILE);
  if (resuming && existsSync(file)) return JSON.parse(readFileSync(file, "utf8")) as RandomInitBaseline;
  const baseline = await evaluateRandomInit({ backbone: built.backbone, rng: built.rng, stream: built.stream, protocol: built.evaluation });
  writeJson(dir, FWT_BASELINE_FILE, baseline);
  return baseline;
}

/** Mirrors the run into a tracker: params and tags at the start, metrics per task, artifacts at the end. */
export function trackerObserver(tracker: Tracker, options: { parentRunId?: string } = {}): RunObserver {
  return {
    async onRunStart({ built, runName, dir, resumedAtTask }) {
      const { config, backend, stream } = built;
      const git = gitInfo();
      const tags: Record<string, string> = {
        "mnemo.seed": String(config.seed),
        "mnemo.backend": backend.description,
        "mnemo.threads": String(backend.threads),
        "mnemo.version": MNEMO_VERSION,
        "mnemo.streamHash": stream.hash,
        "mnemo.runDir": dir,
        "mnemo.method": config.method.name,
      };
      if (git.commit) {
        tags["mnemo.gitCommit"] = git.commit;
        tags["mlflow.source.git.commit"] = git.commit;
      }
      if (resumedAtTask !== undefined) tags["mnemo.resumedAtTask"] = String(resumedAtTask);
      await tracker.startRun({ experimentName: config.name, runName, params: flattenConfig(config as unknown as Record<string, unknown>), tags, parentRunId: options.parentRunId });
    },
    onTaskEnd(e) {
      tracker.logMetrics(perTaskMetrics(e, e.result.trainSeconds[e.taskIndex] ?? 0), e.taskIndex);
    },
    onFinalMetrics({ summary, result, extras }) {
      tracker.logMetrics(finalMetrics(summary, result.matrix.length, result, extras), result.matrix.length - 1);
    },
    async onRunEnd({ status, summary, result, dir, files }) {
      if (status === "FINISHED" && summary && result) {
        for (const name of files) await tracker.logArtifact(name, readFileSync(join(dir, name)));
      }
      await tracker.endRun(status);
    },
  };
}

/** Runs a built experiment to the end (or to an interruption, which saves a checkpoint). */
export async function runBuiltExperiment(built: BuiltExperiment, options: RunOptions = {}): Promise<RunOutcome> {
  const { config, stream, backend, rng, method } = built;
  const log = options.log ?? ((l: string) => process.stderr.write(l + "\n"));
  const progress = options.onProgress ?? (() => {});
  let dir: string;
  let runName: string;
  let resumedInfo: RunInfo | undefined;
  if (options.resume) {
    dir = options.resume;
    resumedInfo = JSON.parse(readFileSync(join(dir, "run.json"), "utf8")) as RunInfo;
    const journal = journalState(dir);
    if (resumedInfo.status === "FINISHED") {
      // run.json says FINISHED once the final metrics are journaled; only the artifacts and the
      // closing status can be missing (a kill during the final writes), and the run directory has them.
      if (journal && (journal.status !== "FINISHED" || journalUndelivered(journal))) {
        const r = await syncRun(dir, { onWarning: (m) => log(`mnemo: tracking: ${m}`) });
        log(`run ${dir} had finished training; its tracking was completed: ${r.sent} request(s) sent, ${r.remaining} remaining${r.remaining > 0 ? ` (run \`${MNEMO_COMMAND} sync ${dir}\` when the server is back)` : ""}`);
        method.learner.dispose(); // nothing to train: the run directory has the results
        return outcomeFromRunDir(dir, config);
      }
      throw new CheckpointError(`run ${dir} already finished; nothing to resume`, dir);
    }
    runName = resumedInfo.runName;
  } else {
    // A run in this folder whose process died without closing it is closed as FAILED first
    // (a later --resume can still continue it), so no MLflow run stays RUNNING forever.
    for (const c of await closeCrashedRuns(join(config.output.dir, config.name), { onWarning: (m) => log(`mnemo: tracking: ${m}`) })) {
      log(`closed ${c.dir}: ${c.completed ? "it had finished; its tracking was completed" : `its process ended without closing it; marked FAILED (continue it with ${MNEMO_COMMAND} run --resume ${c.dir})`}`);
    }
    ({ dir, runName } = createRunDir(config.output.dir, config.name, config.seed));
  }
  const git = gitInfo();
  const info: RunInfo = resumedInfo
    ? { ...resumedInfo, status: "RUNNING", endedAt: null, error: undefined }
    : {
        experiment: config.name,
        runName,
        seed: config.seed,
        backend: backend.description,
        threads: backend.threads,
        gitCommit: git.commit,
        gitDirty: git.dirty,
        mnemoVersion: MNEMO_VERSION,
        nodeVersion: process.version,
        startedAt: new Date().toISOString(),
        endedAt: null,
        status: "RUNNING",
        streamHash: stream.hash,
        taskTimingsSec: [],
        evalTimingsSec: [],
      };
  if (!options.resume) writeFileSync(join(dir, "config.yaml"), `# resolved config of run ${runName} (from ${built.source})\n` + stringify(config));
  writeJson(dir, "run.json", info);
  writeJson(dir, "label_map.json", { labelMap: stream.labelMap, classNames: stream.classNames ?? null });

  const learner = method.learner;
  // The journal in the run directory is the source of truth; MLflow mirrors it (see @mnemo/tracking journal.ts).
  const tracker = options.tracker ?? createTracker({ runDir: dir, journal: true, onWarning: (m) => process.stderr.write(`mnemo: tracking: ${m}\n`) });
  const experiment: Experiment = { name: config.name, stream, learner, tracker, seed: config.seed, evaluation: built.evaluation };
  const observers = [trackerObserver(experiment.tracker, { parentRunId: options.parentRunId }), ...(options.observers ?? [])];
  const identity = { configHash: configHash(config), streamHash: stream.hash, seed: config.seed, backend: backend.name };
  const context: ExperimentContext = { rng, tracker: experiment.tracker, backend, stream: built.learnerStream, log: (m) => process.stderr.write(m + "\n"), runDir: dir, step: 0 };
  let runner: RunnerState | undefined;
  if (options.resume) {
    runner = await loadRunCheckpoint(dir, identity, learner, rng);
    context.step = runner.step;
    const where = join(dir, CHECKPOINT_DIR);
    log(
      runner.nextTask >= stream.numTasks
        ? `all ${stream.numTasks} tasks were trained (step ${runner.step}); finishing the run (final metrics, artifacts) from ${where}`
        : `resuming at ${taskLabel(runner.nextTask, stream.numTasks)}, step ${runner.step}, from ${where}`,
    );
  }
  const stopAfter = options.stopAfterSteps;
  const signal = options.signal;
  const alsoStop = stopAfter === undefined && !signal ? undefined : () => (stopAfter !== undefined && context.step >= stopAfter) || (signal?.aborted ?? false);
  const interrupt = options.handleSignals === false ? undefined : installInterruptHandler(log, alsoStop);
  if (interrupt) setStopCheck(learner, interrupt.requested);
  else if (alsoStop) setStopCheck(learner, alsoStop);
  const notify = async <K extends keyof RunObserver>(hook: K, event: Parameters<NonNullable<RunObserver[K]>>[0]): Promise<void> => {
    for (const o of observers) await (o[hook] as ((e: typeof event) => void | Promise<void>) | undefined)?.call(o, event);
  };
  await notify("onRunStart", { dir, runName, built, resumedAtTask: runner?.nextTask, step: context.step, tracker: experiment.tracker });
  // The destination's run id, so that run.json says which MLflow run mirrors this directory.
  const noteTrackingRunId = (): void => {
    const id = (experiment.tracker as { runId?: string }).runId;
    if (id && info.trackingRunId !== id) {
      info.trackingRunId = id;
      writeJson(dir, "run.json", info);
    }
  };
  noteTrackingRunId();

  const extraMetrics: Record<string, number>[] = runner?.extraMetrics ?? [];
  let pendingResult: ExperimentResult | undefined;
  let result: ExperimentResult;
  let baseline: RandomInitBaseline | undefined;
  let jointRef: number[] | undefined;
  let adaptation: AdaptationResult | undefined;
  const checkpoints = (info.checkpoints ??= { count: 0, totalMs: 0, lastMs: 0, lastBytes: 0 });
  const save = async (nextTask: number, partial: ExperimentResult, position: { task: number; complete: boolean }): Promise<CheckpointCost> => {
    // The journal is made durable first: a checkpoint must never be ahead of the points it holds.
    (experiment.tracker as { syncJournal?: () => void }).syncJournal?.();
    const cost = await saveRunCheckpoint(dir, identity, learner, { nextTask, step: context.step, result: partial, extraMetrics, rng: rng.snapshot() }, position);
    checkpoints.count++;
    checkpoints.totalMs += cost.ms;
    checkpoints.lastMs = cost.ms;
    checkpoints.lastBytes = cost.bytes;
    return cost;
  };
  // Mid-task checkpoints: at global steps that are multiples of every_steps (the same steps
  // however often the run is resumed) and/or when every_minutes passed since the last checkpoint.
  const everySteps = config.checkpoint.every_steps;
  const everyMs = config.checkpoint.every_minutes * 60_000;
  let lastCheckpointAt = performance.now();
  context.afterStep = async (task) => {
    progress({ phase: "train", task, step: context.step });
    const due = (everySteps !== undefined && context.step % everySteps === 0) || (everyMs > 0 && performance.now() - lastCheckpointAt >= everyMs);
    if (!due || !pendingResult) return;
    const cost = await save(task, pendingResult, { task, complete: false });
    lastCheckpointAt = performance.now();
    writeJson(dir, "run.json", info);
    if (everySteps === undefined) log(`checkpoint inside ${taskLabel(task, stream.numTasks)} at step ${context.step}: ${cost.ms.toFixed(0)} ms, ${(cost.bytes / 2 ** 20).toFixed(1)} MiB`);
    progress({ phase: "checkpoint", task, step: context.step, ms: cost.ms, bytes: cost.bytes });
  };
  // Long tasks (meta-training) also checkpoint on their own schedule (method.checkpoint_every).
  context.saveCheckpoint = async (taskIndex) => {
    if (!pendingResult) return;
    await save(taskIndex, pendingResult, { task: taskIndex, complete: false });
    lastCheckpointAt = performance.now();
    writeJson(dir, "run.json", info);
  };
  try {
    // Checked before training, so a bad reference costs seconds, not a run.
    if (config.evaluation.joint_reference) jointRef = readJointReference(config.evaluation.joint_reference, built);
    baseline = await fwtBaseline(built, dir, options.resume !== undefined);
    result = await runExperiment(experiment, context, {
      onStart: (r) => {
        pendingResult = r;
      },
      startTask: runner?.nextTask,
      previous: runner?.result,
      onTaskTrained: (i) => progress({ phase: "evaluate", task: i, step: context.step }),
      onTaskEvaluated: async (i, row, partial) => {
        const extra = method.afterTask ? await method.afterTask(i, partial) : {};
        extraMetrics[i] = extra;
        const seen = summarize(
          partial.matrix.slice(0, i + 1).map((r) => r.slice(0, i + 1)),
          { testSizes: partial.testSizes.slice(0, i + 1) },
        );
        writeJson(dir, "accuracy_matrix.json", {
          matrix: partial.matrix,
          taskClasses: partial.taskClasses,
          testSizes: partial.testSizes,
          ...(partial.validationMatrix ? { validationMatrix: partial.validationMatrix, validationSizes: partial.validationSizes } : {}),
        });
        writeFileSync(join(dir, "accuracy_matrix.csv"), accuracyMatrixCsv({ matrix: partial.matrix, taskClasses: partial.taskClasses }));
        if (partial.perClassCounts) writeJson(dir, PER_CLASS_COUNTS_FILE, { perClassCounts: partial.perClassCounts, taskClasses: partial.taskClasses, classNames: stream.classNames ?? null });
        info.taskTimingsSec = [...partial.trainSeconds];
        info.evalTimingsSec = [...partial.evalSeconds];
        // The task's metrics are journaled before the checkpoint that moves past the task: a kill
        // in between re-trains from the previous checkpoint and re-logs them (de-duplicated).
        await notify("onTaskEnd", { taskIndex: i, row, result: partial, seen, extra });
        await save(i + 1, partial, { task: i, complete: true });
        lastCheckpointAt = performance.now();
        writeJson(dir, "run.json", info);
        progress({ phase: "task-end", task: i, step: context.step });
      },
    });
    if (config.adaptation && built.adaptationStream) {
      const model = learnerModel(learner);
      if (!model) throw built.errorAt("adaptation", `the learner "${learner.name}" exposes no trained model to adapt`);
      adaptation = await runAdaptationPhase({
        config,
        source: { backbone: built.backbone, params: model.params, state: model.state, normalization: stream.normalization },
        stream: built.adaptationStream,
        rng,
        dir,
        identity,
        tracker: experiment.tracker,
        lastTask: stream.numTasks - 1,
        log,
        resuming: options.resume !== undefined,
        shouldStop: interrupt?.requested,
        stopAfterDomains: options.stopAfterAdaptationDomains,
        errorAt: built.errorAt,
      });
    }
  } catch (err) {
    interrupt?.dispose();
    if (err instanceof AdaptationInterrupted) {
      // The run checkpoint (all tasks trained) and the adaptation checkpoint of the last finished domain stay as they are.
      info.status = "KILLED";
    } else if (err instanceof TrainingInterrupted) {
      // Save where we are: the learner stopped between two steps, so its state is consistent.
      const partial = pendingResult as ExperimentResult;
      await save(err.taskIndex, partial, { task: err.taskIndex, complete: false });
      info.status = "KILLED";
    } else {
      info.status = "FAILED";
      info.error = (err as Error).message;
    }
    info.endedAt = new Date().toISOString();
    writeJson(dir, "run.json", info);
    learner.dispose();
    await releaseBackend();
    await notify("onRunEnd", {
      dir,
      status: info.status,
      files: [],
      error: err,
      interruptedTask: err instanceof TrainingInterrupted ? err.taskIndex : undefined,
    }).catch((e: unknown) => process.stderr.write(`mnemo: tracking: could not close the run: ${(e as Error).message}\n`));
    if (err instanceof AdaptationInterrupted) log(`adaptation interrupted: checkpoint of the last finished domain kept. Continue with: ${MNEMO_COMMAND} run --resume ${dir}`);
    else if (err instanceof TrainingInterrupted) log(`interrupted during ${taskLabel(err.taskIndex, stream.numTasks)}: checkpoint saved. Continue with: ${MNEMO_COMMAND} run --resume ${dir}`);
    throw err;
  }
  const cost = costRecord({
    tasks: result.cost ?? [],
    parameterCount: learnerParameterCount(learner),
    forwardMacsPerImage: built.backbone.forwardMacs?.(built.stream.numClasses),
    buffer: replayMemoryOf(learner),
  });
  cost.checkpoints = checkpoints.count;
  cost.checkpoint_seconds = checkpoints.totalMs / 1000;
  cost.checkpoint_bytes = checkpoints.lastBytes;
  learner.dispose();
  interrupt?.dispose();
  await releaseBackend(); // a webgpu device is destroyed here; wasm memory stays for the next run

  const summary = summarize(result.matrix, { testSizes: result.testSizes, jointReference: jointRef });
  if (baseline) {
    try {
      summary.forwardTransfer = forwardTransfer(result.matrix, baseline.accuracies);
    } catch (err) {
      if (!(err instanceof ShapeError)) throw err;
      log(`FWT left out: ${err.message}`); // e.g. a learner that cannot score future tasks
    }
  }
  const val = result.validationMatrix && result.validationSizes ? validationSummary(result.validationMatrix, result.validationSizes) : undefined;
  writeJson(dir, "metrics.json", {
    final: {
      final_average_accuracy: summary.finalAverageAccuracy,
      average_incremental_accuracy: summary.averageIncrementalAccuracy,
      backward_transfer: summary.backwardTransfer,
      forgetting: summary.forgetting,
      ...metricRecord(summary),
    },
    ...(val
      ? { validation: { acc_task_macro: val.accTaskMacro, acc_sample_weighted: val.accSampleWeighted, aia_sample_weighted: val.aiaSampleWeighted } }
      : {}),
    ...(baseline ? { fwt_baseline: baseline.accuracies } : {}),
    cost,
    perStep: summary.accuracyCurve.map((a, t) => ({
      accuracy: a,
      ...(t > 0 ? { forgetting: summary.forgettingCurve[t - 1] as number } : {}),
      ...(val && !Number.isNaN(val.curve[t]) ? { val_accuracy: val.curve[t] } : {}),
      ...extraMetrics[t],
    })),
    definitions: METRIC_DEFINITIONS,
    ...(method.report?.() ?? {}),
    ...(adaptation ? { adaptation: adaptationReport(adaptation) } : {}),
  });
  if (adaptation) writeAdaptationOutputs(dir, adaptation);
  mkdirSync(join(dir, "plots"), { recursive: true });
  writeFileSync(join(dir, "plots", "accuracy_heatmap.svg"), accuracyHeatmapSvg(result.matrix));
  writeFileSync(join(dir, "plots", "accuracy_curves.svg"), accuracyCurvesSvg(result.matrix));
  const last = stream.numTasks - 1;
  // Order matters for a kill at any instant: final metrics journaled, then run.json FINISHED,
  // then artifacts and the closing status, which `mnemo sync` / --resume can redo from the files.
  await notify("onFinalMetrics", { result, summary, extras: { baseline, cost } });
  progress({ phase: "final-metrics", task: last, step: context.step });
  info.status = "FINISHED";
  info.endedAt = new Date().toISOString();
  writeJson(dir, "run.json", info);
  // Resuming a finished run reads the run directory, never the checkpoint: it is only bulk now.
  if (!config.output.keep_checkpoint) {
    rmSync(join(dir, CHECKPOINT_DIR), { recursive: true, force: true });
    removeAdaptationCheckpoint(dir);
  }
  progress({ phase: "final-artifacts", task: last, step: context.step });
  await notify("onRunEnd", { dir, status: "FINISHED", result, summary, files: runArtifactFiles(dir), extras: { baseline, cost } });
  noteTrackingRunId();
  return { runDir: dir, result, summary, config };
}

/**
 * a*_k for intransigence: the diagonal of a joint run's accuracy matrix. The joint run must have
 * been made on the same stream (same hash), or the reference would compare different tasks.
 */
function readJointReference(dir: string, built: BuiltExperiment): number[] {
  const where = "evaluation.joint_reference";
  let run: RunInfo;
  let acc: { matrix: ExperimentResult["matrix"] };
  try {
    run = JSON.parse(readFileSync(join(dir, "run.json"), "utf8")) as RunInfo;
    acc = JSON.parse(readFileSync(join(dir, "accuracy_matrix.json"), "utf8")) as { matrix: ExperimentResult["matrix"] };
  } catch (err) {
    throw built.errorAt(where, `cannot read the joint run ${dir} (run.json, accuracy_matrix.json): ${(err as Error).message}`);
  }
  if (run.streamHash !== built.stream.hash) {
    throw built.errorAt(where, `the joint run ${dir} used another stream (hash ${run.streamHash.slice(0, 12)}, this run ${built.stream.hash.slice(0, 12)}); run joint on the same stream and seed`);
  }
  if (acc.matrix.length !== built.stream.numTasks) throw built.errorAt(where, `the joint run has ${acc.matrix.length} tasks, this run ${built.stream.numTasks}`);
  return jointReferenceFrom(acc.matrix);
}

/** Parameters of the learner's live model, when it exposes one (`learner.model.params`). */
function learnerParameterCount(learner: Experiment["learner"]): number | undefined {
  try {
    const model = (learner as { model?: { params?: Parameters<typeof parameterCount>[0] } }).model;
    return model?.params ? parameterCount(model.params) : undefined;
  } catch {
    return undefined; // a learner whose model does not exist (yet) has no count to report
  }
}

export interface RunFromConfigArgs extends RunOptions, Omit<BuildOptions, "log"> {
  configFile: string;
  overrides?: string[];
}

/** Loads a YAML config (or, with `resume`, the run's own config.yaml), builds the experiment and runs it. */
export async function runFromConfig(args: RunFromConfigArgs): Promise<RunOutcome> {
  const imports = await importComponentsOf(args.configFile, args.registry ?? defaultRegistry, args.overrides);
  const loaded: LoadedConfig<ExperimentConfig> = loadExperimentConfig(args.configFile, { overrides: args.overrides, registry: args.registry });
  // The run's config.yaml keeps absolute paths, so that `--resume` from the run directory finds them.
  if (imports.length === loaded.value.imports.length) loaded.value.imports = imports;
  const built = await buildExperiment(loaded, {
    registry: args.registry,
    dataDir: args.dataDir,
    download: args.download,
    mirror: args.mirror,
    checksums: args.checksums,
    quiet: args.quiet,
    log: args.log,
  });
  return runBuiltExperiment(built, args);
}
