/**
 * The four continual test-time adapters of the CoTTA protocol (reference §2.2–2.3). Each one, per
 * unlabelled batch, returns the batch's logits (its prediction, made BEFORE it adapts on the
 * batch) and then adapts. An adapter is only ever given images: no labels reach it.
 */
import * as tf from "@tensorflow/tfjs";
import { disposeTree, type ParamTree, type RandomStreams, treeKeys } from "@mnemo/core";
import { cloneTree, keepTree } from "@mnemo/core/tf";
import { createOptimizer, type Optimizer, type OptimizerConfig, type OptimizerState, type StateValue } from "@mnemo/models";
import { cottaAugment } from "./augment.js";
import { meanEntropy, meanMaxSoftmax, softTargetCrossEntropy } from "./losses.js";
import { batchNormAffineKeys, logitsOf, type SourceModel } from "./model.js";
import { emaUpdate, stochasticRestore } from "./restore.js";

export interface Adapter {
  readonly name: string;
  /** Logits of this batch (the prediction), computed before the adapter adapts on it; the caller disposes them. */
  step(x: tf.Tensor4D): tf.Tensor2D;
  /** Everything needed to continue bit-identically (parameters, optimiser moments); RNG streams are the caller's. */
  state(): StateValue;
  loadState(state: StateValue): void;
  dispose(): void;
}

/** Adam 1e-3, β (0.9, 0.999), wd 0: the CIFAR settings of tent.py and cotta.py. */
export const REFERENCE_OPTIMIZER: OptimizerConfig = { name: "adam", beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0 };

export interface TentOptions {
  lr?: number;
  optimizer?: OptimizerConfig;
}

export interface CottaOptions {
  lr?: number;
  optimizer?: OptimizerConfig;
  /** Teacher EMA α (reference 0.999). */
  alpha?: number;
  /** Restore probability p (reference 0.01). */
  restore?: number;
  /** Confidence threshold p_th of the augmentation gate (reference CIFAR10-C 0.92). */
  threshold?: number;
  /** Augmented copies N (reference 32). */
  augmentations?: number;
  /** Horizontal-flip probability of the augmentation (reference 0.5). */
  flip?: number;
}

export type AdapterConfig = { name: "source" } | { name: "bn" } | ({ name: "tent" } & TentOptions) | ({ name: "cotta" } & CottaOptions);
export type AdapterName = AdapterConfig["name"];
export const ADAPTER_NAMES: readonly AdapterName[] = ["source", "bn", "tent", "cotta"];

/** Builds an adapter on `source`; `rng` is the adapter's own scope (e.g. `rng.scope("tta/cotta")`). */
export function createAdapter(config: AdapterConfig, source: SourceModel, rng: RandomStreams): Adapter {
  switch (config.name) {
    case "source":
      return statelessAdapter("source", (x) => logitsOf(source, source.params, x, false));
    case "bn":
      return statelessAdapter("bn", (x) => logitsOf(source, source.params, x, true));
    case "tent":
      return new TentAdapter(source, config);
    case "cotta":
      return new CottaAdapter(source, config, rng);
  }
}

function statelessAdapter(name: string, forward: (x: tf.Tensor4D) => tf.Tensor2D): Adapter {
  return { name, step: (x) => tf.tidy(() => forward(x)), state: () => null, loadState: () => {}, dispose: () => {} };
}

function optimizerState(o: Optimizer): StateValue {
  const s = o.getState();
  return { step: s.step, slots: s.slots };
}

function asTree(v: unknown, what: string): ParamTree {
  if (!v || typeof v !== "object") throw new Error(`adapter state: "${what}" is missing`);
  return v as ParamTree;
}

/** One gradient step of `loss(params)` on the keys in `train`; returns the new full tree (untrained tensors shared with `params`). */
function gradientStep(params: ParamTree, train: readonly string[], optimizer: Optimizer, lr: number, loss: (p: ParamTree) => tf.Scalar): ParamTree {
  const { grads, value } = tf.valueAndGrads((...ts: tf.Tensor[]) => {
    const p: ParamTree = { ...params };
    train.forEach((k, i) => (p[k] = ts[i] as tf.Tensor));
    return loss(p);
  })(train.map((k) => params[k] as tf.Tensor));
  value.dispose();
  const sub: ParamTree = {};
  const g: ParamTree = {};
  train.forEach((k, i) => {
    sub[k] = params[k] as tf.Tensor;
    g[k] = grads[i] as tf.Tensor;
  });
  const updated = optimizer.step(sub, g, lr);
  disposeTree(g);
  return { ...params, ...updated };
}

