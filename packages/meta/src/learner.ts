/**
 * The episodic meta-learner: MAML, FOMAML and ANIL as a core `Learner`, so that a
 * `stream.kind: meta-learning` config runs through the same experiment library, tracker,
 * checkpoints and resume as every other method.
 *
 * The stream's single task is meta-training: `task.train` holds the meta-train classes,
 * `task.validation` the meta-val classes, `task.test` the meta-test classes. `learnTask` runs the
 * outer loop (Adam over meta-batches of episodes drawn from the "meta/episodes" stream), the inner
 * loop adapting cloned ParamTrees (`Maml`); every `validateEvery` iterations it scores a fixed set
 * of meta-val episodes and keeps the best parameters, which are the ones meta-tested at the end.
 * `evaluateSet` is the episodic meta-test: adapt to each episode's support with `testInnerSteps`
 * steps, score its queries; mean accuracy and the 95% CI over the episodes (algorithms.md §8.3).
 *
 * BN is transductive, as in MAML: every forward pass, meta-test included, uses the batch's own
 * statistics, and no running statistics are kept.
 */
import * as tf from "@tensorflow/tfjs";
import {
  type Backbone,
  type Batch,
  CheckpointError,
  disposeTree,
  type ExperimentContext,
  type ImageSet,
  type Learner,
  packRows,
  type ParamTree,
  type Plugin,
  type RandomStream,
  type SeededRng,
  type Task,
  TrainingInterrupted,
} from "@mnemo/core";
import { cloneTree, imagesToTensor, labelsToTensor } from "@mnemo/core/tf";
import { ProgressBar } from "@mnemo/runtime";
import { MetaLearnerBase } from "./learner-base.js";
import { ShapeError } from "@mnemo/core/errors";
import type { Normalization } from "@mnemo/core";
import { createOptimizer, type Optimizer, type OptimizerConfig } from "@mnemo/models";
import { crossEntropy } from "./cross-entropy.js";
import { type EpisodeBatch, type EpisodeData, Maml } from "./maml.js";
import { EpisodeSampler, type EpisodeShape } from "@mnemo/data";

export interface MetaLearnerOptions {
  /** "maml", "fomaml", "anil": the learner's (and the run's) method name. */
  name: string;
  backbone: Backbone;
  rng: SeededRng;
  /** Meta-training episodes (N-way K-shot, Q queries). The head has `episodes.ways` outputs. */
  episodes: EpisodeShape;
  /** Meta-val / meta-test episodes; `count` episodes are drawn for meta-test. */
  testEpisodes: EpisodeShape & { count: number };
  /** Meta-val episodes per validation (a fixed set, drawn the same way every time). */
  validationEpisodes: number;
  /** Inner learning rate α (on a mean cross-entropy). */
  innerLr: number;
  innerSteps: number;
  /** Inner steps at meta-val and meta-test. */
  testInnerSteps: number;
  /** First-order MAML (no second derivatives). */
  firstOrder: boolean;
  /** Parameters adapted in the inner loop (ANIL: the head prefix); all when undefined. */
  adaptPrefixes?: string[];
  /** Episodes per outer step (B). */
  metaBatch: number;
  /** Outer steps. */
  iterations: number;
  /** Outer learning rate β. */
  metaLr: number;
  optimizer: OptimizerConfig;
  /** Meta-validate (and keep the best parameters) every this many iterations (and at the end). */
  validateEvery: number;
  /** Write a mid-training checkpoint every this many iterations (when the runner offers one). */
  checkpointEvery: number;
  /** Log the meta-train loss every this many iterations. */
  logEvery: number;
  /** Also meta-test the random initialisation, fine-tuning all its parameters with the test steps: the no-meta-training baseline. */
  baseline: boolean;
  normalization?: Normalization;
  quiet?: boolean;
}

/** Mean accuracy (percent) and the half-width of its 95% CI over `episodes` episodes. */
export interface EpisodicScore {
  mean: number;
  ci95: number;
  episodes: number;
}

/** Mean and 1.96·sd/√n (sample sd) of per-episode accuracies. */
export function meanAndCi95(values: readonly number[]): EpisodicScore {
  const n = values.length;
  if (n === 0) return { mean: Number.NaN, ci95: Number.NaN, episodes: 0 };
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const variance = n > 1 ? values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1) : 0;
  return { mean, ci95: (1.96 * Math.sqrt(variance)) / Math.sqrt(n), episodes: n };
}

