/**
 * Self-training as a plugin of the supervised learner (self-training-tta.md §1.4, §3, §4).
 *
 * Rounds of label → select → train inside each task: the first `warmupEpochs` epochs train on the
 * labelled part only; then, every `roundEpochs` epochs (at most `maxRounds` times), the plugin
 * scores the task's unlabelled images with the current model (or an EMA teacher), takes the
 * argmax of the prediction head as pseudo-label and the chosen confidence, and selects by the
 * policy. Each later step adds a batch of pseudo-labelled images:
 *   - `inBatch: false` (default): a separate loss term, averaged on its own (paper Eq. 1), weight
 *     `weight`; the images never enter the batch, so a replay buffer never stores them;
 *   - `inBatch: true`: appended to the batch as stream rows, so a replay plugin placed AFTER this
 *     one may store them (one average over labelled + pseudo-labelled rows).
 * With `confidence: "tsim"` the plugin adds M linear heads on the detached features (ensemble.ts)
 * and the diversity term on a batch of unlabelled images each step.
 *
 * The plugin never sees a hidden label: it reads `task.unlabelled`, which has none.
 */
import * as tf from "@tensorflow/tfjs";
import {
  perTaskKey,
  disposeTree,
  type BatchEvent,
  type LossEvent,
  type ModelHandle,
  type ParamTree,
  type Plugin,
  type PluginState,
  type RandomStream,
  type TaskEvent,
  type TaskStream,
  type UnlabelledSet,
} from "@mnemo/core";
import { cloneTree, imagesToTensor, lerpTree } from "@mnemo/core/tf";
import { crossEntropy } from "@mnemo/models";
import { betaSample, entropyRegulariser, mixInputs, mixupCrossEntropy, priorRegulariser, softCrossEntropy } from "./arazo.js";
import { argmaxRows, classwiseTSimilarity, entropyConfidence, softmax, softmaxMargin, softmaxMax, tSimilarity, type ConfidenceName } from "./confidence.js";
import { ensembleLogits, ensembleLoss, ensureEnsembleHeads, isEnsembleKey } from "./ensemble.js";
import { selectByMsta, selectPseudoLabels, type PseudoLabelPolicy } from "./policies.js";

export interface SelfTrainingOptions {
  /** Confidence that selects pseudo-labels; "tsim" adds the ensemble heads. */
  confidence: ConfidenceName;
  policy: PseudoLabelPolicy;
  /** Epochs on labelled data only before the first labelling round. */
  warmupEpochs: number;
  /** Epochs between labelling rounds. */
  roundEpochs: number;
  maxRounds: number;
  /** Pseudo-labelled images per step. */
  batchSize: number;
  /** Weight of the pseudo-label loss term (ignored with inBatch). */
  weight: number;
  /** Ensemble size M and diversity weight γ (tsim only; reference defaults 5 and 1). */
  heads: number;
  gamma: number;
  /** Unlabelled images per step for the diversity term (tsim only). */
  unlabelledBatch: number;
  /** Re-score all of U every round and replace the pseudo-labels (curriculum style), or move the selection out of U for good. */
  relabel: boolean;
  /** Class-incremental: pseudo-labels only among the current task's classes. */
  restrictToTaskClasses: boolean;
  /** Arazo et al.: soft pseudo-labels (the softmax at labelling time), mixup α (0 = off), λ_A, λ_H. */
  softLabels: boolean;
  mixupAlpha: number;
  lambdaA: number;
  lambdaH: number;
  /** Who labels: the current model, or an EMA of it (α per step). */
  teacher: "current" | "ema";
  emaAlpha: number;
  inBatch: boolean;
  /**
   * Whether pseudo-labelled rows may enter a replay buffer (`admit_pseudo_labels`): the method's
   * buffer offers itself through `admitTo`, and each step's pseudo-labelled rows go there after
   * the step. False (the default): the offer is declined and the buffer stores ground truth only.
   */
  admitPseudoLabels?: boolean;
  /** The plugin's own RNG stream (rng.stream("selftraining/...")). */
  rng: RandomStream;
  /** Rows per forward pass when scoring U. */
  scoreBatch?: number;
}

export const SELF_TRAINING_DEFAULTS: Omit<SelfTrainingOptions, "rng" | "confidence" | "policy"> = {
  warmupEpochs: 10,
  roundEpochs: 5,
  maxRounds: 5,
  batchSize: 32,
  weight: 1,
  heads: 5,
  gamma: 1,
  unlabelledBatch: 32,
  relabel: true,
  restrictToTaskClasses: true,
  softLabels: false,
  mixupAlpha: 0,
  lambdaA: 0,
  lambdaH: 0,
  teacher: "current",
  emaAlpha: 0.999,
  inBatch: false,
};

