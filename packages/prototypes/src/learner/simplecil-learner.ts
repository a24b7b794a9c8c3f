/**
 * SimpleCIL (Zhou et al., PILOT `models/simplecil.py`; algorithms.md §4) as a class-incremental
 * learner: a frozen backbone, and for every class the mean raw feature of all its training images
 * written into a cosine head (logits = σ·cos(φ(x), μ_c), σ = 1 untrained). Old classes' weights
 * never change; nothing is replayed.
 *
 * PILOT starts from a pre-trained ViT. Mnemo has no pre-trained weights, so where the frozen
 * backbone comes from is a choice:
 * - "first-task" (default): the backbone and its linear head are trained with cross-entropy on the
 *   first task (the `training:` schedule, best epoch on validation with `selectBest`), then frozen:
 *   the first-session adaptation of APER/ADAM (Zhou et al. 2023), SimpleCIL's own follow-up;
 * - "none": the seeded random initialisation stays frozen (a random-feature baseline).
 */
import * as tf from "@tensorflow/tfjs";
import {
  CheckpointError,
  disposeTree,
  ShapeError,
  TrainingInterrupted,
  type Backbone,
  type ExperimentContext,
  type Learner,
  type ParamTree,
  type Plugin,
  type PredictOptions,
  type SeededRng,
  type Task,
} from "@mnemo/core";
import { cloneTree } from "@mnemo/core/tf";
import { cosineLogits, SupervisedLearner, type TrainingConfig } from "@mnemo/models";
import { SimpleCil, type SimpleCilState } from "../simplecil.js";
import { embedSet, type FrozenModel } from "./embed.js";

export type SimpleCilAdaptation = "first-task" | "none";

export interface SimpleCilLearnerOptions {
  backbone: Backbone;
  rng: SeededRng;
  /** Classes of the whole stream: the width of the prediction scores. */
  numClasses: number;
  /** Where the frozen backbone comes from (see the module comment). Default "first-task". */
  adapt?: SimpleCilAdaptation;
  /** The first task's training schedule ("first-task" only). */
  training: TrainingConfig;
  /** σ in σ·cos (PILOT's untrained CosineLinear: 1); it never changes the argmax. */
  scale?: number;
  /** Keep the first task's best epoch on `task.validation` ("first-task" only). */
  selectBest?: boolean;
  augment?: (x: tf.Tensor4D) => tf.Tensor4D;
  quiet?: boolean;
  name?: string;
  /** Images per forward pass when computing class means. Default 256. */
  featureBatchSize?: number;
}

/** `saveState` output; tensors are the learner's own (serialise them before it changes). */
export interface SimpleCilLearnerState extends Record<string, unknown> {
  kind: "simplecil";
  version: 1;
  adapt: SimpleCilAdaptation;
  params: ParamTree | null;
  state: ParamTree | null;
  classifier: SimpleCilState;
  /** The first task's trainer when it was interrupted mid-training, else null. */
  baseTraining: Record<string, unknown> | null;
}

export class SimpleCilLearner implements Learner {
  readonly name: string;
  readonly plugins: readonly Plugin[] = [];
  readonly adapt: SimpleCilAdaptation;
  private readonly options: SimpleCilLearnerOptions;
  private frozen: FrozenModel | null = null;
  private classifier: SimpleCil;
  /** Cosine-head weight [d, numClasses] (zero columns for classes without a mean) and the additive mask hiding those. */
  private head: { weight: tf.Tensor2D; mask: tf.Tensor1D } | null = null;
  private baseTrainer: SupervisedLearner | null = null;
  private shouldStop?: () => boolean;

  constructor(options: SimpleCilLearnerOptions) {
    this.options = options;
    this.adapt = options.adapt ?? "first-task";
    if (this.adapt !== "first-task" && this.adapt !== "none") throw new ShapeError(`simplecil: adapt must be "first-task" or "none", got ${JSON.stringify(this.adapt)}`);
    this.name = options.name ?? "simplecil";
    this.classifier = new SimpleCil({ scale: options.scale ?? 1 });
  }

  /** Ctrl-C handling during the first task's training, as SupervisedLearner. */
  setShouldStop(check: () => boolean): void {
    this.shouldStop = check;
    this.baseTrainer?.setShouldStop(check);
  }

  /** The class means and cosine weights (tfjs-free). */
  get prototypeClassifier(): SimpleCil {
    return this.classifier;
  }

  get frozenModel(): FrozenModel | null {
    return this.frozen;
  }

  async learnTask(task: Task, context: ExperimentContext): Promise<void> {
    if (!this.frozen) {
      if (this.adapt === "first-task") await this.trainFirstTask(task, context);
      else {
        const { params, state } = this.options.backbone.init(this.options.rng.stream("init"), this.options.numClasses);
        this.frozen = { backbone: this.options.backbone, params, state };
      }
    }
    const features = await embedSet(this.model(), task.train, context.stream.normalization, this.options.featureBatchSize);
    this.classifier.update(features, task.train.labels);
    this.rebuildHead();
  }

