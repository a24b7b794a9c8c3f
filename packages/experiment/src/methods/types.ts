/** What a method or plugin builder receives from the run being assembled. */
import type { Backbone, ConfigError, ExperimentResult, ImageSet, Learner, Plugin, SeededRng, TaskStream } from "@mnemo/core";
import type { TrainingConfig } from "@mnemo/models";
import type * as tf from "@tensorflow/tfjs";

export interface MethodContext {
  stream: TaskStream;
  /**
   * The run's RNG. A learner draws from its own streams ("init", "batching"); every component it
   * owns draws from streams named after itself (`er/buffer`), so adding one never shifts another's.
   */
  rng: SeededRng;
  backbone: Backbone;
  /** The `training:` section, already converted. */
  training: TrainingConfig;
  /** "expanding" or "fixed" (the `model.head` key). */
  head: "expanding" | "fixed";
  /** Train-time augmentation from the `augment:` section, if any. */
  augment?: (x: tf.Tensor4D) => tf.Tensor4D;
  /** `training.select_best`: keep each task's best epoch on the validation split. */
  selectBest: boolean;
  /** Components from the config's `plugins:` list, to be added after the method's own plugins. */
  plugins: readonly Plugin[];
  quiet: boolean;
  log: (line: string) => void;
  /** A ConfigError located at a key of the config file (e.g. "method.memory"). */
  configError: (path: string, problem: string) => ConfigError;
}

export interface PluginContext extends Omit<MethodContext, "plugins" | "configError"> {
  /** The `method.name` of the run the plugin is added to. */
  method: string;
  /** A ConfigError at a key of this plugin's section (e.g. "tau" → plugins[1].tau). */
  configError: (key: string, problem: string) => ConfigError;
}

export interface MethodBuild {
  learner: Learner;
  /**
   * Extra metrics after each task's evaluation row (e.g. FSCIL base/novel accuracy): they are
   * printed, logged to the tracker at step = task index and stored in metrics.json.
   */
  afterTask?(taskIndex: number, partial: ExperimentResult): Promise<Record<string, number>>;
  /** Method-specific records for metrics.json at the end of the run (e.g. meta-training curves). */
  report?(): Record<string, unknown>;
}

/** The learner options every gradient method takes from the config as they are. */
export function commonLearnerOptions(ctx: MethodContext) {
  return {
    backbone: ctx.backbone,
    rng: ctx.rng,
    head: ctx.head,
    numClasses: ctx.stream.numClasses,
    training: ctx.training,
    augment: ctx.augment,
    quiet: ctx.quiet,
    selectBest: ctx.selectBest,
    plugins: [...ctx.plugins],
  };
}

/** The stored samples of a method (raw uint8 images and labels), read when they are needed; null when there are none. */
export type ExemplarSource = () => ImageSet | null;

/** A component that can use a method's stored samples (the `nmc` head rebuilds old classes' means from them). */
export interface ExemplarConsumer {
  useExemplars(source: ExemplarSource): void;
}

function consumesExemplars(p: Plugin): p is Plugin & ExemplarConsumer {
  return typeof (p as Partial<ExemplarConsumer>).useExemplars === "function";
}

/**
 * Hands a method's stored samples to the `plugins:` components that use them. The plugins are built
 * before the method (they are passed to its learner), so a method with a buffer offers it afterwards.
 */
export function offerExemplars(plugins: readonly Plugin[], source: ExemplarSource): void {
  for (const p of plugins) if (consumesExemplars(p)) p.useExemplars(source);
}

/** Rows a component asks a replay buffer to store: packed uint8 images [n, h, w, c] and their labels. */
export type BufferSink = (rows: { images: Uint8Array; labels: Int32Array }) => void;

/** A component whose rows may enter a method's buffer (self_training's `admit_pseudo_labels`); it may decline. */
export interface BufferAdmitter {
  admitTo(sink: BufferSink): void;
}

function admitsToBuffer(p: Plugin): p is Plugin & BufferAdmitter {
  return typeof (p as Partial<BufferAdmitter>).admitTo === "function";
}

/** Offers a method's replay buffer to the `plugins:` components that put rows into one. */
export function offerBuffer(plugins: readonly Plugin[], sink: BufferSink): void {
  for (const p of plugins) if (admitsToBuffer(p)) p.admitTo(sink);
}
