/**
 * The FSCIL prototype learner (TEEN, Wang et al. NeurIPS 2023; algorithms.md §6.2-6.3):
 *
 * - session 0: train the backbone with a cosine classifier (logits = T·cos) on the base classes,
 *   keeping the epoch with the best accuracy on the VALIDATION split (TEEN's code picks it on
 *   test accuracy, frameworks.md; we never look at test data);
 * - every session, including the base one: class prototypes = mean features of the training
 *   images with the frozen backbone; prediction = argmax cosine to the prototypes;
 * - incremental sessions: the new classes' prototypes are calibrated towards the base ones
 *   (TEEN), or left plain (`teen: false`, the "decoupled cosine" baseline).
 *
 * With TEEN on, a second, uncalibrated classifier is kept on the same features (`plainClassifier`)
 * and offered as the prediction variant "plain" (`predictVariants`): the runner's evaluation counts
 * both on one forward pass, so a run reports both without training the backbone twice.
 */
import * as tf from "@tensorflow/tfjs";
import {
  CheckpointError,
  disposeTree,
  type Backbone,
  type ExperimentContext,
  type ImageSet,
  type Learner,
  type Normalization,
  type ParamTree,
  type Plugin,
  type PredictOptions,
  type SeededRng,
  type Task,
  ShapeError,
  TrainingInterrupted,
} from "@mnemo/core";
import { cloneTree } from "@mnemo/core/tf";
import { cosineHead, SupervisedLearner, type TrainingConfig } from "@mnemo/models";
import type { DenseMatrix } from "../dense.js";
import { TeenClassifier, type TeenState } from "../teen.js";
import type { TeenMode } from "../teen-calibration.js";
import { embedSet, type FrozenModel } from "./embed.js";

export interface TeenSettings {
  /** Weight on the base-derived term (code `shift_weight`); default 0.5, CIFAR-100 script 0.1. */
  alpha?: number;
  /** Softmax temperature on cosine similarities (code `softmax_t`); default 16. */
  tau?: number;
  mode?: TeenMode;
}

export interface FscilLearnerOptions {
  /** The backbone as built (linear head); its head is replaced by a cosine head for base training. */
  backbone: Backbone;
  /** Base-session training schedule (incremental sessions never train). */
  training: TrainingConfig;
  rng: SeededRng;
  /** T in T·cos, for base training and the prototype logits (TEEN: 16 on CIFAR-100). Default 16. */
  temperature?: number;
  /** TEEN calibration of novel prototypes (default: on, with TEEN's defaults); `false` = plain prototypes. */
  teen?: TeenSettings | false;
  /** Select the base model on `task.validation` (default true). */
  selectBest?: boolean;
  /** Train-time augmentation of base batches (see SupervisedLearnerOptions.augment). */
  augment?: (x: tf.Tensor4D) => tf.Tensor4D;
  quiet?: boolean;
  name?: string;
  /** Images per forward pass when computing prototypes. Default 256. */
  featureBatchSize?: number;
}

/**
 * What `saveState` returns: tensors, typed arrays and plain objects. As with SupervisedLearner, the
 * tensors are the learner's own (valid until it changes or is disposed; do not dispose them).
 */
export interface FscilLearnerState extends Record<string, unknown> {
  kind: "fscil-prototypes";
  version: 2;
  params: ParamTree | null;
  state: ParamTree | null;
  classifier: TeenState;
  plain: TeenState | null;
  /** The base session's trainer when it was interrupted mid-training (Ctrl-C), else null. */
  baseTraining: Record<string, unknown> | null;
}

export class FscilPrototypeLearner implements Learner {
  readonly name: string;
  readonly plugins: readonly Plugin[] = [];
  private readonly options: FscilLearnerOptions;
  private readonly cosine: Backbone;
  private frozen: FrozenModel | null = null;
  private classifier: TeenClassifier;
  private plain: TeenClassifier | null;
  /** The base-session trainer, alive only while it trains or after it was interrupted. */
  private baseTrainer: SupervisedLearner | null = null;
  private shouldStop?: () => boolean;

