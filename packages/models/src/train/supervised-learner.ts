/**
 * The standard gradient learner: a backbone trained with cross-entropy on each task, with
 * plugins hooking into every stage. With no plugins it is plain fine-tuning, the lower bound
 * every continual-learning method is compared with.
 */
import * as tf from "@tensorflow/tfjs";
import {
  CheckpointError,
  TrainingInterrupted,
  type Backbone,
  type Batch,
  type ExperimentContext,
  type Learner,
  type ModelHandle,
  type ParamTree,
  type Plugin,
  type PredictOptions,
  type SeededRng,
  type Task,
  disposeTree,
  packRows,
  taskLabel,
  treeKeys,
} from "@mnemo/core";
import { accuracyOn, cloneTree, imagesToTensor, labelsToTensor } from "@mnemo/core/tf";
import { ProgressBar } from "@mnemo/runtime";
import { createOptimizer, type Optimizer, type OptimizerConfig } from "./optimizers.js";
import { learningRate, type ScheduleConfig, type WarmupConfig } from "./schedules.js";
import type { StateValue } from "../checkpoint/codec.js";
import { loadPluginStates, savePluginStates } from "./plugin-states.js";

export interface TrainingConfig {
  epochs: number;
  batchSize: number;
  lr: number;
  optimizer: OptimizerConfig;
  schedule: ScheduleConfig;
  warmup?: WarmupConfig;
  /** Cap on optimizer steps per task (quick runs); undefined = full epochs. */
  maxStepsPerTask?: number;
  /**
   * Optimizer state (momentum, Adam moments and step count) at a task boundary: "reset" (the
   * default; a fresh optimizer per task, as PyCIL and Avalanche do) or "keep" (one optimizer for
   * the whole stream). Slots of a grown head restart at zero.
   */
  optimizerAcrossTasks?: "reset" | "keep";
}

export interface SupervisedLearnerOptions {
  backbone: Backbone;
  training: TrainingConfig;
  rng: SeededRng;
  plugins?: Plugin[];
  /**
   * "expanding": the head covers the classes seen so far (class-incremental);
   * "fixed": the head covers all of the stream's classes from the start.
   */
  head: "expanding" | "fixed";
  /** Total classes of the stream (for a fixed head). */
  numClasses: number;
  /**
   * Train-time augmentation. It receives float batches in [0, 1] (NOT normalised) and must return
   * them normalised exactly as the stream's `normalization` says, since evaluation normalises that way.
   */
  augment?: (x: tf.Tensor4D) => tf.Tensor4D;
  /**
   * Validation-based selection: after each epoch, measure accuracy on `task.validation` (when the
   * stream carves one) and, at the end of the task, keep the parameters of the best epoch.
   * Never selects on test data.
   */
  selectBest?: boolean;
  /** Suppress progress output. */
  quiet?: boolean;
  name?: string;
  /** Checked after every optimizer step; returning true stops training with TrainingInterrupted. */
  shouldStop?: () => boolean;
}

/** Where training stands inside a task: enough to continue it bit-identically. */
interface TaskProgress {
  task: number;
  epoch: number;
  /** The next iteration to run within `epoch`. */
  iteration: number;
  /** The epoch's batch order (drawn from the "batching" stream at the epoch start). */
  order: Int32Array;
}

/** Softmax cross-entropy with integer labels, averaged over the batch. */
export function crossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => {
    const oneHot = tf.oneHot(labels, logits.shape[1] as number);
    return tf.losses.softmaxCrossEntropy(oneHot, logits) as tf.Scalar;
  });
}

export class SupervisedLearner implements Learner {
  readonly name: string;
  readonly plugins: Plugin[];
  private handle?: ModelHandle;
  private optimizer?: Optimizer;
  private readonly options: SupervisedLearnerOptions;
  private seenClasses = 0;
  private progress?: TaskProgress;
  private resumeAt?: TaskProgress;
  private selection?: BestEpoch;
  private shouldStop?: () => boolean;
  /** Loss of the last step (for logging). */
  lastLoss = Number.NaN;
  /** Stream images trained on so far (replayed rows not counted); feeds the run's img/s. */
  trainedImages = 0;

  constructor(options: SupervisedLearnerOptions) {
    this.options = options;
    this.name = options.name ?? (options.plugins?.length ? options.plugins.map((p) => p.name).join("+") : "finetune");
    this.plugins = options.plugins ?? [];
    this.shouldStop = options.shouldStop;
    if (options.head === "fixed") this.ensureModel(options.numClasses);
  }

  /** Installs the check run after every optimizer step (Ctrl-C handling). */
  setShouldStop(check: () => boolean): void {
    this.shouldStop = check;
  }

  /** The live model; exists once the first task started (or at once with a fixed head). */
  get model(): ModelHandle {
    if (!this.handle) throw new Error("the model is created when the first task starts; train a task before predicting");
    return this.handle;
  }

