/**
 * Learners that train a freshly initialised model on a set they assemble themselves at every task
 * (GDumb: its buffer; joint: the union of all tasks so far). Each task gets a new SupervisedLearner whose
 * parameters come from the run's "init" stream, so the k-th re-initialisation is a fixed, seeded draw.
 */
import { SeededRng, disposeTree, type Backbone, type ExperimentContext, type ImageSet, type Learner, type ParamTree, type Plugin, type PredictOptions, type Task } from "@mnemo/core";
import { cloneTree } from "@mnemo/core/tf";
import { SupervisedLearner, type TrainingConfig } from "@mnemo/models";
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

export interface SavedModel {
  params: ParamTree;
  state: ParamTree;
  numClasses: number;
}

export abstract class RetrainLearner implements Learner {
  abstract readonly name: string;
  readonly plugins: readonly Plugin[];
  protected inner: SupervisedLearner | null = null;
  protected readonly seen = new Set<number>();
  /** Images trained on by the models already replaced, so the run's img/s counts every retraining. */
  private imagesOfReplaced = 0;

  constructor(protected readonly options: RetrainLearnerOptions) {
    this.plugins = options.plugins ?? [];
  }

  /** The training set of this task (called once per task, after `seen` includes its classes). */
  protected abstract trainingSet(task: Task): ImageSet;

  /** Images trained on so far, over every model this learner created (the runner's cost counts them per task). */
  get trainedImages(): number {
    return this.imagesOfReplaced + (this.inner?.trainedImages ?? 0);
  }

  /** The current model (exists after the first task). */
  get model() {
    if (!this.inner) throw new Error(`${this.name}: the model is created when the first task starts; train a task before predicting`);
    return this.inner.model;
  }

  async learnTask(task: Task, context: ExperimentContext): Promise<void> {
    for (const c of task.classes) this.seen.add(c);
    const train = this.trainingSet(task);
    this.imagesOfReplaced += this.inner?.trainedImages ?? 0;
    // The plugins outlive each task's model: only the old model goes.
    this.inner?.disposeModel();
    // A fixed head over every class seen so far: the whole model is initialised at once, from "init".
    this.inner = this.makeInner(this.options.rng, Math.max(...this.seen) + 1);
    const classes = [...this.seen].sort((a, b) => a - b);
    await this.inner.learnTask({ index: task.index, classes, train, test: task.test }, context);
  }

  private makeInner(rng: SeededRng, numClasses: number): SupervisedLearner {
    const { backbone, training, augment, plugins, quiet } = this.options;
    return new SupervisedLearner({ backbone, training, rng, head: "fixed", numClasses, augment, plugins: plugins ? [...plugins] : [], quiet, name: this.name });
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

  /** The current model's trees (the caller serialises them; they stay owned by the learner). */
  protected savedModel(): SavedModel | null {
    if (!this.inner) return null;
    const m = this.inner.model;
    return { params: m.params, state: m.state, numClasses: m.numClasses };
  }

  /** Rebuilds the model from `savedModel()` output (copies the tensors; the run's RNG is not touched). */
  protected restoreModel(saved: SavedModel | null): void {
    this.inner?.disposeModel();
    this.inner = null;
    if (!saved) return;
    // A throwaway RNG for the placeholder init, so restoring consumes no draw of the run's "init" stream.
    const inner = this.makeInner(new SeededRng(0), saved.numClasses);
    const m = inner.model;
    disposeTree(m.params);
    disposeTree(m.state);
    m.params = cloneTree(saved.params);
    m.state = cloneTree(saved.state);
    this.inner = inner;
  }

  /** Releases the model and, once, the plugins (also when no task was learned). */
  dispose(): void {
    this.inner?.disposeModel();
    this.inner = null;
    for (const p of this.plugins) p.dispose?.();
  }
}
