/**
 * MAMLCon and OML as a core `Learner` (algorithms.md §9), with the continual few-shot protocol:
 * after meta-training, novel (meta-test) classes arrive in `chunks` chunks of `ways` classes with
 * `shots` images each; after each chunk the model is scored on the queries of every chunk seen
 * so far, filling an accuracy matrix R[i][j] (mean over `repeats` sequences) whose ACC, BWT and
 * forgetting come from core's metrics module, as for class-incremental runs.
 *
 * The head has one output per class of the longest sequence (max of the meta-train ways and
 * chunks × ways); logits always span the classes seen so far. Meta-training:
 * - mamlcon: episodes of `episodes.ways` classes learned in chunks (`startClasses`, then
 *   `classesPerAddition`) with the final template step; first-order meta-gradient (`MamlCon`).
 * - oml: one trajectory per iteration, the episode's support class by class, one example per
 *   inner step on the head (PLN), whose output rows for the episode's classes are re-initialised
 *   first; the meta-loss is on the episode's queries (OML also mixes in a random batch of all
 *   meta-train classes; left out here); second-order through the trajectory (`Oml`).
 * At meta-test, MAMLCon re-runs its inner procedure on the chunks so far (with the template step
 * when `quickAdapt`), OML its one-example steps.
 */
import * as tf from "@tensorflow/tfjs";
import {
  type Backbone,
  CheckpointError,
  disposeTree,
  type ExperimentContext,
  type ImageSet,
  type Learner,
  type Normalization,
  type ParamTree,
  type Plugin,
  type RandomStream,
  type SeededRng,
  summarize,
  type Task,
  TrainingInterrupted,
} from "@mnemo/core";
import { imagesToTensor } from "@mnemo/core/tf";
import { ProgressBar } from "@mnemo/runtime";
import { MetaLearnerBase } from "./learner-base.js";
import { ShapeError } from "@mnemo/core/errors";
import { EpisodeSampler, type ContinualFewShotSpec, type EpisodeShape } from "@mnemo/data";
import { createOptimizer, type Optimizer } from "@mnemo/models";
import { type ClassEpisode, type LabelledSet, MamlCon } from "./mamlcon.js";
import { Oml } from "./oml.js";

export interface ContinualMetaLearnerOptions {
  method: "mamlcon" | "oml";
  backbone: Backbone;
  rng: SeededRng;
  episodes: EpisodeShape;
  continual: ContinualFewShotSpec;
  innerLr: number;
  /** MAMLCon: steps on the first chunk / on each later chunk, chunk sizes, the template step. */
  initialSteps: number;
  updateSteps: number;
  startClasses: number;
  classesPerAddition: number;
  quickAdapt: boolean;
  metaBatch: number;
  iterations: number;
  metaLr: number;
  checkpointEvery: number;
  logEvery: number;
  normalization?: Normalization;
  quiet?: boolean;
}

export interface ContinualRecord {
  trainLoss: { iteration: number; loss: number }[];
  /** R[i][j]: accuracy (%) on chunk j's queries after learning chunks 0..i (null for j > i); mean over repeats. */
  matrix: (number | null)[][] | null;
  acc: number | null;
  bwt: number | null;
  forgetting: number | null;
}

export class ContinualMetaLearner extends MetaLearnerBase implements Learner {
  readonly name: string;
  readonly plugins: readonly Plugin[] = [];
  private optimizer?: Optimizer;
  private iteration = 0;
  private history: ContinualRecord = { trainLoss: [], matrix: null, acc: null, bwt: null, forgetting: null };
  private readonly outputs: number;
  private readonly trainer: MamlCon;
  private readonly tester: MamlCon;
  private readonly oml: Oml;
  trainedImages = 0;

  constructor(readonly options: ContinualMetaLearnerOptions) {
    super(options);
    this.name = options.method;
    const o = options;
    this.outputs = Math.max(o.episodes.ways, o.continual.chunks * o.continual.ways);
    if (o.method === "oml" && !o.backbone.supportsSecondOrder) {
      throw new ShapeError(`OML's meta-gradient is second order: "${o.backbone.name}" cannot be differentiated twice; use mlp or conv4`);
    }
    const logits = (p: ParamTree, x: tf.Tensor, n: number) => tf.slice(this.forward(p, x, false), [0, 0], [-1, n]);
    const common = { logits, innerLr: o.innerLr, initialSteps: o.initialSteps, updateSteps: o.updateSteps, quickAdapt: o.quickAdapt, queryPerClass: o.episodes.queries };
    this.trainer = new MamlCon({ ...common, startClasses: o.startClasses, classesPerAddition: o.classesPerAddition });
    // At meta-test the chunks are the protocol's: `ways` classes each.
    this.tester = new MamlCon({ ...common, startClasses: o.continual.ways, classesPerAddition: o.continual.ways, queryPerClass: o.continual.queries });
    this.oml = new Oml({ forward: (p, x) => this.forward(p, x, true), plnPrefixes: [o.backbone.headPrefix], innerLr: o.innerLr });
  }