/** Receives the pseudo-labelled rows a step trained on: packed uint8 images [n, h, w, c] and their labels. */
export type PseudoLabelSink = (rows: { images: Uint8Array; labels: Int32Array }) => void;

/** One labelling round, for logs and reports. */
export interface RoundRecord {
  task: number;
  round: number;
  epoch: number;
  scored: number;
  selected: number;
  meanConfidence: number;
}

/** Scores of every unlabelled image of the current task (for calibration and precision reports). */
export interface UnlabelledScores {
  /** Predicted class (stream label) per unlabelled image. */
  predictions: Int32Array;
  softmax: Float64Array;
  /** T-similarity per image, when the ensemble exists. */
  tsim?: Float64Array;
}

interface Pending {
  xPl?: tf.Tensor;
  targets?: tf.Tensor2D;
  yPl?: tf.Tensor1D;
  permutation?: Int32Array;
  lambda?: number;
  xU?: tf.Tensor;
  /** Positions in task.unlabelled and labels of this step's pseudo-labelled rows (for the buffer sink). */
  rows?: { images: Int32Array; labels: Int32Array };
}

export class SelfTrainingPlugin implements Plugin {
  readonly name = "self-training";
  readonly options: SelfTrainingOptions;
  private unlabelled?: UnlabelledSet;
  private taskClasses: number[] = [];
  private taskIndex = -1;
  private round = 0;
  /** Pseudo-labelled images: positions in task.unlabelled, their labels, and soft targets [n, K]. */
  private plIndex = new Int32Array(0);
  private plLabel = new Int32Array(0);
  private plSoft?: Float32Array;
  private plClasses = 0;
  private teacherParams?: ParamTree;
  private pending: Pending = {};
  private sink?: PseudoLabelSink;
  private normalization?: TaskStream["normalization"];
  readonly rounds: RoundRecord[] = [];
  /**
   * Scores of the task's unlabelled pool with the weights the task ended with (taken in
   * onTaskEnd): what evaluation code compares with the hidden labels (calibration, precision).
   */
  lastScores?: UnlabelledScores & { task: number };

  constructor(options: SelfTrainingOptions) {
    if (options.confidence === "tsim" && options.heads < 2) throw new RangeError(`self-training: tsim needs at least 2 heads, got ${options.heads}`);
    this.options = options;
  }

  /** The current pseudo-labels (positions in `task.unlabelled`, labels): evaluation computes their precision. */
  pseudoLabels(): { indices: Int32Array; labels: Int32Array } {
    return { indices: this.plIndex.slice(), labels: this.plLabel.slice() };
  }

  /** A replay buffer offers itself: with `admitPseudoLabels`, each step's pseudo-labelled rows go to `sink`. */
  admitTo(sink: PseudoLabelSink): void {
    if (this.options.admitPseudoLabels) this.sink = sink;
  }

  onTaskStart({ task, model, context }: TaskEvent): void {
    this.unlabelled = task.unlabelled;
    this.taskClasses = [...task.classes];
    this.taskIndex = task.index;
    this.round = 0;
    this.plIndex = new Int32Array(0);
    this.plLabel = new Int32Array(0);
    this.plSoft = undefined;
    this.normalization = context.stream.normalization;
    if (this.options.confidence === "tsim") {
      const old = model.params;
      const grown = ensureEnsembleHeads(old, this.options.heads, model.backbone.featureDim, model.numClasses, this.options.rng);
      for (const k of Object.keys(old)) if (grown[k] !== old[k]) old[k]?.dispose();
      model.params = grown;
    }
    if (this.options.teacher === "ema") {
      disposeTree(this.teacherParams);
      this.teacherParams = cloneTree(model.params);
    }
  }

  private labellingDue(epoch: number): boolean {
    const o = this.options;
    return this.round < o.maxRounds && epoch >= o.warmupEpochs + this.round * o.roundEpochs;
  }