  /** Creates the model on first use and grows an expanding head to `numClasses`. */
  private ensureModel(numClasses: number): void {
    const { backbone, rng } = this.options;
    if (!this.handle) {
      const { params, state } = backbone.init(rng.stream("init"), numClasses);
      this.handle = { backbone, params, state, numClasses };
      return;
    }
    if (this.options.head === "fixed" || numClasses <= this.handle.numClasses) return;
    const old = this.handle.params;
    const grown = backbone.growHead(old, numClasses, rng.stream("init"));
    for (const k of Object.keys(old)) if (grown[k] !== old[k]) old[k]?.dispose();
    this.handle.params = grown;
    this.handle.numClasses = numClasses;
  }

  async learnTask(task: Task, context: ExperimentContext): Promise<void> {
    const cfg = this.options.training;
    const resume = this.resumeAt?.task === task.index ? this.resumeAt : undefined;
    this.resumeAt = undefined;
    const maxClass = Math.max(...task.classes) + 1;
    this.seenClasses = Math.max(this.seenClasses, maxClass);
    this.ensureModel(this.seenClasses);
    const event = { task, model: this.model, context };
    if (!resume) {
      // A resumed task restored its optimizer, plugins and selection from the checkpoint instead.
      if (!this.optimizer || (cfg.optimizerAcrossTasks ?? "reset") === "reset") {
        this.optimizer?.dispose();
        this.optimizer = createOptimizer(cfg.optimizer);
      }
      this.selection?.dispose();
      this.selection = this.options.selectBest && task.validation && task.validation.count > 0 ? new BestEpoch() : undefined;
      for (const p of this.plugins) await p.onTaskStart?.(event);
    }

    const n = task.train.count;
    const stepsPerEpoch = Math.ceil(n / cfg.batchSize);
    const totalSteps = Math.min(cfg.epochs * stepsPerEpoch, cfg.maxStepsPerTask ?? Infinity);
    // The bar counts images, and an epoch's last batch is usually short: steps x batch size would
    // overshoot the real total, and the bar would end below 100%.
    const images = (steps: number): number => imagesInSteps(steps, n, cfg.batchSize);
    const bar = new ProgressBar({ label: taskLabel(task.index, context.stream.numTasks), total: images(totalSteps), unit: "img", silent: this.options.quiet });
    const batching = this.options.rng.stream("batching");
    const norm = context.stream.normalization;
    const startEpoch = resume?.epoch ?? 0;
    let step = resume ? resume.epoch * stepsPerEpoch + resume.iteration : 0;
    if (resume) bar.skip(images(Math.min(step, totalSteps)));
    for (let epoch = startEpoch; epoch < cfg.epochs && step < totalSteps; epoch++) {
      const order = resume && epoch === startEpoch ? resume.order : Int32Array.from(batching.permutation(n));
      for (let it = resume && epoch === startEpoch ? resume.iteration : 0; it < stepsPerEpoch && step < totalSteps; it++, step++) {
        const idx = order.subarray(it * cfg.batchSize, Math.min(n, (it + 1) * cfg.batchSize));
        const lr = learningRate(cfg.lr, cfg.schedule, epoch + it / stepsPerEpoch, cfg.epochs, cfg.warmup);
        const indices = idx.slice();
        let batch: Batch = tf.tidy(() => {
          const augment = this.options.augment;
          const x = augment ? augment(imagesToTensor(task.train, idx)) : imagesToTensor(task.train, idx, norm);
          return { x, y: labelsToTensor(task.train, idx), streamCount: idx.length, indices, raw: packRows(task.train, indices) };
        });
        const batchEvent = { ...event, batch, epoch, iteration: it };
        for (const p of this.plugins) {
          const replaced = p.onBatch?.({ ...batchEvent, batch });
          if (replaced && replaced !== batch) {
            disposeBatch(batch, replaced);
            batch = replaced;
          }
        }
        const loss = this.trainStep({ ...batchEvent, batch }, lr);
        context.step++;
        this.trainedImages += idx.length;
        for (const p of this.plugins) p.onStepEnd?.({ ...batchEvent, batch });
        disposeBatch(batch);
        // The bar shows every step's loss (after a resume too, where the logging cadence below
        // would leave it unset); the tracker gets every 20th.
        this.lastLoss = loss;
        if (step % 20 === 0 || step === totalSteps - 1) context.tracker.logMetrics({ train_loss: loss, lr }, context.step);
        bar.tick(idx.length, `loss ${this.lastLoss.toFixed(3)}`);
        this.progress = { task: task.index, epoch, iteration: it + 1, order };
        // Not after the task's last step: a checkpoint there would resume past the epoch's
        // validation pass; the task-end checkpoint follows in a moment anyway.
        if (context.afterStep && step + 1 < totalSteps) await context.afterStep(task.index);
        // Training is synchronous wasm work: a SIGINT handler only runs when the event loop turns,
        // so give it one turn per step (measured cost: microseconds against a step of 10-300 ms).
        if (this.shouldStop) await turnEventLoop();
        if (this.shouldStop?.()) {
          bar.finish("interrupted");
          throw new TrainingInterrupted(task.index);
        }
      }
      if (this.selection && task.validation) {
        const acc = await accuracyOn((x) => this.predict(x), task.validation, norm, 500);
        context.tracker.logMetrics({ val_accuracy: acc }, context.step);
        this.selection.offer(epoch, acc, this.model);
      }
      // The epoch is complete: a checkpoint taken now resumes at the next epoch.
      this.progress = { task: task.index, epoch: epoch + 1, iteration: 0, order: new Int32Array(0) };
    }
    bar.finish();
    this.progress = undefined;
    if (this.selection) {
      const best = this.selection.restore(this.model);
      this.selection = undefined;
      context.log(`task ${task.index}: kept epoch ${best.epoch + 1} (validation accuracy ${best.accuracy.toFixed(2)}%)`);
    }
    // Throughput per task is the runner's `train_images_per_sec_task<i>` (the cost record), measured for every learner.
    for (const p of this.plugins) await p.onTaskEnd?.(event);
  }

