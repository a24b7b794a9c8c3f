/** What a method or plugin builder receives from the run being assembled. */
import type { Backbone, ConfigError, ExperimentResult, Learner, Plugin, SeededRng, TaskStream } from "@mnemo/core";
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