  /** Forward passes over U (eval mode) with the labelling parameters. */
  scoreUnlabelled(model: ModelHandle, params: ParamTree = this.teacherParams ?? model.params): UnlabelledScores & { logits: Float32Array; headLogits?: Float32Array[]; classes: number[] } {
    const set = this.unlabelled;
    const classes = this.options.restrictToTaskClasses ? this.taskClasses : Array.from({ length: model.numClasses }, (_, c) => c);
    const k = classes.length;
    const n = set?.count ?? 0;
    const logits = new Float32Array(n * k);
    const m = this.options.confidence === "tsim" ? this.options.heads : 0;
    const heads = Array.from({ length: m }, () => new Float32Array(n * k));
    const step = this.options.scoreBatch ?? 512;
    const cls = tf.tensor1d(classes, "int32");
    for (let start = 0; start < n; start += step) {
      const end = Math.min(n, start + step);
      const idx = Int32Array.from({ length: end - start }, (_, i) => start + i);
      const parts = tf.tidy(() => {
        const out = model.backbone.apply(params, imagesToTensor(set as UnlabelledSet, idx, this.normalization), { training: false, state: model.state });
        const z = tf.gather(out.logits, cls, 1);
        const hz = m ? ensembleLogits(params, out.features, m).map((h) => tf.gather(h, cls, 1)) : [];
        return [z, ...hz];
      });
      logits.set(parts[0]?.dataSync() as Float32Array, start * k);
      parts.slice(1).forEach((p, h) => (heads[h] as Float32Array).set(p.dataSync() as Float32Array, start * k));
      for (const p of parts) p.dispose();
    }
    cls.dispose();
    const local = argmaxRows(logits, k);
    const predictions = Int32Array.from(local, (c) => classes[c] as number);
    return {
      predictions,
      softmax: softmaxMax(logits, k),
      ...(m ? { tsim: tSimilarity(heads, k), headLogits: heads } : {}),
      logits,
      classes,
    };
  }

  private confidenceOf(s: ReturnType<SelfTrainingPlugin["scoreUnlabelled"]>): Float64Array {
    const k = s.classes.length;
    switch (this.options.confidence) {
      case "softmax":
        return s.softmax;
      case "margin":
        return softmaxMargin(s.logits, k);
      case "entropy":
        return entropyConfidence(s.logits, k);
      case "tsim":
        return s.tsim as Float64Array;
    }
  }

  /**
   * MSTA on the candidates: votes are the classwise T-similarity (tsim) or g's class probabilities
   * (the other confidences); the bound's probabilities P are g's softmax at this round (the
   * reference takes P from the initial supervised model, which is g at the first round).
   */
  private mstaPick(s: ReturnType<SelfTrainingPlugin["scoreUnlabelled"]>, candidates: number[]): number[] {
    const k = s.classes.length;
    const prob = softmax(s.logits, k);
    const vote = s.headLogits ? classwiseTSimilarity(s.headLogits, k) : prob;
    const local = argmaxRows(s.logits, k);
    const rows = (a: ArrayLike<number>): Float64Array => {
      const out = new Float64Array(candidates.length * k);
      candidates.forEach((i, r) => {
        for (let c = 0; c < k; c++) out[r * k + c] = a[i * k + c] as number;
      });
      return out;
    };
    return selectByMsta(rows(vote), rows(prob), Int32Array.from(candidates, (i) => local[i] as number), k).selected;
  }

  private labellingRound(event: BatchEvent): void {
    const set = this.unlabelled as UnlabelledSet;
    this.round++;
    const scores = this.scoreUnlabelled(event.model);
    const conf = this.confidenceOf(scores);
    const keep = new Set(this.options.relabel ? [] : Array.from(this.plIndex));
    const candidates = Array.from({ length: set.count }, (_, i) => i).filter((i) => !keep.has(i));
    const picked = (this.options.policy.kind === "msta" ? this.mstaPick(scores, candidates) : selectPseudoLabels(Float64Array.from(candidates, (i) => conf[i] as number), this.options.policy, this.round)).map(
      (j) => candidates[j] as number,
    );
    const index = [...(this.options.relabel ? [] : Array.from(this.plIndex)), ...picked];
    const label = [...(this.options.relabel ? [] : Array.from(this.plLabel)), ...picked.map((i) => scores.predictions[i] as number)];
    this.plIndex = Int32Array.from(index);
    this.plLabel = Int32Array.from(label);
    if (this.options.softLabels) {
      const kAll = event.model.numClasses;
      const k = scores.classes.length;
      const p = softmax(scores.logits, k);
      const soft = new Float32Array(index.length * kAll);
      const prev = this.plSoft;
      const prevK = this.plClasses;
      index.forEach((u, r) => {
        const fresh = picked.includes(u) || !prev;
        if (fresh) scores.classes.forEach((c, j) => (soft[r * kAll + c] = p[u * k + j] as number));
        else for (let c = 0; c < prevK; c++) soft[r * kAll + c] = prev[r * prevK + c] as number;
      });
      this.plSoft = soft;
      this.plClasses = kAll;
    }
    const mean = picked.length ? picked.reduce((a, i) => a + (conf[i] as number), 0) / picked.length : Number.NaN;
    const record = { task: this.taskIndex, round: this.round, epoch: event.epoch, scored: candidates.length, selected: index.length, meanConfidence: mean };
    this.rounds.push(record);
    event.context.tracker.logMetrics(
      { [perTaskKey("st_selected", this.taskIndex)]: index.length, [perTaskKey("st_mean_conf", this.taskIndex)]: Number.isFinite(mean) ? mean : 0 },
      event.context.step,
    );
  }

