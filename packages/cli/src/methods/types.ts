/** What a continual-learning method is to the CLI: a config section and a learner factory. */
import type { Backbone, ExperimentResult, Learner, SeededRng, TaskStream } from "@mnemo/core";
import type { TrainingConfig } from "@mnemo/models";
import type * as tf from "@tensorflow/tfjs";
import type { ConfigError } from "@mnemo/core";

export interface MethodContext {
  stream: TaskStream;
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
  quiet: boolean;
  log: (line: string) => void;
  /** A ConfigError located at a key of the config file (e.g. "method.memory"). */
  configError: (path: string, problem: string) => ConfigError;
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
  };
}

export interface MethodDefinition<C extends { name: string }> {
  name: C["name"];
  build(config: C, context: MethodContext): MethodBuild;
}