  constructor(options: FscilLearnerOptions) {
    this.options = options;
    const temperature = options.temperature ?? 16;
    this.cosine = cosineHead(options.backbone, { scale: temperature });
    const teen = options.teen ?? {};
    this.name = options.name ?? (teen === false ? "prototypes" : "teen");
    // alpha = 0 is exactly the uncalibrated cosine-prototype classifier (§6.5 test 1).
    this.classifier = new TeenClassifier(teen === false ? { alpha: 0, temperature } : { ...teen, temperature });
    this.plain = teen === false ? null : new TeenClassifier({ alpha: 0, temperature });
  }

  /** Installs the check run after every base-training step (Ctrl-C handling, as SupervisedLearner). */
  setShouldStop(check: () => boolean): void {
    this.shouldStop = check;
    this.baseTrainer?.setShouldStop(check);
  }

  /** The classifier used by `predict` (TEEN-calibrated unless `teen: false`). */
  get prototypeClassifier(): TeenClassifier {
    return this.classifier;
  }

  /** Uncalibrated prototypes on the same features; null when `teen: false` (then they are `prototypeClassifier`). */
  get plainClassifier(): TeenClassifier | null {
    return this.plain;
  }

  get hasBaseModel(): boolean {
    return this.frozen !== null;
  }

  /** Features of a set with the frozen backbone, preprocessed as in evaluation. */
  private async embed(set: ImageSet, normalization: Normalization | undefined): Promise<DenseMatrix & { data: Float32Array }> {
    return embedSet(this.model(), set, normalization, this.options.featureBatchSize);
  }

  async learnTask(task: Task, context: ExperimentContext): Promise<void> {
    const norm = context.stream.normalization;
    if (this.frozen === null) {
      await this.trainBase(task, context);
      const features = await this.embed(task.train, norm);
      this.classifier.updateBase(features, task.train.labels);
      this.plain?.updateBase(features, task.train.labels);
      return;
    }
    const features = await this.embed(task.train, norm);
    this.classifier.addSession(features, task.train.labels);
    this.plain?.addSession(features, task.train.labels);
  }

  private async trainBase(task: Task, context: ExperimentContext): Promise<void> {
    const selectBest = this.options.selectBest ?? true;
    if (selectBest && !(task.validation && task.validation.count > 0)) {
      context.log(`${this.name}: the base session has no validation split, so the last epoch's model is kept; set stream.validation.fraction to select it on validation data`);
    }
    // A trainer restored by loadState continues its interrupted task from its saved position.
    const trainer = this.baseTrainer ?? this.newBaseTrainer();
    this.baseTrainer = trainer;
    try {
      await trainer.learnTask(task, context);
      this.setModel(cloneTree(trainer.model.params), cloneTree(trainer.model.state));
    } catch (err) {
      // Interrupted: keep the trainer, whose state the run's checkpoint saves (see saveState).
      if (!(err instanceof TrainingInterrupted)) this.disposeBaseTrainer();
      throw err;
    }
    this.disposeBaseTrainer();
  }

  private newBaseTrainer(): SupervisedLearner {
    return new SupervisedLearner({
      backbone: this.cosine,
      training: this.options.training,
      rng: this.options.rng,
      // An expanding head is sized by the classes the trainer sees; numClasses is for fixed heads.
      head: "expanding",
      numClasses: 0,
      augment: this.options.augment,
      selectBest: this.options.selectBest ?? true,
      quiet: this.options.quiet,
      name: `${this.name}-base`,
      ...(this.shouldStop ? { shouldStop: this.shouldStop } : {}),
    });
  }

  private disposeBaseTrainer(): void {
    this.baseTrainer?.dispose();
    this.baseTrainer = null;
  }

  private setModel(params: ParamTree, state: ParamTree): void {
    if (this.frozen) {
      disposeTree(this.frozen.params);
      disposeTree(this.frozen.state);
    }
    this.frozen = { backbone: this.cosine, params, state };
  }

  private model(): FrozenModel {
    if (!this.frozen) throw new ShapeError(`${this.name}: the backbone is trained in the base session; learn task 0 before predicting or embedding`);
    return this.frozen;
  }

  predict(x: tf.Tensor, options: PredictOptions = {}): tf.Tensor1D {
    return this.classify(this.classifier, this.features(x), options);
  }