  onBatch(event: BatchEvent): ReturnType<NonNullable<Plugin["onBatch"]>> {
    this.disposePending();
    // Read from the event, not only onTaskStart: a resumed task skips onTaskStart.
    this.unlabelled = event.task.unlabelled;
    this.taskClasses = [...event.task.classes];
    this.taskIndex = event.task.index;
    this.normalization = event.context.stream.normalization;
    const set = this.unlabelled;
    if (!set || set.count === 0) return;
    if (this.labellingDue(event.epoch)) this.labellingRound(event);
    const o = this.options;
    const rng = o.rng;
    if (o.confidence === "tsim" && o.gamma > 0) {
      const idx = Int32Array.from(rng.sampleIndices(set.count, Math.min(o.unlabelledBatch, set.count)));
      this.pending.xU = imagesToTensor(set, idx, this.normalization);
    }
    const npl = this.plIndex.length;
    if (npl === 0 || this.round === 0) return;
    const rows = Int32Array.from(rng.sampleIndices(npl, Math.min(o.batchSize, npl)));
    const images = Int32Array.from(rows, (r) => this.plIndex[r] as number);
    const labels = Int32Array.from(rows, (r) => this.plLabel[r] as number);
    if (this.sink) this.pending.rows = { images, labels };
    if (o.inBatch) {
      // Appended after the stream rows like replayed rows (streamCount, indices and raw still
      // describe the labelled stream rows only): one mean CE over labelled + pseudo-labelled rows.
      const { batch } = event;
      return tf.tidy(() => ({
        ...batch,
        x: tf.concat([batch.x, imagesToTensor(set, images, this.normalization)]),
        y: tf.concat([batch.y, tf.tensor1d(labels, "int32")]) as tf.Tensor1D,
      }));
    }
    const kAll = event.model.numClasses;
    let x: tf.Tensor = imagesToTensor(set, images, this.normalization);
    if (o.mixupAlpha > 0) {
      this.pending.lambda = betaSample(rng, o.mixupAlpha);
      this.pending.permutation = Int32Array.from(rng.permutation(rows.length));
      const mixed = mixInputs(x, this.pending.permutation, this.pending.lambda);
      x.dispose();
      x = mixed;
    }
    this.pending.xPl = x;
    if (o.softLabels && this.plSoft) {
      const soft = new Float32Array(rows.length * kAll);
      rows.forEach((r, i) => soft.set((this.plSoft as Float32Array).subarray(r * this.plClasses, r * this.plClasses + Math.min(kAll, this.plClasses)), i * kAll));
      this.pending.targets = tf.tensor2d(soft, [rows.length, kAll]);
    } else if (o.mixupAlpha > 0) {
      this.pending.targets = tf.tidy(() => tf.oneHot(tf.tensor1d(labels, "int32"), kAll).toFloat() as tf.Tensor2D);
    } else this.pending.yPl = tf.tensor1d(labels, "int32");
  }

  lossTerms(event: LossEvent): tf.Scalar | void {
    const o = this.options;
    const { model, params } = event;
    const terms: tf.Scalar[] = [];
    const p = this.pending;
    if (p.xPl) {
      // Training-mode forward of the pseudo-labelled images with the differentiated parameters;
      // its BN statistics are discarded (the labelled batch's update is the one kept).
      const out = model.backbone.apply(params, p.xPl, { training: true, state: model.state });
      let loss: tf.Scalar;
      if (p.targets && p.permutation && p.lambda !== undefined) loss = mixupCrossEntropy(out.logits, p.targets, p.permutation, p.lambda);
      else if (p.targets) loss = softCrossEntropy(out.logits, p.targets);
      else loss = crossEntropy(out.logits, p.yPl as tf.Tensor1D);
      if (o.lambdaA > 0) loss = tf.add(loss, tf.mul(priorRegulariser(out.logits), o.lambdaA)) as tf.Scalar;
      if (o.lambdaH > 0) loss = tf.add(loss, tf.mul(entropyRegulariser(out.logits), o.lambdaH)) as tf.Scalar;
      terms.push(tf.mul(loss, o.weight) as tf.Scalar);
    }
    if (o.confidence === "tsim") {
      const fu = p.xU ? model.backbone.apply(params, p.xU, { training: false, state: model.state }).features : undefined;
      terms.push(ensembleLoss(params, event.features, event.batch.y, fu, o.heads, o.gamma));
    }
    if (terms.length === 0) return;
    return terms.reduce((a, b) => tf.add(a, b) as tf.Scalar);
  }