  private async trainFirstTask(task: Task, context: ExperimentContext): Promise<void> {
    if (this.options.selectBest && !(task.validation && task.validation.count > 0)) {
      context.log(`${this.name}: the first task has no validation split, so its last epoch is kept; set stream.validation.fraction to select it on validation data`);
    }
    const trainer = this.baseTrainer ?? this.newBaseTrainer();
    this.baseTrainer = trainer;
    try {
      await trainer.learnTask(task, context);
    } catch (err) {
      // Interrupted: keep the trainer, whose state the run's checkpoint saves.
      if (!(err instanceof TrainingInterrupted)) this.disposeBaseTrainer();
      throw err;
    }
    this.frozen = { backbone: this.options.backbone, params: cloneTree(trainer.model.params), state: cloneTree(trainer.model.state) };
    this.disposeBaseTrainer();
  }

  private newBaseTrainer(): SupervisedLearner {
    return new SupervisedLearner({
      backbone: this.options.backbone,
      training: this.options.training,
      rng: this.options.rng,
      head: "expanding",
      numClasses: 0,
      augment: this.options.augment,
      selectBest: this.options.selectBest ?? false,
      quiet: this.options.quiet,
      name: `${this.name}-first-task`,
      ...(this.shouldStop ? { shouldStop: this.shouldStop } : {}),
    });
  }

  private disposeBaseTrainer(): void {
    this.baseTrainer?.dispose();
    this.baseTrainer = null;
  }

  private model(): FrozenModel {
    if (!this.frozen) throw new ShapeError(`${this.name}: the frozen backbone exists once the first task was learned; learn a task before predicting`);
    return this.frozen;
  }

  private rebuildHead(): void {
    const C = this.options.numClasses;
    const { classes, weights } = this.classifier.weights();
    const d = weights.columns;
    for (const c of classes) if (c >= C) throw new ShapeError(`${this.name}: class ${c} is outside the stream's ${C} classes`);
    const w = new Float32Array(d * C);
    const mask = new Float32Array(C).fill(-3.4e38);
    classes.forEach((c, k) => {
      mask[c] = 0;
      for (let j = 0; j < d; j++) w[j * C + c] = weights.get(k, j);
    });
    this.disposeHead();
    this.head = { weight: tf.tensor2d(w, [d, C]), mask: tf.tensor1d(mask) };
  }

  private disposeHead(): void {
    if (this.head) tf.dispose([this.head.weight, this.head.mask]);
    this.head = null;
  }

  predict(x: tf.Tensor, options: PredictOptions = {}): tf.Tensor1D {
    const model = this.model();
    const head = this.head;
    if (!head) throw new ShapeError(`${this.name}: no class has a prototype yet; learn a task before predicting`);
    return tf.tidy(() => {
      const features = model.backbone.apply(model.params, x, { training: false, state: model.state }).features;
      const scores = tf.add(cosineLogits(features, head.weight, this.classifier.scale), head.mask) as tf.Tensor2D;
      if (options.classes && options.classes.length > 0) {
        const cls = tf.tensor1d(Array.from(options.classes), "int32");
        return tf.gather(cls, tf.argMax(tf.gather(scores, cls, 1), 1)) as tf.Tensor1D;
      }
      return tf.argMax(scores, 1) as tf.Tensor1D;
    });
  }

  async saveState(): Promise<SimpleCilLearnerState> {
    return {
      kind: "simplecil",
      version: 1,
      adapt: this.adapt,
      params: this.frozen?.params ?? null,
      state: this.frozen?.state ?? null,
      classifier: this.classifier.state(),
      baseTraining: this.baseTrainer ? await this.baseTrainer.saveState() : null,
    };
  }

  /** Restores a `saveState` result (e.g. a decoded checkpoint) and takes ownership of its tensors. */
  async loadState(saved: Record<string, unknown>): Promise<void> {
    const s = saved as Partial<SimpleCilLearnerState>;
    if (s.kind !== "simplecil" || s.version !== 1) throw new CheckpointError(`${this.name}: expected a state {kind: "simplecil", version: 1}, got kind=${String(s.kind)} version=${String(s.version)}`);
    if (s.adapt !== this.adapt) throw new CheckpointError(`${this.name}: the checkpoint was made with adapt "${String(s.adapt)}", this learner uses "${this.adapt}"`);
    const next = SimpleCil.fromState(s.classifier as SimpleCilState);
    if (next.scale !== this.classifier.scale) throw new CheckpointError(`${this.name}: the checkpoint has scale ${next.scale}, this learner ${this.classifier.scale}`);
    this.classifier = next;
    this.disposeBaseTrainer();
    if (s.baseTraining) {
      this.baseTrainer = this.newBaseTrainer();
      await this.baseTrainer.loadState(s.baseTraining);
    }
    if (s.params !== this.frozen?.params) {
      if (this.frozen) {
        disposeTree(this.frozen.params);
        disposeTree(this.frozen.state);
      }
      this.frozen = s.params && s.state ? { backbone: this.options.backbone, params: s.params, state: s.state } : null;
    }
    this.disposeHead();
    if (this.classifier.classes().length > 0) this.rebuildHead();
  }

  dispose(): void {
    this.disposeBaseTrainer();
    this.disposeHead();
    if (this.frozen) {
      disposeTree(this.frozen.params);
      disposeTree(this.frozen.state);
      this.frozen = null;
    }
  }
}
