/**
 * MAMLCon (van der Merwe & Kamper, Interspeech 2023; algorithms.md §9.1): meta-learning for
 * continual few-shot learning. Each inner loop learns an episode's classes in chunks, one chunk
 * after the other (logits always over the classes seen so far), and ends with ONE SGD step on
 * stored templates, one support example per seen class. The meta-gradient is first-order: the
 * gradient of the query loss over all seen classes at the adapted parameters (as the reference
 * code, learn2learn MAML with first_order=True).
 *
 * Labels are 0..N−1 in the order the classes are learned (the caller relabels classes at random
 * per episode, as the reference's `return_random_labels`).
 */
import * as tf from "@tensorflow/tfjs";
import { disposeTree, type ParamTree, treeKeys } from "@mnemo/core";
import { ShapeError } from "@mnemo/core/errors";
import { crossEntropy } from "./cross-entropy.js";
import { disposeAdapted, GradientMean, treeValueAndGrads } from "./tree-grad.js";

export interface LabelledSet {
  /** Inputs, first axis = examples. */
  x: tf.Tensor;
  /** Class of each example, 0..N−1. */
  y: Int32Array;
}

export interface ClassEpisode {
  support: LabelledSet;
  query: LabelledSet;
}

/** One inner SGD step, as reported to `onInnerStep`. */
export interface InnerStepInfo {
  phase: "chunk" | "templates";
  /** Index of the chunk being learned (the last chunk's index for the template step). */
  chunk: number;
  /** Classes seen so far: the logits' width. */
  seen: number;
  /** Labels of the batch the step was taken on. */
  labels: Int32Array;
  /** Width of the logits the model produced for this step. */
  logitsWidth: number;
}

export interface MamlConOptions {
  /** Logits of the model with `params` on `x` over the first `numClasses` classes ([batch, numClasses]). */
  logits: (params: ParamTree, x: tf.Tensor, numClasses: number) => tf.Tensor;
  /** Inner SGD learning rate (reference: 1e-3). */
  innerLr?: number;
  /** SGD steps on the first chunk (reference: 30). */
  initialSteps?: number;
  /** SGD steps on every later chunk (reference: 5). */
  updateSteps?: number;
  /** Classes in the first chunk (reference: 5). */
  startClasses?: number;
  /** Classes per later chunk; leftover classes join the last chunk (reference: 5). */
  classesPerAddition?: number;
  /** The final step on one template per seen class (reference: true). */
  quickAdapt?: boolean;
  /** Query examples kept per class for the meta-loss (reference: 5). */
  queryPerClass?: number;
  /** Observer of every inner step (logging, tests). */
  onInnerStep?: (info: InnerStepInfo) => void;
}

type Resolved = Required<Omit<MamlConOptions, "onInnerStep">> & Pick<MamlConOptions, "onInnerStep">;

export class MamlCon {
  readonly options: Resolved;

  constructor(options: MamlConOptions) {
    this.options = {
      innerLr: 1e-3,
      initialSteps: 30,
      updateSteps: 5,
      startClasses: 5,
      classesPerAddition: 5,
      quickAdapt: true,
      queryPerClass: 5,
      ...options,
    };
    const o = this.options;
    if (!(o.innerLr >= 0)) throw new ShapeError(`MAMLCon innerLr must be >= 0, got ${o.innerLr}`);
    for (const [name, v, min] of [
      ["initialSteps", o.initialSteps, 0],
      ["updateSteps", o.updateSteps, 0],
      ["startClasses", o.startClasses, 1],
      ["classesPerAddition", o.classesPerAddition, 1],
      ["queryPerClass", o.queryPerClass, 1],
    ] as const) {
      if (!Number.isInteger(v) || v < min) throw new ShapeError(`MAMLCon ${name} must be an integer >= ${min}, got ${v}`);
    }
  }

