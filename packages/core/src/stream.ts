/**
 * Task streams: what every experiment consumes. Images stay uint8 (NHWC) until a batch is
 * converted to float, so a stream of CIFAR-100 tasks costs bytes, not 4x bytes.
 */

/** A set of labelled images, NHWC uint8. Labels are the stream's remapped labels (0..numClasses-1). */
export interface ImageSet {
  images: Uint8Array;
  labels: Int32Array;
  count: number;
  /** [height, width, channels]; [784, 1, 1]-style shapes are not used: MNIST is [28, 28, 1]. */
  shape: readonly [number, number, number];
}

/**
 * Images of a semi-supervised task whose labels the learner must not see. There is deliberately no
 * `labels` field: the stream keeps the hidden labels where no learner-reachable object points to
 * them (evaluation reads them through @mnemo/data's `unlabelledTruth`).
 */
export interface UnlabelledSet {
  images: Uint8Array;
  count: number;
  shape: readonly [number, number, number];
}

/** "meta-learning": one meta-training task over disjoint meta-train / meta-val / meta-test classes (episodic protocols). */
export type Scenario = "class-incremental" | "task-incremental" | "domain-incremental" | "few-shot-class-incremental" | "meta-learning";

export interface Task {
  /** 0-based position in the stream. */
  index: number;
  /** Remapped labels introduced by this task (class-IL) or used by it (task-IL, domain-IL). */
  classes: number[];
  train: ImageSet;
  /** Validation split carved from train (for checkpoint / hyper-parameter selection), if configured. */
  validation?: ImageSet;
  test: ImageSet;
  /** Semi-supervised streams: the task's training images without labels (`train` is the labelled part). */
  unlabelled?: UnlabelledSet;
}

export interface TaskStream {
  readonly name: string;
  readonly scenario: Scenario;
  readonly numTasks: number;
  /** Total number of distinct (remapped) labels in the stream. */
  readonly numClasses: number;
  /** Remapped label k is original dataset class `labelMap[k]`. */
  readonly labelMap: readonly number[];
  /** Classes of each task (remapped), known before loading any task. */
  readonly taskClasses: readonly (readonly number[])[];
  readonly classNames?: readonly string[];
  readonly inputShape: readonly [number, number, number];
  /** Hash of everything that defines the stream (dataset, order, splits); recorded with every run. */
  readonly hash: string;
  /** Per-channel mean and std (0..1 scale) used to normalise inputs. */
  readonly normalization?: { mean: readonly number[]; std: readonly number[] };
  /** Loads task i (train/validation/test). Only one task's training data need be held at once. */
  task(index: number): Promise<Task>;
  /** Test set of task i, used for every row of the accuracy matrix (cheap to keep: uint8). */
  testSet(index: number): Promise<ImageSet>;
}