  /** `predict`, plus the uncalibrated prototypes as variant "plain" when TEEN is on (same features). */
  predictVariants(x: tf.Tensor, options: PredictOptions = {}): { predicted: tf.Tensor1D; variants: Record<string, tf.Tensor1D> } {
    const features = this.features(x);
    const predicted = this.classify(this.classifier, features, options);
    return { predicted, variants: this.plain ? { plain: this.classify(this.plain, features, options) } : {} };
  }

  private features(x: tf.Tensor): DenseMatrix {
    const model = this.model();
    const feats = tf.tidy(() => model.backbone.apply(model.params, x, { training: false, state: model.state }).features);
    try {
      return { data: feats.dataSync<"float32">(), rows: feats.shape[0], cols: feats.shape[1] };
    } finally {
      feats.dispose();
    }
  }

  private classify(classifier: TeenClassifier, features: DenseMatrix, options: PredictOptions): tf.Tensor1D {
    const allowed = options.classes && options.classes.length > 0 ? new Set(options.classes) : null;
    if (!allowed) return tf.tensor1d(classifier.predict(features), "int32");
    // Task-incremental: argmax over the task's classes only.
    const { classes, logits } = classifier.logits(features);
    const out = new Int32Array(features.rows);
    for (let i = 0; i < features.rows; i++) {
      let best = -Infinity;
      let label = -1;
      classes.forEach((c, k) => {
        const s = logits.get(i, k);
        if (allowed.has(c) && s > best) {
          best = s;
          label = c;
        }
      });
      out[i] = label;
    }
    return tf.tensor1d(out, "int32");
  }

  async saveState(): Promise<FscilLearnerState> {
    return {
      kind: "fscil-prototypes",
      version: 2,
      params: this.frozen?.params ?? null,
      state: this.frozen?.state ?? null,
      classifier: this.classifier.state(),
      plain: this.plain?.state() ?? null,
      baseTraining: this.baseTrainer ? await this.baseTrainer.saveState() : null,
    };
  }

  /** Restores a `saveState` result (e.g. a decoded checkpoint) and takes ownership of its tensors. */
  async loadState(saved: Record<string, unknown>): Promise<void> {
    const s = saved as Partial<FscilLearnerState>;
    const version = s.version as number | undefined;
    // Version 1 (before base-session interruption was saved) is version 2 with baseTraining null.
    if (s.kind !== "fscil-prototypes" || (version !== 1 && version !== 2)) {
      throw new CheckpointError(`${this.name}: expected a state {kind: "fscil-prototypes", version: 1 or 2}, got kind=${String(s.kind)} version=${String(s.version)}`);
    }
    if ((s.plain === null) !== (this.plain === null)) {
      throw new CheckpointError(`${this.name}: the checkpoint was saved with TEEN ${s.plain === null ? "off" : "on"}, this learner has it ${this.plain === null ? "off" : "on"}`);
    }
    const isTree = (t: unknown): t is ParamTree => typeof t === "object" && t !== null && Object.values(t).every((v) => v instanceof tf.Tensor);
    if (s.params !== null && !(isTree(s.params) && isTree(s.state))) {
      throw new CheckpointError(`${this.name}: checkpoint params/state must be trees of tensors (or both null before the base session)`);
    }
    // load() refuses a checkpoint with other alpha/tau/temperature than this learner's.
    this.classifier.load(s.classifier as TeenState);
    if (s.plain) this.plain?.load(s.plain);
    this.disposeBaseTrainer();
    if (s.baseTraining) {
      this.baseTrainer = this.newBaseTrainer();
      await this.baseTrainer.loadState(s.baseTraining);
    }
    if (s.params && s.state) {
      if (s.params === this.frozen?.params) return; // our own state handed back: nothing to swap
      this.setModel(s.params, s.state);
    }
    else if (this.frozen) {
      disposeTree(this.frozen.params);
      disposeTree(this.frozen.state);
      this.frozen = null;
    }
  }

  dispose(): void {
    this.disposeBaseTrainer();
    if (this.frozen) {
      disposeTree(this.frozen.params);
      disposeTree(this.frozen.state);
      this.frozen = null;
    }
  }
}