  /**
   * The classes of each chunk for an episode of `numClasses` classes: the first `startClasses`,
   * then consecutive chunks of `classesPerAddition`; leftover classes join the last chunk.
   */
  chunks(numClasses: number): number[][] {
    const { startClasses, classesPerAddition } = this.options;
    if (numClasses < startClasses) throw new ShapeError(`MAMLCon: an episode needs at least startClasses = ${startClasses} classes, got ${numClasses}`);
    const range = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => a + i);
    const out = [range(0, startClasses)];
    const rest = numClasses - startClasses;
    const additions = Math.floor(rest / classesPerAddition);
    for (let j = 0; j < additions; j++) out.push(range(startClasses + j * classesPerAddition, startClasses + (j + 1) * classesPerAddition));
    const leftover = range(startClasses + additions * classesPerAddition, numClasses);
    if (leftover.length > 0) {
      if (additions > 0) (out[out.length - 1] as number[]).push(...leftover);
      else out.push(leftover);
    }
    return out;
  }

  /**
   * The continual inner loop: returns the adapted parameters (new tensors; `params` untouched
   * and never disposed). Not differentiable with respect to `params` (first-order method).
   */
  adapt(params: ParamTree, support: LabelledSet): ParamTree {
    const numClasses = classCount(support.y);
    const chunks = this.chunks(numClasses);
    const templates: number[] = [];
    let current = params;
    let seen = 0;
    chunks.forEach((chunk, j) => {
      const inChunk = new Set(chunk);
      const idx: number[] = [];
      support.y.forEach((c, i) => {
        if (inChunk.has(c)) idx.push(i);
      });
      for (const c of chunk) {
        const first = support.y.indexOf(c);
        if (first < 0) throw new ShapeError(`MAMLCon: class ${c} has no support example`);
        templates.push(first);
      }
      seen = Math.max(...chunk) + 1;
      const steps = j === 0 ? this.options.initialSteps : this.options.updateSteps;
      for (let s = 0; s < steps; s++) current = this.step(current, params, support, idx, seen, "chunk", j);
    });
    if (this.options.quickAdapt) current = this.step(current, params, support, templates, seen, "templates", chunks.length - 1);
    return current === params ? { ...params } : current;
  }

  /** One SGD step on the rows `idx` over `seen` classes; frees `current` unless it is `original`. */
  private step(current: ParamTree, original: ParamTree, set: LabelledSet, idx: number[], seen: number, phase: InnerStepInfo["phase"], chunk: number): ParamTree {
    const labels = Int32Array.from(idx, (i) => set.y[i] as number);
    const keys = treeKeys(current);
    const next = tf.tidy(() => {
      const x = tf.gather(set.x, tf.tensor1d(Int32Array.from(idx), "int32"));
      let width = -1;
      const grads = tf.grads((...ts: tf.Tensor[]) => {
        const p: ParamTree = {};
        keys.forEach((k, i) => (p[k] = ts[i] as tf.Tensor));
        const logits = this.options.logits(p, x, seen);
        width = logits.shape[logits.shape.length - 1] as number;
        return crossEntropy(logits, labels);
      })(keys.map((k) => current[k] as tf.Tensor));
      this.options.onInnerStep?.({ phase, chunk, seen, labels, logitsWidth: width });
      const out: ParamTree = {};
      keys.forEach((k, i) => (out[k] = tf.keep(tf.sub(current[k] as tf.Tensor, tf.mul(grads[i] as tf.Tensor, this.options.innerLr)))));
      return out;
    });
    if (current !== original) disposeTree(current);
    return next;
  }

  /** The query rows used by the meta-loss: the first `queryPerClass` of every class. */
  queryRows(query: LabelledSet): number[] {
    const taken = new Map<number, number>();
    const rows: number[] = [];
    query.y.forEach((c, i) => {
      const n = taken.get(c) ?? 0;
      if (n < this.options.queryPerClass) {
        rows.push(i);
        taken.set(c, n + 1);
      }
    });
    return rows;
  }

  /**
   * Mean over episodes of the query loss (all seen classes) after the continual inner loop, and
   * its first-order gradient: ∇ at the adapted parameters, used as the gradient for `params`.
   * Also returns the query accuracy (%). New tensors; `params` untouched.
   */
  metaGradient(params: ParamTree, episodes: readonly ClassEpisode[]): { loss: number; accuracy: number; grads: ParamTree } {
    if (episodes.length === 0) throw new ShapeError("MAMLCon metaGradient needs at least one episode");
    const keys = treeKeys(params);
    const mean = new GradientMean();
    let loss = 0;
    let correct = 0;
    let total = 0;
    for (const e of episodes) {
      const adapted = this.adapt(params, e.support);
      const seen = classCount(e.support.y);
      const rows = this.queryRows(e.query);
      const labels = Int32Array.from(rows, (i) => e.query.y[i] as number);
      const x = tf.tidy(() => tf.gather(e.query.x, tf.tensor1d(Int32Array.from(rows), "int32")));
      let predicted: Int32Array = new Int32Array(0);
      const step = treeValueAndGrads(adapted, keys, (p) => {
        const logits = this.options.logits(p, x, seen);
        predicted = tf.tidy(() => tf.argMax(logits, -1).dataSync() as Int32Array);
        return crossEntropy(logits, labels);
      });
      loss += step.loss;
      predicted.forEach((p, i) => (correct += p === labels[i] ? 1 : 0));
      total += labels.length;
      mean.add(step.grads);
      x.dispose();
      disposeAdapted(adapted, params);
    }
    const grads = mean.mean();
    return { loss: loss / episodes.length, accuracy: (100 * correct) / total, grads };
  }

  /** Meta-test: adapt on the support set, then query accuracy (%) over all the episode's classes. */
  evaluate(params: ParamTree, episode: ClassEpisode): number {
    const adapted = this.adapt(params, episode.support);
    const seen = classCount(episode.support.y);
    try {
      const predicted = tf.tidy(() => tf.argMax(this.options.logits(adapted, episode.query.x, seen), -1).dataSync() as Int32Array);
      let correct = 0;
      predicted.forEach((p, i) => (correct += p === episode.query.y[i] ? 1 : 0));
      return (100 * correct) / predicted.length;
    } finally {
      disposeAdapted(adapted, params);
    }
  }
}

/** N for labels 0..N−1 (every class must be present). */
function classCount(y: Int32Array): number {
  if (y.length === 0) throw new ShapeError("MAMLCon: empty support set");
  let max = -1;
  for (const c of y) {
    if (!Number.isInteger(c) || c < 0) throw new ShapeError(`MAMLCon: labels must be 0..N-1, got ${c}`);
    max = Math.max(max, c);
  }
  return max + 1;
}