/** What the learner records for the run's metrics.json (and the tests). */
export interface MetaHistory {
  /** Meta-train loss (mean query loss after adaptation) at each logged iteration. */
  trainLoss: { iteration: number; loss: number; accuracy: number }[];
  /** Meta-val accuracy at each validation. */
  validation: { iteration: number; accuracy: number; ci95: number }[];
  /** The iteration whose parameters were kept (best meta-val accuracy; the last one without meta-val). */
  selectedIteration: number | null;
  baseline: EpisodicScore | null;
  test: EpisodicScore | null;
}

interface Best {
  iteration: number;
  accuracy: number;
  params: ParamTree;
}

export class MetaLearner extends MetaLearnerBase implements Learner {
  readonly name: string;
  readonly plugins: readonly Plugin[] = [];
  /** BN state the backbone wants as input; transductive BN never updates it. */
  private optimizer?: Optimizer;
  private best?: Best;
  /** The next meta-iteration to run (0 = not started); `iterations` = done. */
  private iteration = 0;
  private history: MetaHistory = { trainLoss: [], validation: [], selectedIteration: null, baseline: null, test: null };
  private readonly train: Maml;
  private readonly evaluator: Maml;
  private readonly baselineEvaluator: Maml;
  trainedImages = 0;

  constructor(readonly options: MetaLearnerOptions) {
    super(options);
    this.name = options.name;
    const o = options;
    for (const [key, v] of [
      ["metaBatch", o.metaBatch],
      ["iterations", o.iterations],
      ["validateEvery", o.validateEvery],
      ["checkpointEvery", o.checkpointEvery],
      ["logEvery", o.logEvery],
      ["testEpisodes.count", o.testEpisodes.count],
    ] as const) {
      if (!Number.isInteger(v) || v < 1) throw new ShapeError(`MetaLearner ${key} must be a positive integer, got ${v}`);
    }
    if (o.episodes.ways !== o.testEpisodes.ways) {
      // One head serves both: its width is the number of ways.
      throw new ShapeError(`meta-train ways (${o.episodes.ways}) and meta-test ways (${o.testEpisodes.ways}) must be equal: the head has one output per way`);
    }
    if (!o.firstOrder && !o.backbone.supportsSecondOrder) {
      throw new ShapeError(`second-order ${o.name} needs a backbone that can be differentiated twice (mlp, conv4); "${o.backbone.name}" cannot: use first_order: true or another backbone`);
    }
    const twice = !o.firstOrder;
    const loss = (differentiableTwice: boolean) => (p: ParamTree, b: EpisodeBatch) =>
      tf.tidy(() => crossEntropy(this.forward(p, b.x, differentiableTwice), b.y));
    this.train = new Maml({ loss: loss(twice), innerLr: o.innerLr, innerSteps: o.innerSteps, firstOrder: o.firstOrder, adaptPrefixes: o.adaptPrefixes });
    // Evaluation adapts without an outer tape: the fast kernels are exact there.
    this.evaluator = new Maml({ loss: loss(false), innerLr: o.innerLr, innerSteps: o.testInnerSteps, firstOrder: true, adaptPrefixes: o.adaptPrefixes });
    // The no-meta-training baseline fine-tunes every parameter of the random init (also for ANIL,
    // whose own protocol adapts only the head: a head-only baseline would be a weaker straw man).
    this.baselineEvaluator = new Maml({ loss: loss(false), innerLr: o.innerLr, innerSteps: o.testInnerSteps, firstOrder: true });
  }



  /** Per-iteration curves, the kept iteration and the meta-test scores so far. */
  get record(): MetaHistory {
    return structuredClone(this.history);
  }



