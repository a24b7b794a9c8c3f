/**
 * The runner of the shared contract (experiment.ts): trains task by task and, after each task,
 * evaluates on the test set of every task, filling the full accuracy matrix. Needs tfjs, so it
 * is exported from `@mnemo/core/tf`.
 */
import * as tf from "@tensorflow/tfjs";
import { cpuSeconds, sampleResources } from "./resources.js";
import type { TaskCost } from "./cost.js";
import type { Experiment, ExperimentContext, ExperimentResult, EvaluationProtocol, Learner, RunHooks } from "./experiment.js";
import { ShapeError } from "./errors.js";
import { imagesToTensor } from "./image-tensors.js";
import { range } from "./images.js";
import type { ClassCounts } from "./metrics.js";
import type { ImageSet, TaskStream } from "./stream.js";

/** Accuracy (percent) of `predict` on an image set, in batches; NaN for an empty set. */
export async function accuracyOn(
  predict: (x: tf.Tensor) => tf.Tensor1D,
  set: ImageSet,
  normalization: TaskStream["normalization"],
  batchSize: number,
): Promise<number> {
  let correct = 0;
  for (let start = 0; start < set.count; start += batchSize) {
    const end = Math.min(set.count, start + batchSize);
    const pred = tf.tidy(() => predict(imagesToTensor(set, range(start, end), normalization)));
    const p = await pred.data();
    pred.dispose();
    for (let k = 0; k < p.length; k++) if (p[k] === set.labels[start + k]) correct++;
  }
  return set.count === 0 ? Number.NaN : (100 * correct) / set.count;
}

/** Accuracy (percent) of the learner on one image set under the evaluation protocol. */
export async function evaluateSet(
  learner: Learner,
  set: ImageSet,
  stream: TaskStream,
  protocol: EvaluationProtocol,
  classes?: readonly number[],
): Promise<number> {
  return (await evaluateSetCounts(learner, set, stream, protocol, classes)).accuracy;
}

/**
 * `evaluateSet` with the per-class counts behind the accuracy (null when the learner scores the
 * set itself through `Learner.evaluateSet`). The accuracy is 100 · Σ correct / n, as `accuracyOn`.
 */
export async function evaluateSetCounts(
  learner: Learner,
  set: ImageSet,
  stream: TaskStream,
  protocol: EvaluationProtocol,
  classes?: readonly number[],
): Promise<{ accuracy: number; counts: ClassCounts | null }> {
  if (learner.evaluateSet) return { accuracy: await learner.evaluateSet(set, classes), counts: null };
  const options = protocol.scenario === "task-incremental" ? { classes } : {};
  const zeros = (): number[] => new Array<number>(stream.numClasses).fill(0);
  const counts: ClassCounts = { correct: zeros(), total: zeros() };
  /** Adds the hits of predictions `p` of rows start.. to `into`; returns how many there were. */
  const tally = (into: number[], p: ArrayLike<number>, start: number): number => {
    let hits = 0;
    for (let k = 0; k < p.length; k++) {
      const y = set.labels[start + k] as number;
      if (p[k] === y) {
        into[y] = (into[y] as number) + 1;
        hits++;
      }
    }
    return hits;
  };
  let correct = 0;
  for (let start = 0; start < set.count; start += protocol.batchSize) {
    const end = Math.min(set.count, start + protocol.batchSize);
    for (let k = start; k < end; k++) {
      const y = set.labels[k] as number;
      if (!(y >= 0 && y < stream.numClasses)) throw new ShapeError(`test label ${y} (row ${k}) is outside the stream's ${stream.numClasses} classes`);
      counts.total[y] = (counts.total[y] as number) + 1;
    }
    const out = tf.tidy(() => {
      const x = imagesToTensor(set, range(start, end), stream.normalization);
      return learner.predictVariants ? learner.predictVariants(x, options) : { predicted: learner.predict(x, options), variants: {} as Record<string, tf.Tensor1D> };
    });
    try {
      correct += tally(counts.correct, await out.predicted.data(), start);
      for (const [name, v] of Object.entries(out.variants)) {
        counts.variants ??= {};
        tally((counts.variants[name] ??= zeros()), await v.data(), start);
      }
    } finally {
      tf.dispose([out.predicted, ...Object.values(out.variants)]);
    }
  }
  return { accuracy: set.count === 0 ? Number.NaN : (100 * correct) / set.count, counts };
}

