/** `mnemo run <config.yaml> [--set key=value ...] [--quiet]` */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  type Backbone,
  CheckpointError,
  ConfigError,
  TrainingInterrupted,
  type ExperimentContext,
  type ExperimentResult,
  loadConfig,
  runExperiment,
  SeededRng,
  selectBackend,
  summarize,
  type Tracker,
  type TaskStream,
} from "@mnemo/core";
import { buildStream, createAugmentation } from "@mnemo/data";
import { createBackbone, mlp, type OptimizerConfig, type ScheduleConfig } from "@mnemo/models";
import { accuracyCurvesSvg, accuracyHeatmapSvg, accuracyMatrixCsv, createTracker, flattenConfig } from "@mnemo/tracking";
import { stringify } from "yaml";
import { type ExperimentConfig, experimentConfigSchema } from "../config-schema.js";
import { buildMethod } from "../methods/index.js";
import { createRunDir, gitInfo, type RunInfo, writeJson } from "../run-dir.js";
import { CHECKPOINT_DIR, configHash, loadRunCheckpoint, type RunnerState, saveRunCheckpoint } from "../checkpointing.js";
import { installInterruptHandler, setStopCheck } from "../interrupt.js";
import { formatTable, pct } from "../table.js";
import { MNEMO_VERSION } from "../version.js";

export interface RunArgs {
  configFile: string;
  overrides: string[];
  quiet: boolean;
  /** Continue the run in this directory from its checkpoint. */
  resume?: string;
  /** Stop (as Ctrl-C would) after this many optimizer steps: used to test resuming. */
  stopAfterSteps?: number;
  /** Nest the MLflow run under this parent (sweeps). */
  parentRunId?: string;
}

export function parseRunArgs(argv: string[]): RunArgs {
  const overrides: string[] = [];
  let configFile: string | undefined;
  let quiet = false;
  let resume: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === "--resume") {
      resume = argv[++i];
      if (!resume) throw new ConfigError("--resume needs a run directory: mnemo run --resume runs/<name>/<run>", { file: "command line" });
    } else if (a === "--set") {
      const v = argv[++i];
      if (v === undefined) throw new ConfigError("--set needs key.path=value", { file: "--set" });
      overrides.push(v);
    } else if (a.startsWith("--set=")) overrides.push(a.slice("--set=".length));
    else if (a === "--quiet" || a === "-q") quiet = true;
    else if (a.startsWith("-")) throw new ConfigError(`unknown option ${a} (see mnemo run --help)`, { file: "command line" });
    else if (configFile === undefined) configFile = a;
    else throw new ConfigError(`unexpected argument "${a}": give one config file`, { file: "command line" });
  }
  const stopEnv = process.env.MNEMO_STOP_AFTER_STEPS;
  const stopAfterSteps = stopEnv ? Number(stopEnv) : undefined;
  if (resume) {
    if (configFile) throw new ConfigError("--resume continues a run with its own config.yaml; do not give a config file too", { file: "command line" });
    if (overrides.length) throw new ConfigError("--resume keeps the run's config: --set cannot be combined with it", { file: "command line" });
    return { configFile: join(resume, "config.yaml"), overrides, quiet, resume, stopAfterSteps };
  }
  if (!configFile) throw new ConfigError("mnemo run needs a config file: mnemo run configs/cil-mnist.yaml", { file: "command line" });
  return { configFile, overrides, quiet, stopAfterSteps };
}

export interface RunOutcome {
  runDir: string;
  result: ExperimentResult;
  config: ExperimentConfig;
}

function makeBackbone(config: ExperimentConfig, stream: TaskStream, where: (path: string, problem: string) => ConfigError): Backbone {
  switch (config.model.backbone) {
    case "mlp":
      return mlp({ inputShape: stream.inputShape, hidden: config.model.hidden });
    default:
      try {
        return createBackbone(config.model.backbone, { inputShape: stream.inputShape });
      } catch (err) {
        // e.g. a 28x28 stream on a backbone that needs 32x32: the user fixes model.backbone.
        if (err instanceof ConfigError) throw err;
        throw where("model.backbone", (err as Error).message);
      }
  }
}

function optimizerConfig(c: ExperimentConfig["training"]["optimizer"]): OptimizerConfig {
  return c.name === "sgd"
    ? { name: "sgd", momentum: c.momentum, nesterov: c.nesterov, weightDecay: c.weight_decay }
    : { name: "adam", beta1: c.beta1, beta2: c.beta2, epsilon: c.epsilon, weightDecay: c.weight_decay, decoupled: c.decoupled };
}

