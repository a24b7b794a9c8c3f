/**
 * The random-init baseline row b of FWT (GEM §4): accuracy of the untrained model on every task's
 * test set, evaluated once per run before any training.
 *
 * The weights come from a fresh copy of the learner's own init stream (`rng.derive(streamName)`,
 * default "init"), so with a fixed head b is measured on exactly the model the learner starts
 * from, and the learner's stream is not advanced. An expanding head starts with fewer outputs;
 * the baseline model has one output per class of the stream (the backbone weights, drawn first,
 * are the same), since b_j must be able to predict task j's classes.
 */
import * as tf from "@tensorflow/tfjs";
import { disposeTree } from "./param-tree.js";
import type { EvaluationProtocol, Learner } from "./experiment.js";
import { evaluateSet } from "./run-experiment.js";
import type { Backbone } from "./model.js";
import type { SeededRng } from "./rng.js";
import type { ImageSet, TaskStream } from "./stream.js";

export interface RandomInitBaselineOptions {
  backbone: Backbone;
  /** The run's RNG (the seed the learner's init stream comes from). */
  rng: SeededRng;
  stream: TaskStream;
  protocol: EvaluationProtocol;
  /** Name of the learner's weight-init stream; default "init". */
  streamName?: string;
  /** Head outputs of the baseline model; default `stream.numClasses`. */
  numClasses?: number;
}

export interface RandomInitBaseline {
  /** b_j in percent, one per task (the FWT baseline row). */
  accuracies: number[];
  /** What produced it, for the run record: the seed, the stream name and the head size. */
  seed: number;
  streamName: string;
  numClasses: number;
}

/** b_j for every task j: the randomly initialised model (no plugins, no training) on task j's test set. */
export async function evaluateRandomInit(options: RandomInitBaselineOptions): Promise<RandomInitBaseline> {
  const { backbone, rng, stream, protocol } = options;
  const streamName = options.streamName ?? "init";
  const numClasses = options.numClasses ?? stream.numClasses;
  const { params, state } = backbone.init(rng.derive(streamName), numClasses);
  const learner: Learner = {
    name: "random-init",
    plugins: [],
    learnTask: () => Promise.reject(new Error("the random-init baseline is never trained")),
    predict: (x, predictOptions = {}) =>
      tf.tidy(() => {
        const scores = backbone.apply(params, x, { training: false, state }).logits;
        const classes = predictOptions.classes;
        if (!classes || classes.length === 0) return tf.argMax(scores, 1) as tf.Tensor1D;
        const cls = tf.tensor1d(Array.from(classes), "int32");
        return tf.gather(cls, tf.argMax(tf.gather(scores, cls, 1), 1)) as tf.Tensor1D;
      }),
    dispose: () => {
      disposeTree(params);
      disposeTree(state);
    },
  };
  try {
    const accuracies: number[] = [];
    for (let j = 0; j < stream.numTasks; j++) {
      const set: ImageSet = await stream.testSet(j);
      accuracies.push(await evaluateSet(learner, set, stream, protocol, stream.taskClasses[j]));
    }
    return { accuracies, seed: rng.seed, streamName, numClasses };
  } finally {
    learner.dispose();
  }
}
