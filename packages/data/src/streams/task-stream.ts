import type { ImageSet, Scenario, Task, TaskStream, UnlabelledSet } from "@mnemo/core";
import type { Dataset } from "../datasets/types.js";
import { gatherImageSet } from "./subset.js";

/** Which part of a task a set is (a transform may treat them differently, e.g. cache test copies). */
export type TaskSplit = "train" | "validation" | "test" | "unlabelled";

/** Dataset indices that make up one task; images are only copied out when the task is loaded. */
export interface TaskPlan {
  classes: number[];
  train: Int32Array;
  validation?: Int32Array;
  test: Int32Array;
  /** Semi-supervised streams: training images delivered without labels (`train` is the labelled part). */
  unlabelled?: Int32Array;
  /** Change of a freshly gathered copy (domain-incremental tasks): in place, or a new set. */
  transform?: (set: ImageSet, split: TaskSplit) => ImageSet;
}

/**
 * Hidden labels of the unlabelled part of each task. A module-private WeakMap rather than a field,
 * so no property reachable from a stream, a task or a set leads to them (the leak test walks them).
 */
const hiddenLabels = new WeakMap<TaskStream, Map<number, Int32Array>>();

/**
 * The true labels of `task(index).unlabelled`, in the same order, for EVALUATION only (pseudo-label
 * precision, calibration on the unlabelled pool). A learner or plugin must never call this.
 */
export function unlabelledTruth(stream: TaskStream, index: number): Int32Array {
  const labels = hiddenLabels.get(stream)?.get(index);
  if (!labels) throw new RangeError(`task ${index} of stream "${stream.name}" has no unlabelled part (was it loaded with task(${index}) yet?)`);
  return labels;
}

/**
 * The stream as a learner sees it: every field of the `TaskStream` contract, and `task` / `testSet`
 * as closures over the real stream. It is a different object, so `unlabelledTruth(view, i)` throws,
 * and no property of it (prototype included) leads back to the stream that keys the hidden labels.
 * The runner hands this to methods and plugins; evaluation keeps the real stream.
 */
export function learnerView(stream: TaskStream): TaskStream {
  // Descriptive fields a kind adds (an episodic stream's split/episodes/continual): data, not
  // labels, which live in `hiddenLabels` keyed by the real stream object only.
  const extras = Object.fromEntries(Object.entries(stream).filter(([, v]) => typeof v !== "function"));
  const view: TaskStream = {
    ...extras,
    name: stream.name,
    scenario: stream.scenario,
    numTasks: stream.numTasks,
    numClasses: stream.numClasses,
    labelMap: [...stream.labelMap],
    taskClasses: stream.taskClasses.map((c) => [...c]),
    ...(stream.classNames ? { classNames: [...stream.classNames] } : {}),
    inputShape: [...stream.inputShape] as unknown as TaskStream["inputShape"],
    hash: stream.hash,
    ...(stream.normalization ? { normalization: { mean: [...stream.normalization.mean], std: [...stream.normalization.std] } } : {}),
    task: (index: number) => stream.task(index),
    testSet: (index: number) => stream.testSet(index),
  };
  return Object.freeze(view);
}

/** The stream as built here: the core contract plus what the run record needs. */
export interface BuiltStream extends TaskStream {
  /** Online setting: the learner must see each training sample once (single pass). */
  readonly online: boolean;
  /** Canonical description of the stream, the input of `hash` (store it with the run). */
  readonly descriptor: Readonly<Record<string, unknown>>;
  /** Where the data came from (file or folder). */
  readonly source: string;
  /** Samples per task, known before any task is loaded (for the run header and the record). */
  readonly taskSizes: readonly TaskSampleCounts[];
  /** Data problems that did not stop the build (e.g. an incomplete official file); print them. */
  readonly warnings: readonly string[];
  /** A name per task where tasks have one (corruption streams: "shot_noise", ...); undefined otherwise. */
  readonly taskNames?: readonly string[];
}

export interface TaskSampleCounts {
  train: number;
  /** 0 without a validation split. */
  validation: number;
  test: number;
  /** Semi-supervised streams: training images without labels. */
  unlabelled?: number;
}

/**
 * One line per task for a run header: `task 0: 11,852 train / 1,317 validation / 2,115 test`, with
 * the task's name where the stream has names (`task 1 (shot_noise): 0 train / ...`).
 */
export function formatTaskSizes(sizes: readonly TaskSampleCounts[], names?: readonly string[]): string[] {
  const n = (x: number): string => x.toLocaleString("en-US");
  return sizes.map((s, i) =>
    [`task ${i}${names?.[i] ? ` (${names[i]})` : ""}: ${n(s.train)} train`, ...(s.unlabelled !== undefined ? [`${n(s.unlabelled)} unlabelled`] : []), `${n(s.validation)} validation`, `${n(s.test)} test`].join(" / "),
  );
}

