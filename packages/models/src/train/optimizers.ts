/**
 * Optimizers as pure updates on ParamTrees (PyTorch semantics, so published hyper-parameters
 * transfer): their state is a ParamTree too, which makes checkpoints and resume trivial.
 */
import * as tf from "@tensorflow/tfjs";
import { CheckpointError, disposeTree, type ParamTree, treeKeys } from "@mnemo/core";

export interface SgdConfig {
  name: "sgd";
  momentum?: number;
  nesterov?: boolean;
  weightDecay?: number;
}

export interface AdamConfig {
  name: "adam";
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  /** L2 penalty added to the gradient (torch.optim.Adam); set `decoupled` for AdamW. */
  weightDecay?: number;
  decoupled?: boolean;
}

export type OptimizerConfig = SgdConfig | AdamConfig;

export interface OptimizerState {
  step: number;
  slots: ParamTree;
}

export interface Optimizer {
  readonly config: OptimizerConfig;
  /** Returns new parameters; the caller disposes the old ones. `grads` are not disposed. */
  step(params: ParamTree, grads: ParamTree, lr: number): ParamTree;
  getState(): OptimizerState;
  /** Takes ownership of the state's tensors. */
  setState(state: OptimizerState): void;
  dispose(): void;
}

export function createOptimizer(config: OptimizerConfig): Optimizer {
  return config.name === "sgd" ? new Sgd(config) : new Adam(config);
}

abstract class SlotOptimizer implements Optimizer {
  protected slots: ParamTree = {};
  protected t = 0;
  abstract readonly config: OptimizerConfig;
  abstract step(params: ParamTree, grads: ParamTree, lr: number): ParamTree;

  protected slot(name: string, like: tf.Tensor): tf.Tensor {
    let s = this.slots[name];
    if (!s || s.shape.join() !== like.shape.join()) {
      // A grown head changes shape: its momentum restarts from zero.
      s?.dispose();
      s = tf.keep(tf.zerosLike(like));
      this.slots[name] = s;
    }
    return s;
  }

  protected setSlot(name: string, value: tf.Tensor): void {
    this.slots[name]?.dispose();
    this.slots[name] = tf.keep(value);
  }

  getState(): OptimizerState {
    return { step: this.t, slots: this.slots };
  }

  setState(state: OptimizerState): void {
    if (!Number.isInteger(state.step) || state.step < 0) throw new CheckpointError(`optimizer step must be a non-negative integer, got ${state.step}`);
    disposeTree(this.slots);
    this.slots = { ...state.slots };
    this.t = state.step;
  }

  dispose(): void {
    disposeTree(this.slots);
    this.slots = {};
  }
}

class Sgd extends SlotOptimizer {
  readonly config: SgdConfig;
  constructor(config: SgdConfig) {
    super();
    this.config = config;
  }
  step(params: ParamTree, grads: ParamTree, lr: number): ParamTree {
    const mu = this.config.momentum ?? 0;
    const wd = this.config.weightDecay ?? 0;
    const out: ParamTree = {};
    this.t++;
    for (const k of treeKeys(params)) {
      const p = params[k] as tf.Tensor;
      const g0 = grads[k];
      if (!g0) {
        out[k] = p; // frozen parameter: shared, not copied
        continue;
      }
      out[k] = tf.tidy(() => {
        let g = wd > 0 ? tf.add(g0, tf.mul(p, wd)) : g0;
        if (mu > 0) {
          // The slot starts at zero, so the first buffer is g, as torch's clone of the first gradient.
          const v = tf.add(tf.mul(this.slot(`${k}.momentum`, p), mu), g);
          this.setSlot(`${k}.momentum`, v.clone());
          g = this.config.nesterov ? tf.add(g, tf.mul(v, mu)) : v;
        }
        return tf.sub(p, tf.mul(g, lr));
      });
    }
    return out;
  }
}

class Adam extends SlotOptimizer {
  readonly config: AdamConfig;
  constructor(config: AdamConfig) {
    super();
    this.config = config;
  }
  step(params: ParamTree, grads: ParamTree, lr: number): ParamTree {
    const b1 = this.config.beta1 ?? 0.9;
    const b2 = this.config.beta2 ?? 0.999;
    const eps = this.config.epsilon ?? 1e-8;
    const wd = this.config.weightDecay ?? 0;
    this.t++;
    const bc1 = 1 - b1 ** this.t;
    const bc2 = 1 - b2 ** this.t;
    const out: ParamTree = {};
    for (const k of treeKeys(params)) {
      const p = params[k] as tf.Tensor;
      const g0 = grads[k];
      if (!g0) {
        out[k] = p;
        continue;
      }
      out[k] = tf.tidy(() => {
        const g = wd > 0 && !this.config.decoupled ? tf.add(g0, tf.mul(p, wd)) : g0;
        const m = tf.add(tf.mul(this.slot(`${k}.m`, p), b1), tf.mul(g, 1 - b1));
        const v = tf.add(tf.mul(this.slot(`${k}.v`, p), b2), tf.mul(tf.square(g), 1 - b2));
        this.setSlot(`${k}.m`, m.clone());
        this.setSlot(`${k}.v`, v.clone());
        const update = tf.div(tf.div(m, bc1), tf.add(tf.sqrt(tf.div(v, bc2)), eps));
        const base = wd > 0 && this.config.decoupled ? tf.mul(p, 1 - lr * wd) : p;
        return tf.sub(base, tf.mul(update, lr));
      });
    }
    return out;
  }
}