/** Trains through the stream and returns the full accuracy matrix. */
export async function runExperiment(experiment: Experiment, context: ExperimentContext, hooks: RunHooks = {}): Promise<ExperimentResult> {
  const { stream, learner, evaluation } = experiment;
  const T = stream.numTasks;
  const testSets: ImageSet[] = [];
  for (let j = 0; j < T; j++) testSets.push(await stream.testSet(j));
  const result: ExperimentResult = hooks.previous ?? {
    matrix: Array.from({ length: T }, () => new Array<number | null>(T).fill(null)),
    taskClasses: stream.taskClasses.map((c) => [...c]),
    testSizes: testSets.map((s) => s.count),
    trainSeconds: [],
    evalSeconds: [],
  };
  result.cost ??= [];
  result.perClassCounts ??= Array.from({ length: T }, () => new Array<ClassCounts | null>(T).fill(null));
  // Validation sets of tasks trained so far: uint8, kept like the test sets.
  const validationSets: (ImageSet | undefined)[] = [];
  if (evaluation.evaluateValidation) {
    result.validationMatrix ??= Array.from({ length: T }, () => new Array<number | null>(T).fill(null));
    result.validationSizes ??= new Array<number>(T).fill(0);
    for (let j = 0; j < (hooks.startTask ?? 0); j++) validationSets[j] = (await stream.task(j)).validation;
  }
  hooks.onStart?.(result);
  for (let i = hooks.startTask ?? 0; i < T; i++) {
    const task = await stream.task(i);
    if (evaluation.evaluateValidation) validationSets[i] = task.validation;
    const imagesBefore = learner.trainedImages;
    const c0 = cpuSeconds();
    const t0 = performance.now();
    await learner.learnTask(task, context);
    const t1 = performance.now();
    const c1 = cpuSeconds();
    await hooks.onTaskTrained?.(i);
    learner.beforeEvaluation?.();
    const row = result.matrix[i] as (number | null)[];
    const countsRow = result.perClassCounts[i] as (ClassCounts | null)[];
    let evalImages = 0;
    try {
      for (let j = 0; j < T; j++) {
        if (j > i && !evaluation.evaluateFutureTasks) continue;
        const { accuracy, counts } = await evaluateSetCounts(learner, testSets[j] as ImageSet, stream, evaluation, stream.taskClasses[j]);
        row[j] = accuracy;
        countsRow[j] = counts;
        evalImages += (testSets[j] as ImageSet).count;
      }
      if (result.validationMatrix && result.validationSizes) {
        const vrow = result.validationMatrix[i] as (number | null)[];
        for (let j = 0; j <= i; j++) {
          const v = validationSets[j];
          if (!v || v.count === 0) continue;
          vrow[j] = await evaluateSet(learner, v, stream, evaluation, stream.taskClasses[j]);
          result.validationSizes[j] = v.count;
        }
      }
    } finally {
      learner.afterEvaluation?.();
    }
    result.trainSeconds[i] = (t1 - t0) / 1000;
    result.evalSeconds[i] = (performance.now() - t1) / 1000;
    const resources = sampleResources();
    const cost: TaskCost = {
      trainSeconds: result.trainSeconds[i] as number,
      trainCpuSeconds: c1 - c0,
      evalSeconds: result.evalSeconds[i] as number,
      evalCpuSeconds: cpuSeconds() - c1,
      evalImages,
      peakRssBytes: resources.peakRssBytes,
      tensorBytes: resources.tensorBytes,
    };
    const imagesAfter = learner.trainedImages;
    if (imagesAfter !== undefined) cost.trainImages = imagesAfter - (imagesBefore ?? 0);
    if (resources.wasmHeapBytes !== undefined) cost.wasmHeapBytes = resources.wasmHeapBytes;
    result.cost[i] = cost;
    await hooks.onTaskEvaluated?.(i, row, result);
  }
  return result;
}