export interface PlannedStreamInit {
  name: string;
  scenario: Scenario;
  dataset: Dataset;
  labelMap: number[];
  remap: Int32Array;
  plans: TaskPlan[];
  hash: string;
  descriptor: Record<string, unknown>;
  online: boolean;
  /** Input normalisation the stream's consumers apply (undefined: pixels / 255 only). */
  normalization: { mean: readonly number[]; std: readonly number[] } | undefined;
  classNames: string[];
  taskNames?: string[];
}

/**
 * A stream over an in-memory uint8 dataset. Train/validation sets are gathered on every
 * `task(i)` call and never cached (at most one task's copy lives while the caller holds it);
 * test sets are cached because every row of the accuracy matrix re-reads them.
 */
export class PlannedStream implements BuiltStream {
  readonly name: string;
  readonly scenario: Scenario;
  readonly numTasks: number;
  readonly numClasses: number;
  readonly labelMap: readonly number[];
  readonly taskClasses: readonly (readonly number[])[];
  readonly classNames: readonly string[];
  readonly inputShape: readonly [number, number, number];
  readonly hash: string;
  readonly normalization?: { mean: readonly number[]; std: readonly number[] };
  readonly online: boolean;
  readonly descriptor: Readonly<Record<string, unknown>>;
  readonly source: string;
  readonly taskSizes: readonly TaskSampleCounts[];
  readonly warnings: readonly string[];
  readonly taskNames?: readonly string[];
  private readonly dataset: Dataset;
  private readonly remap: Int32Array;
  private readonly plans: TaskPlan[];
  private readonly testCache = new Map<number, ImageSet>();

  constructor(init: PlannedStreamInit) {
    this.name = init.name;
    this.scenario = init.scenario;
    this.dataset = init.dataset;
    this.remap = init.remap;
    this.plans = init.plans;
    this.numTasks = init.plans.length;
    this.labelMap = Object.freeze([...init.labelMap]);
    this.numClasses = init.labelMap.length;
    this.taskClasses = Object.freeze(init.plans.map((p) => Object.freeze([...p.classes])));
    this.classNames = Object.freeze(init.classNames);
    this.inputShape = init.dataset.shape;
    this.hash = init.hash;
    this.normalization = init.normalization;
    this.online = init.online;
    this.descriptor = Object.freeze(init.descriptor);
    this.source = init.dataset.source;
    this.taskSizes = Object.freeze(
      init.plans.map((p) => ({ train: p.train.length, validation: p.validation?.length ?? 0, test: p.test.length, ...(p.unlabelled ? { unlabelled: p.unlabelled.length } : {}) })),
    );
    this.warnings = Object.freeze([...(init.dataset.warnings ?? [])]);
    if (init.taskNames) this.taskNames = Object.freeze([...init.taskNames]);
  }

  private plan(index: number): TaskPlan {
    const p = this.plans[index];
    if (!Number.isInteger(index) || !p) throw new RangeError(`task index ${index} is outside 0..${this.numTasks - 1}`);
    return p;
  }

  private gather(from: ImageSet, indices: Int32Array, plan: TaskPlan, split: TaskSplit): ImageSet {
    const set = gatherImageSet(from, indices, this.remap);
    return plan.transform ? plan.transform(set, split) : set;
  }

  async task(index: number): Promise<Task> {
    const plan = this.plan(index);
    const task: Task = {
      index,
      classes: [...plan.classes],
      train: this.gather(this.dataset.train, plan.train, plan, "train"),
      test: await this.testSet(index),
    };
    if (plan.validation) task.validation = this.gather(this.dataset.train, plan.validation, plan, "validation");
    if (plan.unlabelled) {
      const full = this.gather(this.dataset.train, plan.unlabelled, plan, "unlabelled");
      const unlabelled: UnlabelledSet = { images: full.images, count: full.count, shape: full.shape };
      let byTask = hiddenLabels.get(this);
      if (!byTask) hiddenLabels.set(this, (byTask = new Map()));
      byTask.set(index, full.labels);
      task.unlabelled = unlabelled;
    }
    return task;
  }

  async testSet(index: number): Promise<ImageSet> {
    const plan = this.plan(index);
    let set = this.testCache.get(index);
    if (!set) {
      set = this.gather(this.dataset.test, plan.test, plan, "test");
      this.testCache.set(index, set);
    }
    return set;
  }
}