  get record(): ContinualRecord {
    return structuredClone(this.history);
  }



  async learnTask(task: Task, context: ExperimentContext): Promise<void> {
    const o = this.options;
    this.ensureModel(this.outputs);
    this.optimizer ??= createOptimizer({ name: "adam" });
    const sampler = new EpisodeSampler(task.train, o.episodes, o.rng.stream("meta/episodes"));
    const resets = o.rng.stream("oml/reset");
    const bar = new ProgressBar({ label: `meta-train ${o.method}`, total: o.iterations, unit: "it", silent: o.quiet });
    bar.skip(this.iteration);
    while (this.iteration < o.iterations) {
      const it = this.iteration;
      let loss: number;
      let grads: ParamTree;
      if (o.method === "mamlcon") {
        const episodes = Array.from({ length: o.metaBatch }, () => this.classEpisode(sampler.next()));
        ({ loss, grads } = this.trainer.metaGradient(this.params as ParamTree, episodes));
        episodes.forEach((e) => tf.dispose([e.support.x, e.query.x]));
      } else {
        const e = this.classEpisode(sampler.next());
        // OML: re-initialise the episode's output units (no memorised outputs), a permanent change.
        const w = `${o.backbone.headPrefix}weight`;
        const fresh = this.oml.resetOutputs(this.params as ParamTree, w, range(o.episodes.ways), resets);
        (this.params as ParamTree)[w]?.dispose();
        this.params = fresh;
        const trajectory = bySupportOrder(e.support);
        ({ loss, grads } = this.oml.metaGradient(this.params, trajectory, e.query));
        tf.dispose([trajectory.x, e.support.x, e.query.x]);
      }
      const updated = (this.optimizer as Optimizer).step(this.params as ParamTree, grads, o.metaLr);
      for (const [k, t] of Object.entries(this.params as ParamTree)) if (updated[k] !== t) t.dispose();
      this.params = updated;
      disposeTree(grads);
      this.iteration = it + 1;
      context.step++;
      if (it % o.logEvery === 0 || this.iteration === o.iterations) {
        this.history.trainLoss.push({ iteration: it, loss });
        context.tracker.logMetrics({ meta_train_loss: loss }, it);
      }
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
  }

  private classEpisode(e: ReturnType<EpisodeSampler["next"]>): ClassEpisode {
    const norm = this.options.normalization;
    const set = (s: ImageSet): LabelledSet => ({ x: imagesToTensor(s, range(s.count), norm), y: Int32Array.from(s.labels) });
    return { support: set(e.support), query: set(e.query) };
  }

  /**
   * The continual few-shot protocol on `set` (the meta-test classes): `repeats` sequences of
   * `chunks` chunks; returns ACC (%) of the mean matrix, which `record` holds with BWT.
   */
  async evaluateSet(set: ImageSet): Promise<number> {
    this.ensureModel(this.outputs);
    const c = this.options.continual;
    const stream = this.options.rng.derive("meta/continual");
    const sum = Array.from({ length: c.chunks }, () => new Array<number>(c.chunks).fill(0));
    for (let r = 0; r < c.repeats; r++) {
      const m = this.sequence(set, stream);
      m.forEach((row, i) => row.forEach((v, j) => ((sum[i] as number[])[j] = ((sum[i] as number[])[j] as number) + v)));
    }
    const matrix = sum.map((row, i) => row.map((v, j) => (j <= i ? v / c.repeats : null)));
    const s = summarize(matrix);
    this.history.matrix = matrix;
    this.history.acc = s.finalAverageAccuracy;
    this.history.bwt = c.chunks > 1 ? s.backwardTransfer : null;
    this.history.forgetting = c.chunks > 1 ? s.forgetting : null;
    return s.finalAverageAccuracy;
  }

  /** One sequence: chunk classes drawn from `stream`, labelled in arrival order; R[i][j] for j <= i. */
  private sequence(set: ImageSet, stream: RandomStream): number[][] {
    const c = this.options.continual;
    const sampler = new EpisodeSampler(set, { ways: c.chunks * c.ways, shots: c.shots, queries: c.queries }, stream);
    const e = sampler.next(); // episode label k = the k-th class to arrive
    const norm = this.options.normalization;
    const chunkOf = (y: number) => Math.floor(y / c.ways);
    const rows = (s: ImageSet, upto: number) => range(s.count).filter((i) => chunkOf(s.labels[i] as number) <= upto);
    const out: number[][] = [];
    let params = this.params as ParamTree;
    let reset: ParamTree | undefined;
    if (this.options.method === "oml") {
      reset = this.oml.resetOutputs(params, `${this.options.backbone.headPrefix}weight`, range(c.chunks * c.ways), stream);
      params = reset;
    }
    for (let i = 0; i < c.chunks; i++) {
      const seen = (i + 1) * c.ways;
      const sIdx = rows(e.support, i);
      const support: LabelledSet = { x: imagesToTensor(e.support, sIdx, norm), y: Int32Array.from(sIdx, (k) => e.support.labels[k] as number) };
      const adapted = this.options.method === "mamlcon" ? this.tester.adapt(params, support) : tf.tidy(() => keepTree(this.oml.adapt(params, bySupportOrder(support))));
      const row: number[] = [];
      for (let j = 0; j <= i; j++) {
        const q = range(e.query.count).filter((k) => chunkOf(e.query.labels[k] as number) === j);
        const predicted = tf.tidy(() => tf.argMax(tf.slice(this.forward(adapted, imagesToTensor(e.query, q, norm), false), [0, 0], [-1, seen]), -1).dataSync() as Int32Array);
        let correct = 0;
        predicted.forEach((p, k) => (correct += p === e.query.labels[q[k] as number] ? 1 : 0));
        row.push((100 * correct) / q.length);
      }
      out.push(row);
      for (const [k, t] of Object.entries(adapted)) if (t !== params[k]) t.dispose();
      support.x.dispose();
    }
    if (reset) (reset[`${this.options.backbone.headPrefix}weight`] as tf.Tensor).dispose();
    return out;
  }

  predict(x: tf.Tensor): tf.Tensor1D {
    this.ensureModel(this.outputs);
    return tf.tidy(() => tf.argMax(this.forward(this.params as ParamTree, x, false), -1) as tf.Tensor1D);
  }

  async saveState(): Promise<Record<string, unknown>> {
    const opt = this.optimizer?.getState();
    return {
      kind: "continual-meta-learner",
      name: this.name,
      iteration: this.iteration,
      params: this.params ?? null,
      bnState: this.bnState,
      optimizer: opt ? { step: opt.step, slots: opt.slots } : null,
      history: JSON.stringify(this.history),
    };
  }

  async loadState(raw: Record<string, unknown>): Promise<void> {
    const s = raw as { kind?: string; name: string; iteration: number; params: ParamTree | null; bnState: ParamTree; optimizer: { step: number; slots: ParamTree } | null; history: string };
    if (s.kind !== "continual-meta-learner" || s.name !== this.name) throw new CheckpointError(`expected a ${this.name} continual-meta-learner state, got "${String(s.kind)}" of "${String(s.name)}"`);
    this.dispose();
    this.params = s.params ?? undefined;
    this.bnState = s.bnState ?? {};
    this.iteration = s.iteration;
    if (s.optimizer) {
      this.optimizer = createOptimizer({ name: "adam" });
      this.optimizer.setState(s.optimizer);
    }
    this.history = JSON.parse(s.history) as ContinualRecord;
  }

  dispose(): void {
    if (this.params) disposeTree(this.params);
    disposeTree(this.bnState);
    this.optimizer?.dispose();
    this.params = undefined;
    this.bnState = {};
    this.optimizer = undefined;
  }
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

function keepTree(t: ParamTree): ParamTree {
  for (const v of Object.values(t)) tf.keep(v);
  return t;
}

/** The support set class by class (OML's trajectory order: all shots of a class, then the next). */
function bySupportOrder(s: LabelledSet): LabelledSet {
  const order = range(s.y.length).sort((a, b) => (s.y[a] as number) - (s.y[b] as number) || a - b);
  return { x: tf.tidy(() => tf.gather(s.x, tf.tensor1d(Int32Array.from(order), "int32"))), y: Int32Array.from(order, (i) => s.y[i] as number) };
}
