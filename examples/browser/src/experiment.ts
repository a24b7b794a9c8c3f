/**
 * One class-incremental run of Mnemo's real pieces, the same code in the page and in Node: the
 * subset as an in-memory task stream (@mnemo/core), an MLP and the SupervisedLearner
 * (@mnemo/models), experience replay (@mnemo/replay/plugins), the runner that fills the accuracy
 * matrix (`runExperiment`, @mnemo/core/tf) and the metrics derived from it (@mnemo/core/metrics).
 * The caller has selected the tfjs backend; nothing here touches the DOM or Node.
 */
import type * as tf from "@tensorflow/tfjs";
import {
  inMemoryStream,
  MemoryTracker,
  SeededRng,
  treeKeys,
  type ExperimentContext,
  type ExperimentResult,
  type ParamTree,
  type Plugin,
} from "@mnemo/core";
import { runExperiment } from "@mnemo/core/tf";
import { metricRecord, summarize, type AccuracyMatrix } from "@mnemo/core/metrics";
import { mlp, SupervisedLearner } from "@mnemo/models";
import { experienceReplay } from "@mnemo/replay/plugins";
import type { BrowserRunConfig } from "./config.js";
import type { ImageSubset } from "./subset.js";

export interface RunProgress {
  task: number;
  numTasks: number;
  /** Optimizer steps done in this task, of `stepsInTask`. */
  step: number;
  stepsInTask: number;
}

export interface RunHooks {
  /** After every optimizer step (await it to let a page repaint; it never changes the results). */
  onStep?(progress: RunProgress): void | Promise<void>;
  /** After task `task`'s evaluation: the matrix so far (rows > task are null). */
  onTask?(task: number, matrix: AccuracyMatrix): void | Promise<void>;
}

export interface RunOutput {
  config: BrowserRunConfig;
  /** R[i][j] in percent: accuracy on task j's test set after training through task i. */
  matrix: AccuracyMatrix;
  taskClasses: number[][];
  testSizes: number[];
  /** metricRecord(summarize(R)): acc_task_macro, bwt, forgetting, ... (percent points). */
  metrics: Record<string, number>;
  trainSeconds: number[];
  /**
   * SHA-256 of the final trained parameters (float32 bytes, keys sorted): two runs with equal
   * digests took the same training trajectory bit for bit, a far finer check than the matrix.
   */
  paramsSha256: string;
}

/** SHA-256 (Web Crypto: browsers and Node alike) of a parameter tree's float32 bytes, keys sorted. */
export async function paramsDigest(params: ParamTree): Promise<string> {
  const keys = treeKeys(params);
  const parts = await Promise.all(
    keys.map(async (k) => {
      const data = (await (params[k] as tf.Tensor).data()) as Float32Array;
      return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    }),
  );
  const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    bytes.set(p, at);
    at += p.length;
  }
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Classes 0..k-1 split into tasks of `increment`, in order. */
export function taskClassesOf(numClasses: number, increment: number): number[][] {
  const tasks: number[][] = [];
  for (let c = 0; c < numClasses; c += increment) tasks.push(Array.from({ length: Math.min(increment, numClasses - c) }, (_, k) => c + k));
  return tasks;
}

export async function runSplitMnist(config: BrowserRunConfig, data: ImageSubset, hooks: RunHooks = {}): Promise<RunOutput> {
  const numClasses = Math.max(...data.train.labels) + 1;
  const stream = inMemoryStream({
    name: "split-mnist-subset",
    train: data.train,
    test: data.test,
    taskClasses: taskClassesOf(numClasses, config.stream.increment),
    normalization: config.stream.normalize,
  });
  const rng = new SeededRng(config.seed);
  const training = {
    epochs: config.training.epochs,
    batchSize: config.training.batch_size,
    lr: config.training.lr,
    optimizer: config.training.optimizer,
    schedule: { name: "constant" as const },
  };
  const plugins: Plugin[] = [];
  if (config.method.name === "er") {
    plugins.push(
      experienceReplay({
        rng: rng.scope("er"),
        capacity: config.method.memory_size,
        replayBatchSize: training.batchSize,
        sampleShape: stream.inputShape,
        numClasses: stream.numClasses,
      }),
    );
  }
  const learner = new SupervisedLearner({
    backbone: mlp({ inputShape: stream.inputShape, hidden: config.model.hidden }),
    training,
    rng,
    head: config.model.head,
    numClasses: stream.numClasses,
    plugins,
    name: config.method.name,
    quiet: true,
  });
  const stepsInTask = async (task: number): Promise<number> =>
    config.training.epochs * Math.ceil((await stream.task(task)).train.count / training.batchSize);
  const steps = await Promise.all(stream.taskClasses.map((_, t) => stepsInTask(t)));
  let step = 0;
  let current = 0;
  const context: ExperimentContext = {
    rng,
    tracker: new MemoryTracker(),
    stream,
    log: () => {},
    step: 0,
    afterStep: async (task) => {
      if (task !== current) {
        current = task;
        step = 0;
      }
      step++;
      await hooks.onStep?.({ task, numTasks: stream.numTasks, step, stepsInTask: steps[task] as number });
    },
  };
  try {
    const result: ExperimentResult = await runExperiment(
      {
        name: config.name,
        stream,
        learner,
        evaluation: {
          scenario: "class-incremental",
          batchSize: config.evaluation.batch_size,
          evaluateFutureTasks: config.evaluation.future_tasks,
        },
        tracker: context.tracker,
        seed: config.seed,
      },
      context,
      {
        onTaskEvaluated: (task, _row, r) =>
          hooks.onTask?.(
            task,
            r.matrix.map((row) => [...row]),
          ),
      },
    );
    return {
      config,
      matrix: result.matrix,
      taskClasses: result.taskClasses,
      testSizes: result.testSizes,
      metrics: metricRecord(summarize(result.matrix, { testSizes: result.testSizes })),
      trainSeconds: result.trainSeconds,
      paramsSha256: await paramsDigest(learner.model.params),
    };
  } finally {
    learner.dispose();
  }
}