  /**
   * Everything needed to continue: parameters, BN state, optimizer slots, plugin states, the
   * best-epoch copy and, when called mid-task, the position inside the task. Tensors are the live
   * ones (not copies): serialise before training continues.
   */
  async saveState(): Promise<Record<string, StateValue>> {
    const plugins = await savePluginStates(this.plugins);
    const opt = this.optimizer?.getState();
    return {
      kind: "supervised-learner",
      name: this.name,
      seenClasses: this.seenClasses,
      model: this.handle ? { params: this.handle.params, state: this.handle.state, numClasses: this.handle.numClasses } : null,
      optimizer: opt ? { step: opt.step, slots: opt.slots } : null,
      plugins,
      selection: (this.selection?.state() ?? null) as StateValue,
      progress: this.progress ? ({ ...this.progress } as unknown as StateValue) : null,
    };
  }

  /** Restores `saveState()` output; takes ownership of its tensors. */
  async loadState(raw: Record<string, unknown>): Promise<void> {
    const state = raw as {
      kind?: string;
      seenClasses: number;
      model: { params: ParamTree; state: ParamTree; numClasses: number } | null;
      optimizer: { step: number; slots: ParamTree } | null;
      plugins: Record<string, Record<string, unknown>>;
      selection: BestEpochState | null;
      progress: TaskProgress | null;
    };
    if (state.kind !== "supervised-learner") throw new CheckpointError(`expected a supervised-learner state, got "${String(state.kind)}"`);
    if (this.handle) {
      disposeTree(this.handle.params);
      disposeTree(this.handle.state);
    }
    this.handle = state.model ? { backbone: this.options.backbone, ...state.model } : undefined;
    this.seenClasses = state.seenClasses;
    this.optimizer?.dispose();
    this.optimizer = undefined;
    if (state.optimizer) {
      this.optimizer = createOptimizer(this.options.training.optimizer);
      this.optimizer.setState(state.optimizer);
    }
    await loadPluginStates(this.plugins, state.plugins);
    this.selection?.dispose();
    this.selection = state.selection ? BestEpoch.fromState(state.selection) : undefined;
    // A checkpoint taken mid-task continues that task; one taken between tasks starts the next.
    this.resumeAt = state.progress ?? undefined;
  }

  /** One optimizer step; returns the loss. */
  private trainStep(event: Parameters<NonNullable<Plugin["onBatch"]>>[0], lr: number): number {
    const keys = treeKeys(this.model.params);
    let newState: ParamTree | undefined;
    const { value, grads } = tf.valueAndGrads((...tensors: tf.Tensor[]) => {
      const params: ParamTree = {};
      keys.forEach((k, i) => (params[k] = tensors[i] as tf.Tensor));
      const out = this.options.backbone.apply(params, event.batch.x, { training: true, state: this.model.state });
      if (out.state) newState = keepAll(out.state);
      let loss = crossEntropy(out.logits, event.batch.y);
      for (const p of this.plugins) {
        const extra = p.lossTerms?.({ ...event, logits: out.logits, features: out.features, params });
        if (extra) loss = tf.add(loss, extra) as tf.Scalar;
      }
      return loss;
    })(keys.map((k) => this.model.params[k] as tf.Tensor));
    const gradTree: ParamTree = {};
    keys.forEach((k, i) => (gradTree[k] = grads[i] as tf.Tensor));
    const updated = (this.optimizer as Optimizer).step(this.model.params, gradTree, lr);
    for (const k of keys) if (updated[k] !== this.model.params[k]) this.model.params[k]?.dispose();
    this.model.params = updated;
    if (newState) {
      disposeTree(this.model.state);
      this.model.state = newState;
    }
    disposeTree(gradTree);
    const loss = value.dataSync()[0] as number;
    value.dispose();
    return loss;
  }

