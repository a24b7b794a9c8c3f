/**
 * The one interface every Mnemo component plugs into.
 *
 * An Experiment is a task stream, a learner (backbone + plugins), an evaluation protocol, a
 * tracker and a seed. The runner trains task by task and, after each task, evaluates on the
 * test set of EVERY task (also future ones, for FWT), filling the full accuracy matrix.
 *
 * Lifecycle of a learner training one task (Avalanche's strategy/plugin model, on functional
 * parameters):
 *
 *   onTaskStart → for each batch: onBatch (may add replayed samples) → loss + lossTerms
 *   (distillation, logit replay) → optimizer step → onStepEnd (buffer insert, EMA / slow weights)
 *   → onTaskEnd (class means, herding) … evaluation: beforeEval (swap in slow weights) →
 *   predict (plugins may replace the scores, e.g. nearest prototype) → afterEval.
 *
 * A learner with a loop of its own (the FSCIL prototype learner; an episodic meta-learner) implements
 * `Learner.learnTask` itself and is evaluated like any other: per-class counts beside the matrix,
 * `predictVariants` for an ablation scored on the same pass. See docs/architecture.md.
 *
 * This file holds the contract's types only (no tfjs at run time); the runner that executes it,
 * `runExperiment`, is in `run-experiment.ts`, entry `@mnemo/core/tf`.
 */
import type * as tf from "@tensorflow/tfjs";
import type { BackendInfo } from "./backend-info.js";
import type { TaskCost } from "./cost.js";
import type { AccuracyMatrix, ClassCounts } from "./metrics.js";
import type { Backbone } from "./model.js";
import type { ParamTree } from "./param-tree.js";
import type { SeededRng } from "./rng.js";
import type { ImageSet, Task, TaskStream } from "./stream.js";
import type { Tracker } from "./tracker.js";

/** A training batch. `x` is normalised float NHWC, `y` int32 labels. */
export interface Batch {
  x: tf.Tensor;
  y: tf.Tensor1D;
  /** Extra per-sample fields carried by replayed samples (e.g. stored logits for DER++). */
  extras?: Record<string, tf.Tensor>;
  /** Which rows came from the current task's stream (the rest are replayed). */
  streamCount: number;
  /** Where the stream rows (0..streamCount-1) come from: their indices in `task.train`. */
  indices: Int32Array;
  /**
   * The stream rows' un-augmented uint8 images, packed [streamCount, h, w, c] (Mammoth's
   * `not_aug_inputs`): what a buffer stores, without re-deriving it from the float batch.
   */
  raw: Uint8Array;
}

/** The live model a learner trains: plugins read (and some swap) it. */
export interface ModelHandle {
  backbone: Backbone;
  params: ParamTree;
  state: ParamTree;
  /** Number of classes the head currently covers. */
  numClasses: number;
}

export interface ExperimentContext {
  rng: SeededRng;
  tracker: Tracker;
  backend?: BackendInfo;
  stream: TaskStream;
  /** Progress and messages go here (stderr by default), never to stdout. */
  log: (message: string) => void;
  /** Run directory for checkpoints and artifacts, when the run has one. */
  runDir?: string;
  /** Global optimizer step counter, for metric logging. */
  step: number;
  /**
   * Writes a mid-task checkpoint of the run now (provided by runners that keep a run directory).
   * Long tasks (meta-training) call it between steps every so often, so that even a `kill -9`
   * loses at most that much work; the learner's `saveState` must then record its position.
   */
  saveCheckpoint?: (taskIndex: number) => Promise<void>;
  /**
   * Called by gradient learners after every optimizer step, once their `saveState` would record
   * the position after it: the runner writes a mid-task checkpoint here when one is due
   * (`checkpoint.every_steps` / `every_minutes`) and reports progress. Cheap when nothing is due.
   */
  afterStep?: (taskIndex: number) => void | Promise<void>;
}

export interface TaskEvent {
  task: Task;
  model: ModelHandle;
  context: ExperimentContext;
}

export interface BatchEvent extends TaskEvent {
  batch: Batch;
  epoch: number;
  iteration: number;
}

export interface LossEvent extends BatchEvent {
  /** Forward pass outputs on `batch.x` with the trainable parameters being differentiated. */
  logits: tf.Tensor2D;
  features: tf.Tensor2D;
  /** The parameters being differentiated (use these, not `model.params`, inside the loss). */
  params: ParamTree;
}

export interface PredictEvent {
  model: ModelHandle;
  x: tf.Tensor;
  features: tf.Tensor2D;
  logits: tf.Tensor2D;
}

export type PluginState = Record<string, unknown>;