  async learnTask(task: Task, context: ExperimentContext): Promise<void> {
    const o = this.options;
    if (task.index !== 0) throw new ShapeError(`a meta-learning stream has one task (meta-training); got task ${task.index}`);
    this.ensureModel(this.options.episodes.ways);
    if (this.iteration >= o.iterations) return; // resumed after meta-training finished
    if (this.iteration === 0 && o.baseline && !this.history.baseline) {
      // Same meta-test episodes as the final score, from the random initialisation.
      this.history.baseline = this.episodicScore(this.params as ParamTree, task.test, o.testEpisodes.count, o.rng.derive("meta/test"), this.baselineEvaluator);
      context.tracker.logMetrics({ meta_test_baseline_accuracy: this.history.baseline.mean }, 0);
      context.log(`${o.name}: no-meta-training baseline ${fmt(this.history.baseline)}`);
    }
    this.optimizer ??= createOptimizer(o.optimizer);
    const sampler = new EpisodeSampler(task.train, o.episodes, o.rng.stream("meta/episodes"));
    const validation = task.validation && task.validation.count > 0 ? task.validation : undefined;
    const bar = new ProgressBar({ label: `meta-train ${o.name}`, total: o.iterations, unit: "it", silent: o.quiet });
    bar.skip(this.iteration);
    while (this.iteration < o.iterations) {
      const it = this.iteration;
      const episodes = Array.from({ length: o.metaBatch }, () => this.episodeData(sampler.next(), task.train));
      const { loss, grads } = this.train.metaGradient(this.params as ParamTree, episodes);
      const logging = it % o.logEvery === 0 || it + 1 === o.iterations;
      // Post-adaptation query accuracy of the meta-batch, measured only when it is logged.
      const accuracy = logging ? this.queryAccuracy(episodes) : Number.NaN;
      episodes.forEach(disposeEpisode);
      const updated = (this.optimizer as Optimizer).step(this.params as ParamTree, grads, o.metaLr);
      for (const [k, t] of Object.entries(this.params as ParamTree)) if (updated[k] !== t) t.dispose();
      this.params = updated;
      disposeTree(grads);
      this.iteration = it + 1;
      this.trainedImages += o.metaBatch * o.episodes.ways * (o.episodes.shots + o.episodes.queries);
      context.step++;
      if (logging) {
        this.history.trainLoss.push({ iteration: it, loss, accuracy });
        context.tracker.logMetrics({ meta_train_loss: loss, meta_train_accuracy: accuracy }, it);
      }
      if (validation && (this.iteration % o.validateEvery === 0 || this.iteration === o.iterations)) this.validate(validation, context);
      bar.tick(1, `loss ${loss.toFixed(3)}`);
      if (this.iteration < o.iterations && this.iteration % o.checkpointEvery === 0) await context.saveCheckpoint?.(task.index);
      // The runner's own policy (checkpoint.every_steps / every_minutes) and progress reports.
      else if (this.iteration < o.iterations) await context.afterStep?.(task.index);
      if (this.shouldStop) await new Promise<void>((r) => setImmediate(r));
      if (this.shouldStop?.() && this.iteration < o.iterations) {
        bar.finish("interrupted");
        throw new TrainingInterrupted(task.index);
      }
    }
    bar.finish();
    if (this.best) {
      // Meta-validation selects the checkpoint that is meta-tested.
      disposeTree(this.params as ParamTree);
      this.params = this.best.params;
      this.history.selectedIteration = this.best.iteration;
      context.log(`${o.name}: kept iteration ${this.best.iteration} (meta-val accuracy ${this.best.accuracy.toFixed(2)}%)`);
      this.best = undefined;
    } else {
      this.history.selectedIteration = o.iterations;
    }
  }

  private validate(set: ImageSet, context: ExperimentContext): void {
    const o = this.options;
    const score = this.episodicScore(this.params as ParamTree, set, o.validationEpisodes, o.rng.derive("meta/validation"));
    this.history.validation.push({ iteration: this.iteration, accuracy: score.mean, ci95: score.ci95 });
    context.tracker.logMetrics({ meta_val_accuracy: score.mean }, this.iteration - 1);
    if (!this.best || score.mean > this.best.accuracy) {
      if (this.best) disposeTree(this.best.params);
      this.best = { iteration: this.iteration, accuracy: score.mean, params: cloneTree(this.params as ParamTree) };
    }
  }

  /** Query accuracy (percent) after adaptation, over the episodes of one meta-batch (logging only). */
  private queryAccuracy(episodes: EpisodeData[]): number {
    let correct = 0;
    let total = 0;
    for (const e of episodes) {
      const { c, n } = this.scoreEpisode(this.params as ParamTree, e, this.train.options.innerSteps);
      correct += c;
      total += n;
    }
    return (100 * correct) / total;
  }

  private scoreEpisode(params: ParamTree, e: EpisodeData, steps: number, evaluator = this.evaluator): { c: number; n: number } {
    const predicted = tf.tidy(() => {
      const adapted = evaluator.adapt(params, e.support, steps);
      return tf.argMax(this.forward(adapted, e.query.x, false), -1);
    });
    const p = predicted.dataSync();
    const y = e.query.y.dataSync();
    predicted.dispose();
    let c = 0;
    for (let i = 0; i < p.length; i++) if (p[i] === y[i]) c++;
    return { c, n: p.length };
  }

