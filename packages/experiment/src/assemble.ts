/**
 * Config → experiment: the stream, the backbone, the method's learner with its plugins, the
 * evaluation protocol. What `mnemo run` runs is exactly what `buildExperiment` returns.
 */
import {
  type Backbone,
  ConfigError,
  DataError,
  type EvaluationProtocol,
  type Plugin,
  SeededRng,
  type BackendInfo,
  type TaskStream,
} from "@mnemo/core";
import { selectBackend } from "@mnemo/runtime";
import type { LoadedConfig } from "./config-loader.js";
import { totalmem } from "node:os";
import { buildStream, createAugmentation, learnerView, type TaskSampleCounts } from "@mnemo/data";
import { createBackbone, mlp, type OptimizerConfig, type ScheduleConfig, type TrainingConfig } from "@mnemo/models";
import type { ExperimentConfig } from "./config-schema.js";
import { defaultRegistry } from "./default-registry.js";
import type { MethodBuild, MethodContext } from "./methods/types.js";
import { CAPABILITY_WORDS, type Capability, type Registry } from "./registry.js";

export interface BuildOptions {
  registry?: Registry;
  /** Where datasets are read from (default: MNEMO_DATA_DIR, then ~/.cache/mnemo/datasets). */
  dataDir?: string;
  /** Download missing dataset files; overrides `data.download` (`mnemo run --offline` passes false). */
  download?: boolean;
  /** Fetch release files from `<mirror>/<file>` (default `$MNEMO_DATASET_MIRROR`), e.g. a local copy. */
  mirror?: string;
  /** md5 per release file name, replacing the official ones (a mirror serving a regenerated copy). */
  checksums?: Readonly<Record<string, string>>;
  /** No progress bars from the learners. */
  quiet?: boolean;
  /** Messages from builders (default: stderr). */
  log?: (line: string) => void;
}

/** Everything a run is made of, before it runs. */
export interface BuiltExperiment {
  config: ExperimentConfig;
  /** Where the config came from, for error messages and the resolved config.yaml header. */
  source: string;
  backend: BackendInfo;
  /** The real stream: tasks and evaluation (it keys the hidden labels of a semi-supervised stream). */
  stream: TaskStream;
  /**
   * What methods, plugins and the learner's context see: `learnerView(stream)`, from which the
   * hidden labels of `task.unlabelled` cannot be read (`unlabelledTruth` refuses it).
   */
  learnerStream: TaskStream;
  /** Train/validation/test samples per task, known before any task is loaded (the run header prints them). */
  sampleCounts?: readonly TaskSampleCounts[];
  /** A name per task where the stream has them (corruption streams: "shot_noise", ...). */
  taskNames?: readonly string[];
  /** Data problems that did not stop the build (e.g. an incomplete file under `data.incomplete: warn`). */
  dataWarnings?: readonly string[];
  rng: SeededRng;
  backbone: Backbone;
  method: MethodBuild;
  evaluation: EvaluationProtocol;
  /** The shifted domains of `adaptation:` (each task's test split is an online target), when the config has one. */
  adaptationStream?: TaskStream;
  /** A ConfigError at a key of the config (with its file and line when it came from a file). */
  errorAt(path: string, problem: string): ConfigError;
}

export function optimizerConfig(c: ExperimentConfig["training"]["optimizer"]): OptimizerConfig {
  return c.name === "sgd"
    ? { name: "sgd", momentum: c.momentum, nesterov: c.nesterov, weightDecay: c.weight_decay }
    : { name: "adam", beta1: c.beta1, beta2: c.beta2, epsilon: c.epsilon, weightDecay: c.weight_decay, decoupled: c.decoupled };
}