export interface Plugin {
  readonly name: string;
  onTaskStart?(event: TaskEvent): void | Promise<void>;
  /** Return a new batch to train on (e.g. stream + replay); the old one is disposed by the learner. */
  onBatch?(event: BatchEvent): Batch | void;
  /** Extra loss terms (called inside the gradient tape; return a scalar or nothing). */
  lossTerms?(event: LossEvent): tf.Scalar | void;
  /** After the optimizer step: buffer inserts, slow-weight updates. */
  onStepEnd?(event: BatchEvent): void;
  onTaskEnd?(event: TaskEvent): void | Promise<void>;
  /** Before evaluation (e.g. swap in slow weights); `afterEval` must undo it. */
  beforeEval?(model: ModelHandle): void;
  afterEval?(model: ModelHandle): void;
  /** Replace the class scores (e.g. nearest-prototype scores). Must return a new [n, classes] tensor. */
  scores?(event: PredictEvent): tf.Tensor2D | void;
  state?(): PluginState | Promise<PluginState>;
  loadState?(state: PluginState): void | Promise<void>;
  /** Releases the tensors the plugin keeps (called by the learner's dispose). */
  dispose?(): void;
}

export interface PredictOptions {
  /** Task-incremental evaluation: restrict predictions to these classes. */
  classes?: readonly number[];
}

export interface Learner {
  readonly name: string;
  readonly plugins: readonly Plugin[];
  /** Train on one task of the stream. */
  learnTask(task: Task, context: ExperimentContext): Promise<void>;
  /** Predicted labels (int32 [n]) for a normalised float batch. */
  predict(x: tf.Tensor, options?: PredictOptions): tf.Tensor1D;
  /**
   * `predict` plus named alternative classifiers on the same forward pass: an ablation measured in
   * the same run (FSCIL prototypes without TEEN's calibration). When present the runner calls this
   * instead of `predict`; the accuracy matrix is `predicted`'s, and each variant gets its own
   * per-class correct counts in `ExperimentResult.perClassCounts`.
   */
  predictVariants?(x: tf.Tensor, options?: PredictOptions): { predicted: tf.Tensor1D; variants: Record<string, tf.Tensor1D> };
  beforeEvaluation?(): void;
  afterEvaluation?(): void;
  /**
   * Accuracy (percent) on a test set under the learner's own protocol, replacing the runner's
   * predict-and-count (e.g. episodic meta-test: adapt to each episode's support, score its queries).
   */
  evaluateSet?(set: ImageSet, classes?: readonly number[]): Promise<number>;
  /** Everything needed to resume (params, BN state, optimizer, plugins); see @mnemo/models checkpoints. */
  saveState?(): Promise<Record<string, unknown>>;
  loadState?(state: Record<string, unknown>): Promise<void>;
  /** Releases all tensors. */
  dispose(): void;
  /**
   * Stream images trained on so far (cumulative; replayed rows not counted), for img/s in the
   * run's cost record. Learners that do not count leave it undefined.
   */
  readonly trainedImages?: number;
}

export type EvaluationScenario = "class-incremental" | "task-incremental";

export interface EvaluationProtocol {
  /** class-incremental: argmax over all classes of the head; task-incremental: within the task's classes. */
  scenario: EvaluationScenario;
  batchSize: number;
  /** Also evaluate tasks not yet trained (needed for FWT; costs evaluation time). */
  evaluateFutureTasks: boolean;
  /**
   * Also evaluate the validation split of every task trained so far (when the stream carves one),
   * into `ExperimentResult.validationMatrix`: the numbers to choose hyper-parameters on.
   */
  evaluateValidation?: boolean;
}

export interface Experiment {
  name: string;
  stream: TaskStream;
  learner: Learner;
  evaluation: EvaluationProtocol;
  tracker: Tracker;
  seed: number;
}

export interface ExperimentResult {
  /** R[i][j] in percent; null where not evaluated. */
  matrix: AccuracyMatrix;
  taskClasses: number[][];
  testSizes: number[];
  /** Wall time of training (not evaluation) per task, seconds. */
  trainSeconds: number[];
  evalSeconds: number[];
  /** Cost of each task (CPU time, images, memory); see cost.ts. Absent in results from before it existed. */
  cost?: TaskCost[];
  /**
   * V[i][j] = accuracy (percent) on task j's validation split after training through task i, for
   * j <= i (null elsewhere); present when the protocol asks for it and the stream has validation splits.
   */
  validationMatrix?: AccuracyMatrix;
  /** Validation images per task (0 where the task has none). */
  validationSizes?: number[];
  /**
   * C[i][j] = per-class counts behind R[i][j] (null where R is null, or where the learner scores a
   * set under its own protocol, `Learner.evaluateSet`, which gives no counts). Written by the runner
   * beside the matrix; absent in results from before it existed.
   */
  perClassCounts?: (ClassCounts | null)[][];
}

export interface RunHooks {
  /** Called once with the result object the runner fills in (rows appear as tasks finish). */
  onStart?(result: ExperimentResult): void;
  /** Called after a task's training, before its evaluation. */
  onTaskTrained?(taskIndex: number): void | Promise<void>;
  /** Called after each task's evaluation row (log, checkpoint, print). */
  onTaskEvaluated?(taskIndex: number, row: (number | null)[], result: ExperimentResult): void | Promise<void>;
  /** Resume: skip tasks before this index (the learner's state must already be loaded). */
  startTask?: number;
  /** Resume: rows already computed. */
  previous?: ExperimentResult;
}