/** Tent (tent.py): entropy minimisation of the BN affine γ, β; batch statistics; never resets. */
class TentAdapter implements Adapter {
  readonly name = "tent";
  private params: ParamTree;
  private readonly keys: string[];
  private readonly optimizer: Optimizer;
  private readonly lr: number;

  constructor(
    private readonly source: SourceModel,
    options: TentOptions,
  ) {
    this.keys = batchNormAffineKeys(source.params);
    if (this.keys.length === 0) throw new Error(`tent adapts batch-norm γ/β, and the ${source.backbone.name} backbone has none: use a BN backbone (model.batch_norm: true for the MLP, or a conv backbone)`);
    this.lr = options.lr ?? 1e-3;
    this.optimizer = createOptimizer(options.optimizer ?? REFERENCE_OPTIMIZER);
    this.params = { ...source.params, ...cloneTree(pick(source.params, this.keys)) };
  }

  step(x: tf.Tensor4D): tf.Tensor2D {
    // The prediction is the forward the loss is taken on (tent.py returns the pre-step outputs).
    let logits: tf.Tensor2D | undefined;
    const next = gradientStep(this.params, this.keys, this.optimizer, this.lr, (p) => {
      const z = logitsOf(this.source, p, x, true);
      logits = tf.keep(tf.clone(z));
      return meanEntropy(z);
    });
    for (const k of this.keys) if (next[k] !== this.params[k]) this.params[k]?.dispose();
    this.params = next;
    return logits as tf.Tensor2D;
  }

  state(): StateValue {
    return { params: pick(this.params, this.keys), optimizer: optimizerState(this.optimizer) };
  }

  loadState(state: StateValue): void {
    const s = state as { params: unknown; optimizer: { step: number; slots: unknown } };
    const loaded = asTree(s.params, "params");
    for (const k of this.keys) this.params[k]?.dispose();
    this.params = { ...this.source.params, ...keepTree(loaded) };
    this.optimizer.setState({ step: s.optimizer.step, slots: keepTree(asTree(s.optimizer.slots, "optimizer.slots")) } as OptimizerState);
  }

  dispose(): void {
    disposeTree(pick(this.params, this.keys));
    this.optimizer.dispose();
  }
}

function pick(tree: ParamTree, keys: readonly string[]): ParamTree {
  const out: ParamTree = {};
  for (const k of keys) out[k] = tree[k] as tf.Tensor;
  return out;
}

/** One CoTTA step's parts, for tests: the gate and the target the student is trained towards. */
export interface CottaTarget {
  /** Mean over the batch of the anchor's max softmax. */
  anchorConfidence: number;
  /** Whether the augmentation average was used (anchorConfidence < p_th). */
  augmented: boolean;
  /** Teacher logits the loss and the prediction use. */
  target: tf.Tensor2D;
}

/**
 * Reference §2.3 step 3: the augmentation-averaged teacher logits when the anchor's mean
 * confidence is under p_th, else the teacher's plain logits. `augmentedLogits` is only called then
 * (the ImageNet code's order; the CIFAR code computes it always and discards it).
 */
export function cottaTarget(anchorLogits: tf.Tensor2D, teacherLogits: tf.Tensor2D, threshold: number, augmentedLogits: () => tf.Tensor2D[]): CottaTarget {
  const anchorConfidence = meanMaxSoftmax(anchorLogits);
  if (anchorConfidence >= threshold) return { anchorConfidence, augmented: false, target: tf.clone(teacherLogits) };
  const aug = augmentedLogits();
  const target = tf.tidy(() => tf.div(tf.addN(aug), aug.length) as tf.Tensor2D);
  tf.dispose(aug);
  return { anchorConfidence, augmented: true, target };
}