function scheduleConfig(c: ExperimentConfig["training"]["schedule"]): ScheduleConfig {
  switch (c.name) {
    case "constant":
      return { name: "constant" };
    case "step":
      return { name: "step", stepSize: c.step_size, gamma: c.gamma };
    case "multistep":
      return { name: "multistep", milestones: c.milestones, gamma: c.gamma };
    case "cosine":
      return { name: "cosine", minLr: c.min_lr };
  }
}

/** Runs an experiment from a config file; returns the run directory and result. */
export async function runFromConfig(args: RunArgs, log: (line: string) => void = (l) => process.stdout.write(l + "\n")): Promise<RunOutcome> {
  const loaded = loadConfig(args.configFile, experimentConfigSchema, { overrides: args.overrides });
  const config = loaded.value;
  const relocate = (err: unknown): never => {
    // Checks that run after schema validation (e.g. in the stream builder) know the key but not the line.
    if (err instanceof ConfigError && err.path && !err.file) throw loaded.errorAt(err.path, err.problem);
    throw err;
  };

  const backend = await selectBackend({ backend: config.backend, threads: config.threads });
  const stream = await buildStream(config.stream, { seed: config.seed, dataDir: process.env.MNEMO_DATA_DIR }).catch(relocate);
  const rng = new SeededRng(config.seed);
  const backbone = makeBackbone(config, stream, (p, m) => loaded.errorAt(p, m));
  const scenario = config.evaluation.scenario ?? (config.stream.kind === "task-incremental" ? "task-incremental" : "class-incremental");

  let dir: string;
  let runName: string;
  let resumedInfo: RunInfo | undefined;
  if (args.resume) {
    dir = args.resume;
    resumedInfo = JSON.parse(readFileSync(join(dir, "run.json"), "utf8")) as RunInfo;
    if (resumedInfo.status === "FINISHED") throw new CheckpointError(`run ${dir} already finished; nothing to resume`, dir);
    runName = resumedInfo.runName;
  } else {
    ({ dir, runName } = createRunDir(config.output.dir, config.name, config.seed));
  }
  const git = gitInfo();
  const info: RunInfo = resumedInfo ? { ...resumedInfo, status: "RUNNING", endedAt: null, error: undefined } : {
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
  if (!args.resume) writeFileSync(join(dir, "config.yaml"), `# resolved config of run ${runName} (from ${args.configFile})\n` + stringify(config));
  writeJson(dir, "run.json", info);
  writeJson(dir, "label_map.json", { labelMap: stream.labelMap, classNames: stream.classNames ?? null });

  log(`mnemo ${MNEMO_VERSION} | ${config.name} | seed ${config.seed} | backend ${backend.description} | stream ${stream.name} (${stream.numTasks} tasks, ${stream.numClasses} classes, hash ${stream.hash.slice(0, 12)})`);
  log(`run directory: ${dir}`);

  const augmentConfig = config.training.augment;
  const augment = augmentConfig
    ? createAugmentation({ ...augmentConfig, normalize: stream.normalization !== undefined }, rng.stream("augment"), stream.normalization)
    : undefined;
  if ("online" in config.stream && config.stream.online && config.training.epochs !== 1) {
    throw loaded.errorAt("training.epochs", `an online stream is a single pass over the data: set training.epochs: 1 (got ${config.training.epochs})`);
  }
  if (config.training.select_best && !config.stream.validation) {
    throw loaded.errorAt("training.select_best", "selection needs a validation split: add stream.validation: { fraction: 0.1 } (never select on test data)");
  }
  const method = buildMethod(config.method, {
    augment,
    selectBest: config.training.select_best,
    stream,
    rng,
    backbone,
    head: config.model.head,
    quiet: args.quiet,
    log,
    configError: (p, m) => loaded.errorAt(p, m),
    training: {
      epochs: config.training.epochs,
      batchSize: config.training.batch_size,
      lr: config.training.lr,
      optimizer: optimizerConfig(config.training.optimizer),
      schedule: scheduleConfig(config.training.schedule),
      warmup: config.training.warmup_epochs > 0 ? { epochs: config.training.warmup_epochs } : undefined,
      maxStepsPerTask: config.training.max_steps_per_task,
    },
  });
  const learner = method.learner;
  const identity = { configHash: configHash(config), streamHash: stream.hash, seed: config.seed, backend: backend.name };
  const context: ExperimentContext = { rng, tracker: undefined as unknown as Tracker, backend, stream, log: (m) => process.stderr.write(m + "\n"), runDir: dir, step: 0 };
  let runner: RunnerState | undefined;
  if (args.resume) {
    runner = await loadRunCheckpoint(dir, identity, learner, rng);
    context.step = runner.step;
    log(`resuming at task ${runner.nextTask + 1}/${stream.numTasks} (step ${runner.step}) from ${join(dir, CHECKPOINT_DIR)}`);
  }
  const interrupt = installInterruptHandler(log, args.stopAfterSteps === undefined ? undefined : () => context.step >= (args.stopAfterSteps as number));
  setStopCheck(learner, interrupt.requested);
  const tracker: Tracker = createTracker({ runDir: dir, onWarning: (m) => process.stderr.write(`mnemo: tracking: ${m}\n`) });
  const tags: Record<string, string> = {
    "mnemo.seed": String(config.seed),
    "mnemo.backend": backend.description,
    "mnemo.threads": String(backend.threads),
    "mnemo.version": MNEMO_VERSION,
    "mnemo.streamHash": stream.hash,
    "mnemo.runDir": dir,
  };
  if (git.commit) {
    tags["mnemo.gitCommit"] = git.commit;
    tags["mlflow.source.git.commit"] = git.commit;
  }
  if (args.resume) tags["mnemo.resumedAtTask"] = String((runner?.nextTask ?? 0) + 1);
  await tracker.startRun({ experimentName: config.name, runName, params: flattenConfig(config as unknown as Record<string, unknown>), tags, parentRunId: args.parentRunId });
  context.tracker = tracker;

  const header = ["task", "classes", "train s", "eval s", "acc(task)", "A_t", "forgetting"];
  const rows: (string | number)[][] = [];
  const extraMetrics: Record<string, number>[] = runner?.extraMetrics ?? [];
  let result: ExperimentResult;
  let pendingResult: ExperimentResult | undefined;
  try {
    result = await runExperiment(
      { name: config.name, stream, learner, tracker, seed: config.seed, evaluation: { scenario, batchSize: config.evaluation.batch_size, evaluateFutureTasks: config.evaluation.future_tasks } },
      context,
      {
        onStart: (r) => {
          pendingResult = r;
        },
        startTask: runner?.nextTask,
        previous: runner?.result,
        onTaskEvaluated: async (i, row, partial) => {
          const extra = method.afterTask ? await method.afterTask(i, partial) : {};
          extraMetrics[i] = extra;
          const seen = partial.matrix.slice(0, i + 1).map((r) => r.slice(0, i + 1));
          const sofar = summarize(seen, { testSizes: partial.testSizes.slice(0, i + 1) });
          const At = sofar.accuracyCurve[i] as number;
          const F = sofar.forgetting; // NaN after the first task
          rows.push([i, stream.taskClasses[i]?.length ?? 0, (partial.trainSeconds[i] ?? 0).toFixed(1), (partial.evalSeconds[i] ?? 0).toFixed(1), pct(row[i]), pct(At), pct(F)]);
          const perTask: Record<string, number> = { seen_accuracy: At, task_time_sec: partial.trainSeconds[i] ?? 0 };
          row.forEach((v, j) => {
            if (v !== null) perTask[`accuracy/task_${j}`] = v;
          });
          if (i > 0) {
            perTask.forgetting = F;
            perTask.backward_transfer = sofar.backwardTransfer;
          }
          tracker.logMetrics({ ...perTask, ...extra }, i);
          log((rows.length === 1 ? formatTable(header, rows) : formatTable(header, rows).split("\n").pop()) as string);
          if (Object.keys(extra).length > 0) log(`  ${Object.entries(extra).map(([k, v]) => `${k} ${pct(v)}`).join(" | ")}`);
          writeJson(dir, "accuracy_matrix.json", { matrix: partial.matrix, taskClasses: partial.taskClasses, testSizes: partial.testSizes });
          writeFileSync(join(dir, "accuracy_matrix.csv"), accuracyMatrixCsv({ matrix: partial.matrix, taskClasses: partial.taskClasses }));
          info.taskTimingsSec = [...partial.trainSeconds];
          info.evalTimingsSec = [...partial.evalSeconds];
          writeJson(dir, "run.json", info);
          await saveRunCheckpoint(dir, identity, learner, { nextTask: i + 1, step: context.step, result: partial, extraMetrics, rng: rng.snapshot() }, { task: i, complete: true });
        },
      },
    );
  } catch (err) {
    if (err instanceof TrainingInterrupted) {
      // Save where we are: the learner stopped between two steps, so its state is consistent.
      const partial = pendingResult as ExperimentResult;
      await saveRunCheckpoint(dir, identity, learner, { nextTask: err.taskIndex, step: context.step, result: partial, extraMetrics, rng: rng.snapshot() }, { task: err.taskIndex, complete: false });
      info.status = "KILLED";
      info.endedAt = new Date().toISOString();
      writeJson(dir, "run.json", info);
      learner.dispose();
      interrupt.dispose();
      await tracker.endRun("KILLED").catch((e: unknown) => process.stderr.write(`mnemo: tracking: could not close the run: ${(e as Error).message}\n`));
      log(`interrupted during task ${err.taskIndex + 1}: checkpoint saved. Continue with: mnemo run --resume ${dir}`);
      throw err;
    }
    interrupt.dispose();
    info.status = "FAILED";
    info.endedAt = new Date().toISOString();
    info.error = (err as Error).message;
    writeJson(dir, "run.json", info);
    learner.dispose();
    await tracker.endRun("FAILED").catch((e: unknown) => process.stderr.write(`mnemo: tracking: could not close the run: ${(e as Error).message}\n`));
    throw err;
  }
  learner.dispose();
  interrupt.dispose();

  const summary = summarize(result.matrix, { testSizes: result.testSizes });
  writeJson(dir, "metrics.json", {
    final: {
      final_average_accuracy: summary.finalAverageAccuracy,
      average_incremental_accuracy: summary.averageIncrementalAccuracy,
      backward_transfer: summary.backwardTransfer,
      forgetting: summary.forgetting,
    },
    perStep: summary.accuracyCurve.map((a, t) => ({
      accuracy: a,
      ...(t > 0 ? { forgetting: summary.forgettingCurve[t - 1] as number } : {}),
      ...extraMetrics[t],
    })),
  });
  const heatmap = accuracyHeatmapSvg(result.matrix);
  const curves = accuracyCurvesSvg(result.matrix);
  mkdirSync(join(dir, "plots"), { recursive: true });
  writeFileSync(join(dir, "plots", "accuracy_heatmap.svg"), heatmap);
  writeFileSync(join(dir, "plots", "accuracy_curves.svg"), curves);
  tracker.logMetrics(
    {
      final_average_accuracy: summary.finalAverageAccuracy,
      average_incremental_accuracy: summary.averageIncrementalAccuracy,
      ...(result.matrix.length > 1 ? { backward_transfer: summary.backwardTransfer, final_forgetting: summary.forgetting } : {}),
    },
    result.matrix.length - 1,
  );
  for (const name of ["config.yaml", "accuracy_matrix.json", "accuracy_matrix.csv", "metrics.json", "label_map.json"]) {
    await tracker.logArtifact(name, readFileSync(join(dir, name)));
  }
  await tracker.logArtifact("plots/accuracy_heatmap.svg", heatmap);
  await tracker.logArtifact("plots/accuracy_curves.svg", curves);
  info.status = "FINISHED";
  info.endedAt = new Date().toISOString();
  writeJson(dir, "run.json", info);
  await tracker.logArtifact("run.json", readFileSync(join(dir, "run.json")));
  await tracker.endRun("FINISHED");

  log("");
  log("accuracy matrix R[i][j] (%): rows = trained through task i, columns = task j");
  log(formatTable(["", ...result.matrix.map((_, j) => `T${j}`)], result.matrix.map((r, i) => [`after T${i}`, ...r.map(pct)])));
  log("");
  log(`final average accuracy ${pct(summary.finalAverageAccuracy)} | average incremental accuracy ${pct(summary.averageIncrementalAccuracy)} | BWT ${pct(summary.backwardTransfer)} | forgetting ${pct(summary.forgetting)}`);
  log(`total train ${result.trainSeconds.reduce((a, b) => a + b, 0).toFixed(1)} s, eval ${result.evalSeconds.reduce((a, b) => a + b, 0).toFixed(1)} s -> ${dir}`);
  return { runDir: dir, result, config };
}

export async function runCommand(argv: string[]): Promise<number> {
  try {
    await runFromConfig(parseRunArgs(argv));
  } catch (err) {
    if (err instanceof TrainingInterrupted) return 130; // the shell's code for Ctrl-C
    throw err;
  }
  return 0;
}
