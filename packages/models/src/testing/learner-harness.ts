/** Test harness for learners and plugins: a small class-incremental stream with validation splits, and a resume-equality check. */
import * as tf from "@tensorflow/tfjs";
import {
  disposeTree,
  inMemoryStream,
  treesEqual,
  type ParamTree,
  MemoryTracker,
  SeededRng,
  subsetByClasses,
  TrainingInterrupted,
  type ExperimentContext,
  type ExperimentResult,
  type ImageSet,
  type Learner,
  type TaskStream,
} from "@mnemo/core";
import { cloneTree, runExperiment } from "@mnemo/core/tf";
import { decodeState, encodeState, type StateValue } from "../checkpoint/index.js";
import { mlp } from "../backbones/mlp.js";
import { SupervisedLearner, type TrainingConfig } from "../train/supervised-learner.js";
import type { Plugin } from "@mnemo/core";

export const SHAPE = [4, 4, 1] as const;
export const CLASSES = 6;

/** Class c lights pixel c (plus noise); `noise` makes classes overlap. */
export function synthetic(seed: number, perClass: number, noise = 60): ImageSet {
  const rng = new SeededRng(seed).stream("data");
  const size = 16;
  const images = new Uint8Array(perClass * CLASSES * size);
  const labels = new Int32Array(perClass * CLASSES);
  let k = 0;
  for (let c = 0; c < CLASSES; c++) {
    for (let i = 0; i < perClass; i++, k++) {
      for (let p = 0; p < size; p++) images[k * size + p] = Math.min(255, Math.floor(rng.uniform(0, noise) + (p === c ? 190 : 0)));
      labels[k] = c;
    }
  }
  return { images, labels, count: k, shape: SHAPE };
}

export const TASKS = [
  [0, 1],
  [2, 3],
  [4, 5],
];

/** inMemoryStream plus a validation split per task (from a separate image set). */
export function streamWithValidation(options: { train?: ImageSet; test?: ImageSet; validation?: ImageSet | null } = {}): TaskStream {
  const base = inMemoryStream({ name: "toy", train: options.train ?? synthetic(1, 40), test: options.test ?? synthetic(2, 20), taskClasses: TASKS });
  const validation = options.validation === undefined ? synthetic(3, 15) : options.validation;
  return {
    ...base,
    async task(index) {
      const t = await base.task(index);
      return validation ? { ...t, validation: subsetByClasses(validation, t.classes) } : t;
    },
  };
}

export const training: TrainingConfig = { epochs: 3, batchSize: 16, lr: 0.01, optimizer: { name: "adam" }, schedule: { name: "constant" } };

export function learnerWith(rng: SeededRng, plugins: Plugin[], options: { training?: TrainingConfig; shouldStop?: () => boolean } = {}): SupervisedLearner {
  return new SupervisedLearner({
    backbone: mlp({ inputShape: SHAPE, hidden: [32] }),
    training: options.training ?? training,
    rng,
    head: "expanding",
    numClasses: CLASSES,
    plugins,
    quiet: true,
    ...(options.shouldStop ? { shouldStop: options.shouldStop } : {}),
  });
}

export function contextFor(rng: SeededRng, stream: TaskStream): ExperimentContext {
  return { rng, tracker: new MemoryTracker(), stream, log: () => {}, step: 0 };
}

export async function run(learner: Learner, rng: SeededRng, stream: TaskStream, context = contextFor(rng, stream)): Promise<ExperimentResult> {
  return runExperiment(
    { name: "toy", stream, learner, tracker: context.tracker, seed: rng.seed, evaluation: { scenario: "class-incremental", batchSize: 64, evaluateFutureTasks: false } },
    context,
  );
}

/**
 * Interrupts a run after `stopAtStep` optimizer steps, checkpoints the learner and the RNG through
 * the checkpoint codec (a real serialise/deserialise), resumes in a fresh learner and returns the
 * resumed run's matrix, to compare with an uninterrupted one.
 */
export interface Outcome {
  result: ExperimentResult;
  /** The final model parameters (a copy: dispose it). */
  params: ParamTree;
}

/** The final parameters of a learner (SupervisedLearner's live model by default). */
export type ParamsOf = (learner: Learner) => ParamTree;
const liveParams: ParamsOf = (l) => (l as SupervisedLearner).model.params;

export async function interruptedAndResumed(make: (rng: SeededRng, shouldStop?: () => boolean) => Learner, stopAtStep: number, paramsOf: ParamsOf = liveParams): Promise<Outcome> {
  const stream = streamWithValidation();
  const rng = new SeededRng(7);
  const context = contextFor(rng, stream);
  const first = make(rng, () => context.step >= stopAtStep);
  let partial: ExperimentResult | undefined;
  let interruptedTask = -1;
  try {
    await runExperiment(
      { name: "toy", stream, learner: first, tracker: context.tracker, seed: 7, evaluation: { scenario: "class-incremental", batchSize: 64, evaluateFutureTasks: false } },
      context,
      { onStart: (r) => (partial = r) },
    );
    throw new Error("the run was expected to be interrupted");
  } catch (err) {
    if (!(err instanceof TrainingInterrupted)) throw err;
    interruptedTask = err.taskIndex;
  }
  const encoded = encodeState((await first.saveState!()) as StateValue);
  const rngState = rng.snapshot();
  const step = context.step;
  first.dispose();

  const rng2 = new SeededRng(7);
  rng2.restore(rngState);
  const second = make(rng2);
  await second.loadState!(decodeState(encoded.tree, encoded.blob) as Record<string, unknown>);
  const context2 = { ...contextFor(rng2, stream), step };
  const result = await runExperiment(
    { name: "toy", stream, learner: second, tracker: context2.tracker, seed: 7, evaluation: { scenario: "class-incremental", batchSize: 64, evaluateFutureTasks: false } },
    context2,
    { startTask: interruptedTask, previous: partial },
  );
  const params = cloneTree(paramsOf(second));
  second.dispose();
  return { result, params };
}

export async function uninterrupted(make: (rng: SeededRng) => Learner, paramsOf: ParamsOf = liveParams): Promise<Outcome> {
  const rng = new SeededRng(7);
  const learner = make(rng);
  const result = await run(learner, rng, streamWithValidation());
  const params = cloneTree(paramsOf(learner));
  learner.dispose();
  return { result, params };
}

/** Same accuracy matrix and bit-identical final parameters; disposes both outcomes' copies. */
export async function sameOutcome(a: Outcome, b: Outcome): Promise<boolean> {
  const equal = JSON.stringify(a.result.matrix) === JSON.stringify(b.result.matrix) && (await treesEqual(a.params, b.params));
  disposeTree(a.params);
  disposeTree(b.params);
  return equal;
}

export function finalAccuracy(r: ExperimentResult): number {
  const last = r.matrix[r.matrix.length - 1] as number[];
  return last.reduce((a, b) => a + b, 0) / last.length;
}

export async function values(t: tf.Tensor): Promise<number[]> {
  return Array.from(await t.data());
}