  predict(x: tf.Tensor, options: PredictOptions = {}): tf.Tensor1D {
    return tf.tidy(() => {
      const out = this.options.backbone.apply(this.model.params, x, { training: false, state: this.model.state });
      let scores = out.logits;
      for (const p of this.plugins) {
        const s = p.scores?.({ model: this.model, x, features: out.features, logits: scores });
        if (s) scores = s;
      }
      if (options.classes && options.classes.length > 0) {
        // Classes the head does not cover yet (a future task) cannot be predicted: all wrong.
        const known = Array.from(options.classes).filter((c) => c < (scores.shape[1] as number));
        if (known.length === 0) return tf.fill([x.shape[0] as number], -1, "int32") as tf.Tensor1D;
        const cls = tf.tensor1d(known, "int32");
        const sub = tf.gather(scores, cls, 1);
        return tf.gather(cls, tf.argMax(sub, 1)) as tf.Tensor1D;
      }
      return tf.argMax(scores, 1) as tf.Tensor1D;
    });
  }

  beforeEvaluation(): void {
    for (const p of this.plugins) p.beforeEval?.(this.model);
  }

  afterEvaluation(): void {
    for (const p of [...this.plugins].reverse()) p.afterEval?.(this.model);
  }

  /**
   * Releases the model, optimizer and best-epoch copy but not the plugins: for owners that replace
   * this learner while keeping its plugins alive (RetrainLearner builds a new one at every task).
   */
  disposeModel(): void {
    if (this.handle) {
      disposeTree(this.handle.params);
      disposeTree(this.handle.state);
      this.handle = undefined;
    }
    this.optimizer?.dispose();
    this.optimizer = undefined;
    this.selection?.dispose();
    this.selection = undefined;
  }

  /** Releases the model and the plugins (each plugin's `dispose` is called once). */
  dispose(): void {
    this.disposeModel();
    for (const p of this.plugins) p.dispose?.();
  }
}

interface BestEpochState {
  epoch: number;
  accuracy: number;
  params: ParamTree;
  state: ParamTree;
}

/** Keeps a copy of the best epoch's parameters and BN state (ties keep the earlier epoch). */
class BestEpoch {
  private best?: BestEpochState;

  static fromState(state: BestEpochState): BestEpoch {
    const b = new BestEpoch();
    b.best = state;
    return b;
  }

  state(): BestEpochState | null {
    return this.best ?? null;
  }

  dispose(): void {
    if (this.best) {
      disposeTree(this.best.params);
      disposeTree(this.best.state);
      this.best = undefined;
    }
  }

  offer(epoch: number, accuracy: number, model: ModelHandle): void {
    if (this.best && accuracy <= this.best.accuracy) return;
    if (this.best) {
      disposeTree(this.best.params);
      disposeTree(this.best.state);
    }
    this.best = { epoch, accuracy, params: cloneTree(model.params), state: cloneTree(model.state) };
  }

  /** Swaps the best copy into the model (disposing the current tensors) and returns its score. */
  restore(model: ModelHandle): { epoch: number; accuracy: number } {
    const best = this.best;
    if (!best) throw new Error("no epoch was evaluated on the validation split");
    disposeTree(model.params);
    disposeTree(model.state);
    model.params = best.params;
    model.state = best.state;
    this.best = undefined;
    return { epoch: best.epoch, accuracy: best.accuracy };
  }
}

function keepAll(tree: ParamTree): ParamTree {
  for (const t of Object.values(tree)) tf.keep(t);
  return tree;
}

function disposeBatch(batch: Batch, keep?: Batch): void {
  const keepSet = new Set<tf.Tensor>(keep ? [keep.x, keep.y, ...Object.values(keep.extras ?? {})] : []);
  for (const t of [batch.x, batch.y, ...Object.values(batch.extras ?? {})]) if (!keepSet.has(t)) t.dispose();
}

/** Resolves after pending macrotasks (signal handlers, timers) have had a chance to run. */
function turnEventLoop(): Promise<void> {
  return new Promise((resolve) => (typeof setImmediate === "function" ? setImmediate(resolve) : setTimeout(resolve, 0)));
}

/** Images in the first `steps` optimizer steps of epochs over `n` images in batches of `batchSize` (the last batch of an epoch is short). */
export function imagesInSteps(steps: number, n: number, batchSize: number): number {
  const perEpoch = Math.ceil(n / batchSize);
  return Math.floor(steps / perEpoch) * n + Math.min(n, (steps % perEpoch) * batchSize);
}