  /** Episodic evaluation of `params` on `count` episodes of `set` drawn from `stream`. */
  episodicScore(params: ParamTree, set: ImageSet, count: number, stream: RandomStream, evaluator = this.evaluator): EpisodicScore {
    const sampler = new EpisodeSampler(set, this.options.testEpisodes, stream);
    const accuracies: number[] = [];
    for (let i = 0; i < count; i++) {
      const e = this.episodeData(sampler.next(), set);
      const { c, n } = this.scoreEpisode(params, e, this.options.testInnerSteps, evaluator);
      accuracies.push((100 * c) / n);
      disposeEpisode(e);
    }
    return meanAndCi95(accuracies);
  }

  private episodeData(e: ReturnType<EpisodeSampler["next"]>, source: ImageSet): EpisodeData & { support: Batch; query: Batch } {
    const norm = this.options.normalization;
    const batch = (set: ImageSet, indices: Int32Array): Batch => ({
      x: imagesToTensor(set, rangeOf(set.count), norm),
      y: labelsToTensor(set, rangeOf(set.count)),
      streamCount: set.count,
      indices,
      raw: packRows(source, indices),
    });
    return { support: batch(e.support, e.supportIndices), query: batch(e.query, e.queryIndices) };
  }

  /**
   * Episodic meta-test on `set` (the meta-test classes): mean accuracy over `testEpisodes.count`
   * episodes, each drawn from the "meta/test" stream afresh so every run and the baseline see the
   * same episodes. The CI is in `record.test`.
   */
  async evaluateSet(set: ImageSet): Promise<number> {
    this.ensureModel(this.options.episodes.ways);
    const o = this.options;
    const score = this.episodicScore(this.params as ParamTree, set, o.testEpisodes.count, o.rng.derive("meta/test"));
    this.history.test = score;
    return score.mean;
  }

  /** Labels from the meta-learned, unadapted model (over `ways` outputs); meta-test goes through `evaluateSet`. */
  predict(x: tf.Tensor): tf.Tensor1D {
    this.ensureModel(this.options.episodes.ways);
    return tf.tidy(() => tf.argMax(this.forward(this.params as ParamTree, x, false), -1) as tf.Tensor1D);
  }

  async saveState(): Promise<Record<string, unknown>> {
    const opt = this.optimizer?.getState();
    return {
      kind: "meta-learner",
      name: this.name,
      iteration: this.iteration,
      params: this.params ?? null,
      bnState: this.bnState,
      optimizer: opt ? { step: opt.step, slots: opt.slots } : null,
      best: this.best ? { iteration: this.best.iteration, accuracy: this.best.accuracy, params: this.best.params } : null,
      history: JSON.stringify(this.history),
    };
  }

  async loadState(raw: Record<string, unknown>): Promise<void> {
    const s = raw as {
      kind?: string;
      name: string;
      iteration: number;
      params: ParamTree | null;
      bnState: ParamTree;
      optimizer: { step: number; slots: ParamTree } | null;
      best: Best | null;
      history: string;
    };
    if (s.kind !== "meta-learner") throw new CheckpointError(`expected a meta-learner state, got "${String(s.kind)}"`);
    if (s.name !== this.name) throw new CheckpointError(`the checkpoint is of method "${s.name}", this run is "${this.name}"`);
    this.disposeModel();
    this.params = s.params ?? undefined;
    this.bnState = s.bnState ?? {};
    this.iteration = s.iteration;
    if (s.optimizer) {
      this.optimizer = createOptimizer(this.options.optimizer);
      this.optimizer.setState(s.optimizer);
    }
    this.best = s.best ?? undefined;
    this.history = JSON.parse(s.history) as MetaHistory;
  }

  private disposeModel(): void {
    if (this.params) disposeTree(this.params);
    disposeTree(this.bnState);
    this.optimizer?.dispose();
    if (this.best) disposeTree(this.best.params);
    this.params = undefined;
    this.bnState = {};
    this.optimizer = undefined;
    this.best = undefined;
  }

  dispose(): void {
    this.disposeModel();
  }
}

function rangeOf(n: number): Int32Array {
  return Int32Array.from({ length: n }, (_, i) => i);
}

function disposeEpisode(e: EpisodeData): void {
  tf.dispose([e.support.x, e.support.y, e.query.x, e.query.y]);
}

function fmt(s: EpisodicScore): string {
  return `${s.mean.toFixed(2)} ± ${s.ci95.toFixed(2)}% over ${s.episodes} episodes`;
}