export function scheduleConfig(c: ExperimentConfig["training"]["schedule"]): ScheduleConfig {
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

export function trainingConfig(t: ExperimentConfig["training"]): TrainingConfig {
  return {
    epochs: t.epochs,
    batchSize: t.batch_size,
    lr: t.lr,
    optimizer: optimizerConfig(t.optimizer),
    schedule: scheduleConfig(t.schedule),
    warmup: t.warmup_epochs > 0 ? { epochs: t.warmup_epochs } : undefined,
    maxStepsPerTask: t.max_steps_per_task,
    optimizerAcrossTasks: t.optimizer_across_tasks,
  };
}

/** Whether the stream config carves a non-empty validation split (`0` turns it off explicitly). */
export function hasValidationSplit(stream: ExperimentConfig["stream"]): boolean {
  const v = "validation" in stream ? stream.validation : undefined;
  return v !== undefined && (v.fraction ?? v.per_class ?? 0) > 0;
}

/** The backbone the `model:` section asks for, on the stream's input shape. */
export function makeBackbone(config: ExperimentConfig, stream: TaskStream, errorAt: (path: string, problem: string) => ConfigError): Backbone {
  switch (config.model.backbone) {
    case "mlp":
      return mlp({ inputShape: stream.inputShape, hidden: config.model.hidden, batchNorm: config.model.batch_norm });
    default:
      if (config.model.batch_norm) throw errorAt("model.batch_norm", `${config.model.backbone} always has batch norm; batch_norm is an MLP switch: remove it`);
      try {
        return createBackbone(config.model.backbone, { inputShape: stream.inputShape });
      } catch (err) {
        // e.g. a 28x28 stream on a backbone that needs 32x32: the user fixes model.backbone.
        if (err instanceof ConfigError) throw err;
        throw errorAt("model.backbone", (err as Error).message);
      }
  }
}

/** Builds the experiment a validated config describes (backend, stream, backbone, learner). */
export async function buildExperiment(loaded: LoadedConfig<ExperimentConfig>, options: BuildOptions = {}): Promise<BuiltExperiment> {
  const config = loaded.value;
  const registry = options.registry ?? defaultRegistry;
  const log = options.log ?? ((l: string) => process.stderr.write(l + "\n"));
  const errorAt = (path: string, problem: string) => loaded.errorAt(path, problem);
  const relocate = (err: unknown): never => {
    // Checks that run after schema validation (e.g. in the stream builder) know the key but not the line.
    if (err instanceof ConfigError && err.path && !err.file) throw loaded.errorAt(err.path, err.problem);
    throw err;
  };

  const methodDef = registry.method(config.method.name);
  if (!methodDef) throw errorAt("method.name", `unknown method "${config.method.name}"; registered: ${registry.methods().map((m) => m.name).join(", ")}`);
  checkComposition(config, registry, errorAt);
  if ("online" in config.stream && config.stream.online && config.training.epochs !== 1) {
    throw errorAt("training.epochs", `an online stream is a single pass over the data: set training.epochs: 1 (got ${config.training.epochs})`);
  }
  if (config.training.select_best && !hasValidationSplit(config.stream)) {
    throw errorAt("training.select_best", "selection needs a validation split: add stream.validation: { fraction: 0.1 } (never select on test data)");
  }

  const backend = await selectBackend({ backend: config.backend, threads: config.threads });
  const stream = await buildStream(config.stream, {
    seed: config.seed,
    dataDir: options.dataDir ?? process.env.MNEMO_DATA_DIR,
    download: options.download ?? config.data.download,
    mirror: options.mirror,
    checksums: options.checksums,
    incomplete: config.data.incomplete,
  }).catch((err: unknown) => {
    // The loader names the file and the official copy; the run config's own switch is ours to name.
    if (err instanceof DataError && err.details.incomplete) {
      throw new DataError(`${err.message} Or run on it anyway with data.incomplete: warn (the numbers are then not comparable to published ones).`, err.details, { cause: err });
    }
    return relocate(err);
  });
  checkSizes(config, stream, errorAt);
  const adaptationStream = config.adaptation ? await buildAdaptationStream(config, stream, options, relocate, errorAt) : undefined;
  const rng = new SeededRng(config.seed);
  const backbone = makeBackbone(config, stream, errorAt);
  const augmentConfig = config.training.augment;
  const augment = augmentConfig
    ? createAugmentation({ ...augmentConfig, normalize: stream.normalization !== undefined }, rng.stream("augment"), stream.normalization)
    : undefined;
  const quiet = options.quiet ?? false;
  const learnerStream = learnerView(stream);
  const base = {
    stream: learnerStream,
    rng,
    backbone,
    head: config.model.head,
    training: trainingConfig(config.training),
    augment,
    selectBest: config.training.select_best,
    quiet,
    log,
  };
  const plugins: Plugin[] = [];
  const reporters: ((taskIndex: number) => Record<string, number>)[] = [];
  for (const [i, section] of config.plugins.entries()) {
    const def = registry.plugin(section.name);
    if (!def) throw errorAt(`plugins.${i}.name`, `unknown plugin "${section.name}"`);
    const plugin = await def.build(section, { ...base, method: config.method.name, configError: (key, problem) => errorAt(`plugins.${i}.${key}`, problem) });
    plugins.push(plugin);
    if (def.taskMetrics) reporters.push((t) => def.taskMetrics?.(plugin, t, { stream }) ?? {});
  }
  const context: MethodContext = { ...base, plugins, configError: errorAt };
  const method = withPluginMetrics(await methodDef.build(config.method, context), reporters);
  if (config.adaptation && !("model" in method.learner)) {
    throw errorAt("adaptation", `method "${config.method.name}" has no single trained model (params and BN state) an adapter could start from; use a gradient method (finetune, joint, er, ...)`);
  }
  const scenario = config.evaluation.scenario ?? (config.stream.kind === "task-incremental" ? "task-incremental" : "class-incremental");
  return {
    config,
    source: loaded.file,
    backend,
    stream,
    learnerStream,
    sampleCounts: stream.taskSizes,
    taskNames: stream.taskNames,
    dataWarnings: stream.warnings,
    rng,
    backbone,
    method,
    ...(adaptationStream ? { adaptationStream } : {}),
    evaluation: {
      scenario,
      batchSize: config.evaluation.batch_size,
      evaluateFutureTasks: config.evaluation.future_tasks,
      evaluateValidation: hasValidationSplit(config.stream),
    },
    errorAt,
  };
}

/**
 * The `adaptation.stream` of shifted domains: built like the run's stream, then checked against
 * it (same input shape, classes and label map: the source model's head predicts those).
 */
async function buildAdaptationStream(
  config: ExperimentConfig,
  source: TaskStream,
  options: BuildOptions,
  relocate: (err: unknown) => never,
  errorAt: (path: string, problem: string) => ConfigError,
): Promise<TaskStream> {
  const a = config.adaptation as NonNullable<ExperimentConfig["adaptation"]>;
  const needsBn = a.adapters.findIndex((s) => s.name === "bn" || s.name === "tent");
  if (needsBn >= 0 && config.model.backbone === "mlp" && !config.model.batch_norm) {
    throw errorAt(`adaptation.adapters.${needsBn}.name`, `${a.adapters[needsBn]?.name} adapts batch norm, and the MLP has none: set model.batch_norm: true (or use a conv backbone)`);
  }
  const stream = await buildStream(a.stream, {
    seed: config.seed,
    dataDir: options.dataDir ?? process.env.MNEMO_DATA_DIR,
    download: options.download ?? config.data.download,
    mirror: options.mirror,
    checksums: options.checksums,
    incomplete: config.data.incomplete,
  }).catch((err: unknown) => relocate(err instanceof ConfigError && err.path?.startsWith("stream") && !err.file ? new ConfigError(err.problem, { path: `adaptation.${err.path}` }, { cause: err }) : err));
  const same = (x: readonly number[], y: readonly number[]) => x.length === y.length && x.every((v, i) => v === y[i]);
  if (!same(stream.inputShape, source.inputShape)) throw errorAt("adaptation.stream", `the domains have images of [${stream.inputShape}], the training stream [${source.inputShape}]; adapt on the same dataset's images`);
  if (!same(stream.labelMap, source.labelMap)) {
    throw errorAt("adaptation.stream", `the domains' classes [${stream.labelMap}] are not the training stream's [${source.labelMap}] (in the same order); the source model's head predicts the latter`);
  }
  return stream;
}

/** The method's per-task metrics followed by those of the plugins (one row in metrics.json `perStep`). */
function withPluginMetrics(method: MethodBuild, reporters: readonly ((taskIndex: number) => Record<string, number>)[]): MethodBuild {
  if (reporters.length === 0) return method;
  const own = method.afterTask?.bind(method);
  return {
    ...method,
    async afterTask(taskIndex, partial) {
      const row = own ? await own(taskIndex, partial) : {};
      for (const r of reporters) Object.assign(row, r(taskIndex));
      return row;
    },
  };
}

/** Plugins only compose with gradient methods, and no two components may claim the same capability. */
function checkComposition(config: ExperimentConfig, registry: Registry, errorAt: (path: string, problem: string) => ConfigError): void {
  const method = registry.method(config.method.name);
  if (!method) return;
  if (config.plugins.length > 0 && !method.acceptsPlugins) {
    const first = config.plugins[0]?.name;
    throw errorAt(
      "plugins",
      `method.name "${method.name}" and plugins[0] (${first}) cannot be combined: ${method.name} trains no gradient learner a plugin could hook into; remove plugins: or use er, derpp, finetune, joint or icarl`,
    );
  }
  config.plugins.forEach((section, i) => registry.plugin(section.name)?.check?.(section, config, errorAt, `plugins.${i}`));
  config.plugins.forEach((section, i) => {
    if (registry.plugin(section.name)?.needsValidation?.(section) && !hasValidationSplit(config.stream)) {
      throw errorAt(
        `plugins.${i}.name`,
        `${section.name} chooses on the validation split, but stream.validation is missing (or 0): add stream.validation: { per_class: 100 } (or { fraction: 0.1 }) to the stream section; test data is never used for choosing`,
      );
    }
  });
  const owner = new Map<Capability, string>();
  const at = new Map<Capability, number>();
  for (const c of method.provides?.(config.method) ?? []) owner.set(c, `method (${method.name})`);
  config.plugins.forEach((section, i) => {
    const def = registry.plugin(section.name);
    for (const c of def?.provides ?? []) {
      const other = owner.get(c);
      const here = `plugins[${i}] (${section.name})`;
      if (other) throw errorAt(`plugins.${i}.name`, `${other} and ${here} both ${CAPABILITY_WORDS[c]}; keep one of them`);
      owner.set(c, here);
      at.set(c, i);
    }
  });
  // Score replacements (iCaRL's NMC) fit class means on the weights a task ends with; evaluating
  // other weights (slow weights, θ_α, a soup) would score their features against stale means.
  const scores = owner.get("scores");
  const swap = owner.get("eval-params");
  if (scores && swap) {
    const i = Math.max(at.get("scores") ?? -1, at.get("eval-params") ?? -1);
    throw errorAt(`plugins.${i}.name`, `${scores} fits its class scores on the trained weights, but ${swap} evaluates other weights, so the scores would be stale; keep one of them`);
  }
}

/** Share of the machine's memory one buffer or model may claim before the config is refused. */
const MEMORY_SHARE = 0.5;
/** Elements in one tensor: beyond this, typed arrays cannot be allocated at all. */
const MAX_TENSOR_ELEMENTS = 2 ** 31 - 1;

function gb(bytes: number): string {
  return bytes >= 1e9 ? `${(bytes / 1e9).toFixed(1)} GB` : `${(bytes / 1e6).toFixed(1)} MB`;
}

/**
 * Sizes that would overflow memory, checked against the stream and this machine before a run
 * directory exists: a replay buffer's images, and the MLP's weights with optimizer slots.
 */
export function checkSizes(config: ExperimentConfig, stream: TaskStream, errorAt: (path: string, problem: string) => ConfigError, machineBytes: number = totalmem()): void {
  const budget = machineBytes * MEMORY_SHARE;
  const sampleBytes = stream.inputShape.reduce((a, b) => a * b, 1);
  const sections: [string, Record<string, unknown>][] = [["method", config.method], ...config.plugins.map((p, i): [string, Record<string, unknown>] => [`plugins.${i}`, p])];
  for (const [where, section] of sections) {
    const m = section.memory_size;
    if (typeof m !== "number") continue;
    const bytes = m * sampleBytes;
    if (bytes > budget) {
      throw errorAt(`${where}.memory_size`, `${m} samples × ${sampleBytes} B = ${gb(bytes)} exceeds half of this machine's memory (${gb(machineBytes)}); use fewer samples`);
    }
  }
  if (config.model.backbone === "mlp") {
    const widths = [sampleBytes, ...config.model.hidden, stream.numClasses];
    let weights = 0;
    for (let l = 1; l < widths.length; l++) {
      const n = (widths[l - 1] as number) * (widths[l] as number);
      if (n > MAX_TENSOR_ELEMENTS) throw errorAt(`model.hidden.${Math.min(l - 1, config.model.hidden.length - 1)}`, `a ${widths[l - 1]} × ${widths[l]} weight matrix has ${n.toExponential(2)} entries, more than one tensor can hold (${MAX_TENSOR_ELEMENTS})`);
      weights += n + (widths[l] as number);
    }
    // Parameters, gradients and up to two optimizer slots, float32 each.
    const bytes = weights * 4 * 4;
    if (bytes > budget) throw errorAt("model.hidden", `${weights.toExponential(2)} parameters need about ${gb(bytes)} with gradients and optimizer state, more than half of this machine's memory (${gb(machineBytes)}); use narrower layers`);
  }
}