/**
 * Steps 5–6 of a CoTTA step, after the optimiser step gave `stepped`: the teacher's EMA with the
 * post-step, pre-restore student, then the stochastic restore of the student (reference F4: the
 * other order gives another teacher). New trees; the inputs are untouched.
 */
export function cottaWeightUpdate(stepped: ParamTree, teacher: ParamTree, source: ParamTree, alpha: number, p: number, uniform: () => number): { student: ParamTree; teacher: ParamTree } {
  const nextTeacher = emaUpdate(teacher, stepped, alpha);
  const student = stochasticRestore(stepped, source, p, uniform);
  return { student, teacher: nextTeacher };
}

/** CoTTA (cotta.py, CIFAR settings): EMA teacher, augmentation-averaged targets, stochastic restore. */
class CottaAdapter implements Adapter {
  readonly name = "cotta";
  private student: ParamTree;
  private teacher: ParamTree;
  private readonly keys: string[];
  private readonly optimizer: Optimizer;
  private readonly lr: number;
  private readonly alpha: number;
  private readonly restore: number;
  private readonly threshold: number;
  private readonly n: number;
  private readonly flip: number;
  /** Batches whose target was the augmentation average (a diagnostic, kept in the state). */
  augmentedBatches = 0;

  constructor(
    private readonly source: SourceModel,
    options: CottaOptions,
    private readonly rng: RandomStreams,
  ) {
    this.keys = treeKeys(source.params); // every weight and bias, BN affine included (configure_model)
    this.lr = options.lr ?? 1e-3;
    this.optimizer = createOptimizer(options.optimizer ?? REFERENCE_OPTIMIZER);
    this.alpha = options.alpha ?? 0.999;
    this.restore = options.restore ?? 0.01;
    this.threshold = options.threshold ?? 0.92;
    this.n = options.augmentations ?? 32;
    this.flip = options.flip ?? 0.5;
    this.student = cloneTree(source.params);
    this.teacher = cloneTree(source.params);
  }

  step(x: tf.Tensor4D): tf.Tensor2D {
    const anchor = logitsOf(this.source, this.source.params, x, true);
    const teacherLogits = logitsOf(this.source, this.teacher, x, true);
    const augment = this.rng.stream("augment");
    const { target, augmented } = cottaTarget(anchor, teacherLogits, this.threshold, () =>
      Array.from({ length: this.n }, () => tf.tidy(() => logitsOf(this.source, this.teacher, cottaAugment(x, augment, { flip: this.flip }), true))),
    );
    tf.dispose([anchor, teacherLogits]);
    if (augmented) this.augmentedBatches++;
    const next = gradientStep(this.student, this.keys, this.optimizer, this.lr, (p) => {
      const s = logitsOf(this.source, p, x, true);
      return softTargetCrossEntropy(target, s);
    });
    disposeTree(this.student);
    const restoreStream = this.rng.stream("restore");
    const updated = cottaWeightUpdate(next, this.teacher, this.source.params, this.alpha, this.restore, () => restoreStream.next());
    disposeTree(next);
    disposeTree(this.teacher);
    this.student = updated.student;
    this.teacher = updated.teacher;
    return target; // the prediction: argmax of the teacher output, computed before the EMA
  }

  state(): StateValue {
    return { student: this.student, teacher: this.teacher, optimizer: optimizerState(this.optimizer), augmentedBatches: this.augmentedBatches };
  }

  loadState(state: StateValue): void {
    const s = state as { student: unknown; teacher: unknown; optimizer: { step: number; slots: unknown }; augmentedBatches: number };
    disposeTree(this.student);
    disposeTree(this.teacher);
    this.student = keepTree(asTree(s.student, "student"));
    this.teacher = keepTree(asTree(s.teacher, "teacher"));
    this.optimizer.setState({ step: s.optimizer.step, slots: keepTree(asTree(s.optimizer.slots, "optimizer.slots")) } as OptimizerState);
    this.augmentedBatches = s.augmentedBatches;
  }

  dispose(): void {
    disposeTree(this.student);
    disposeTree(this.teacher);
    this.optimizer.dispose();
  }
}
