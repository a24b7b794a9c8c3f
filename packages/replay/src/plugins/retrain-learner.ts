/**
 * Learners that train a freshly initialised model on a set they assemble themselves at every task
 * (GDumb: its buffer; joint: the union of all tasks so far). Each task gets a new SupervisedLearner whose
 * parameters come from the run's "init" stream, so the k-th re-initialisation is a fixed, seeded draw.
 */
import { SeededRng, type Backbone, type ExperimentContext, type ImageSet, type Learner, type Plugin, type PredictOptions, type Task } from "@mnemo/core";
import { SupervisedLearner, loadPluginStates, savePluginStates, type TrainingConfig } from "@mnemo/models";
import type * as tf from "@tensorflow/tfjs";
import type { Augment } from "./replay-batch.js";

export interface RetrainLearnerOptions {
  backbone: Backbone;
  training: TrainingConfig;
  rng: SeededRng;
  augment?: Augment;
  /** Handed to every inner learner (e.g. to observe the re-initialised parameters). */
  plugins?: Plugin[];
  quiet?: boolean;
}

export abstract class RetrainLearner implements Learner {
  abstract readonly name: string;
  readonly plugins: readonly Plugin[];
  protected inner: SupervisedLearner | null = null;
  protected readonly seen = new Set<number>();
  /** Images trained on by the models already replaced, so the run's img/s counts every retraining. */
  private imagesOfReplaced = 0;
  private shouldStop?: () => boolean;
  /** Set by `loadState` when the checkpoint was taken inside this task: continue it instead of starting over. */
  private resumingTask?: number;

  constructor(protected readonly options: RetrainLearnerOptions) {
    this.plugins = options.plugins ?? [];
  }

  /** Takes task `task`'s data into the learner's own set (joint: the union; GDumb: the buffer). Called once per task. */
  protected abstract admit(task: Task): void;

  /** The set the current task's model trains on (after `admit`); no side effects. */
  protected abstract trainingSet(task: Task): ImageSet;

  /** What the subclass keeps between tasks (its union or buffer); `seen`, the model and the plugins are saved here. */
  protected abstract saveOwnState(): Record<string, unknown>;

  /** Restores `saveOwnState()` output. */
  protected abstract loadOwnState(state: Record<string, unknown>): void;

  /** Images trained on so far, over every model this learner created (the runner's cost counts them per task). */
  get trainedImages(): number {
    return this.imagesOfReplaced + (this.inner?.trainedImages ?? 0);
  }

  /** The current model (exists after the first task). */
  get model() {
    if (!this.inner) throw new Error(`${this.name}: the model is created when the first task starts; train a task before predicting`);
    return this.inner.model;
  }

  /** Ctrl-C: checked after every step of the model being trained (each new model gets it too). */
  setShouldStop(check: () => boolean): void {
    this.shouldStop = check;
    this.inner?.setShouldStop(check);
  }

  async learnTask(task: Task, context: ExperimentContext): Promise<void> {
    let inner = this.resumingTask === task.index ? this.inner : null;
    this.resumingTask = undefined;
    if (!inner) {
      for (const c of task.classes) this.seen.add(c);
      this.admit(task);
      this.imagesOfReplaced += this.inner?.trainedImages ?? 0;
      // The plugins outlive each task's model: only the old model goes.
      this.inner?.disposeModel();
      // A fixed head over every class seen so far: the whole model is initialised at once, from "init".
      inner = this.makeInner(this.options.rng, Math.max(...this.seen) + 1);
      this.inner = inner;
    }
    const classes = [...this.seen].sort((a, b) => a - b);
    // A resumed inner learner continues at the step its checkpoint recorded.
    await inner.learnTask({ index: task.index, classes, train: this.trainingSet(task), test: task.test }, context);
  }

  private makeInner(rng: SeededRng, numClasses: number): SupervisedLearner {
    const { backbone, training, augment, plugins, quiet } = this.options;
    const inner = new SupervisedLearner({ backbone, training, rng, head: "fixed", numClasses, augment, plugins: plugins ? [...plugins] : [], quiet, name: this.name });
    if (this.shouldStop) inner.setShouldStop(this.shouldStop);
    return inner;
  }

  predict(x: tf.Tensor, options?: PredictOptions): tf.Tensor1D {
    if (!this.inner) throw new Error(`${this.name}: predict() before the first task was learned`);
    return this.inner.predict(x, options);
  }

  beforeEvaluation(): void {
    this.inner?.beforeEvaluation();
  }

  afterEvaluation(): void {
    this.inner?.afterEvaluation();
  }

  /**
   * The subclass's set, the classes seen, and the current model's learner whole (parameters,
   * optimizer, the position inside a task, every plugin's state), so a resume mid-task continues
   * that task's training and e.g. NMC's class means survive.
   */
  async saveState(): Promise<Record<string, unknown>> {
    const inner = this.inner
      ? { numClasses: this.inner.model.numClasses, state: await this.inner.saveState() }
      : { numClasses: 0, state: null, plugins: await savePluginStates(this.plugins) };
    return { ...this.saveOwnState(), seen: [...this.seen], imagesOfReplaced: this.imagesOfReplaced, inner };
  }

  /** Restores `saveState()` output; takes ownership of its tensors. The run's RNG is not touched. */
  async loadState(state: Record<string, unknown>): Promise<void> {
    this.loadOwnState(state);
    this.seen.clear();
    for (const c of state.seen as number[]) this.seen.add(c);
    this.imagesOfReplaced = state.imagesOfReplaced as number;
    const saved = state.inner as { numClasses: number; state: Record<string, unknown> | null; plugins?: Record<string, unknown> };
    this.inner?.disposeModel();
    this.inner = null;
    this.resumingTask = undefined;
    if (!saved.state) {
      await loadPluginStates(this.plugins, saved.plugins);
      return;
    }
    // A throwaway RNG for the placeholder init, so restoring consumes no draw of the run's "init" stream.
    const inner = this.makeInner(new SeededRng(0), saved.numClasses);
    await inner.loadState(saved.state);
    this.inner = inner;
    const progress = saved.state.progress as { task: number } | null;
    if (progress) this.resumingTask = progress.task;
  }

  /** Releases the model and, once, the plugins (also when no task was learned). */
  dispose(): void {
    this.inner?.disposeModel();
    this.inner = null;
    for (const p of this.plugins) p.dispose?.();
  }
}