  onStepEnd({ model }: BatchEvent): void {
    const rows = this.pending.rows;
    if (rows && this.sink && this.unlabelled) this.sink({ images: packUnlabelled(this.unlabelled, rows.images), labels: rows.labels });
    this.disposePending();
    if (this.teacherParams) {
      // θ' ← α θ' + (1 − α) θ: lerpTree(a, b, t) = (1 − t)·a + t·b.
      const next = lerpTree(this.teacherParams, model.params, 1 - this.options.emaAlpha);
      disposeTree(this.teacherParams);
      this.teacherParams = next;
    }
  }

  onTaskEnd({ model, task }: TaskEvent): void {
    this.unlabelled = task.unlabelled;
    if (!this.unlabelled || this.unlabelled.count === 0) {
      this.lastScores = undefined;
      return;
    }
    // Scored with the trained model itself (not the EMA teacher): the weights that are evaluated.
    const s = this.scoreUnlabelled(model, model.params);
    this.lastScores = { task: task.index, predictions: s.predictions, softmax: s.softmax, ...(s.tsim ? { tsim: s.tsim } : {}) };
  }

  private disposePending(): void {
    const p = this.pending;
    for (const t of [p.xPl, p.targets, p.yPl, p.xU]) t?.dispose();
    this.pending = {};
  }

  state(): PluginState {
    return {
      round: this.round,
      taskIndex: this.taskIndex,
      taskClasses: this.taskClasses,
      plIndex: this.plIndex,
      plLabel: this.plLabel,
      plSoft: this.plSoft ?? null,
      plClasses: this.plClasses,
      rng: this.options.rng.getState() as unknown as PluginState,
      teacher: this.teacherParams ?? null,
      rounds: this.rounds.map((r) => ({ ...r, meanConfidence: Number.isFinite(r.meanConfidence) ? r.meanConfidence : null })),
    };
  }

  loadState(s: PluginState): void {
    this.round = s["round"] as number;
    this.taskIndex = s["taskIndex"] as number;
    this.taskClasses = [...(s["taskClasses"] as number[])];
    this.plIndex = Int32Array.from(s["plIndex"] as Int32Array);
    this.plLabel = Int32Array.from(s["plLabel"] as Int32Array);
    this.plSoft = (s["plSoft"] as Float32Array | null) ?? undefined;
    this.plClasses = s["plClasses"] as number;
    this.options.rng.setState(s["rng"] as unknown as Parameters<RandomStream["setState"]>[0]);
    disposeTree(this.teacherParams);
    this.teacherParams = (s["teacher"] as ParamTree | null) ?? undefined;
    this.rounds.length = 0;
    for (const r of s["rounds"] as (RoundRecord & { meanConfidence: number | null })[]) this.rounds.push({ ...r, meanConfidence: r.meanConfidence ?? Number.NaN });
  }

  dispose(): void {
    this.disposePending();
    disposeTree(this.teacherParams);
    this.teacherParams = undefined;
  }
}

/** Packed uint8 rows of an unlabelled set. */
function packUnlabelled(set: UnlabelledSet, indices: Int32Array): Uint8Array {
  const size = set.shape[0] * set.shape[1] * set.shape[2];
  const out = new Uint8Array(indices.length * size);
  indices.forEach((i, k) => out.set(set.images.subarray(i * size, (i + 1) * size), k * size));
  return out;
}

/** Keys of a ParamTree that are ensemble heads (to leave them out of e.g. weight averaging). */
export function ensembleKeys(params: ParamTree): string[] {
  return Object.keys(params).filter(isEnsembleKey);
}

export function selfTraining(options: Partial<SelfTrainingOptions> & Pick<SelfTrainingOptions, "rng" | "confidence" | "policy">): SelfTrainingPlugin {
  return new SelfTrainingPlugin({ ...SELF_TRAINING_DEFAULTS, ...options });
}
