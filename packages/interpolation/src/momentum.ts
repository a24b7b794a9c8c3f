/**
 * Momentum-based weight interpolation (Stojanovski, Roth & Akata 2022; algorithms.md §7.3) as a
 * learner plugin: slow weights start as a copy of the weights at the first task, are updated
 * every `every` optimizer steps as θ_slow ← τ·θ_slow + (1 − τ)·θ, and are swapped in for
 * evaluation (the fast weights are never reset, unlike Lookahead).
 */
import * as tf from "@tensorflow/tfjs";
import { disposeTree, type ModelHandle, type ParamTree, type Plugin, type PluginState } from "@mnemo/core";
import { cloneTree, lerpTree } from "@mnemo/core/tf";
import { ShapeError } from "@mnemo/core/errors";

export interface MomentumInterpolationOptions {
  /** τ: weight of the slow weights (FantasticGains default 0.9999). */
  tau: number;
  /** Update every N optimizer steps (default 1). */
  every?: number;
}

export class MomentumInterpolation implements Plugin {
  readonly name = "momentum-interpolation";
  private slow?: ParamTree;
  private fast?: ParamTree;
  private step = 0;
  private readonly tau: number;
  private readonly every: number;

  constructor(options: MomentumInterpolationOptions) {
    if (!(options.tau >= 0 && options.tau <= 1)) throw new ShapeError(`tau must be in [0, 1], got ${options.tau}`);
    this.tau = options.tau;
    this.every = options.every ?? 1;
    if (!Number.isInteger(this.every) || this.every < 1) throw new ShapeError(`every must be a positive integer, got ${options.every}`);
  }

  /** The current slow weights (owned by the plugin). */
  get slowWeights(): ParamTree | undefined {
    return this.slow;
  }

  onTaskStart({ model }: { model: ModelHandle }): void {
    if (!this.slow) {
      this.slow = cloneTree(model.params);
      return;
    }
    // A grown head: the new rows/columns enter the slow weights as they are in the fast ones; the
    // slow values of the old classes are kept.
    for (const [k, t] of Object.entries(model.params)) {
      const s = this.slow[k];
      if (s && s.shape.join() === t.shape.join()) continue;
      this.slow[k] = s ? growInto(s, t) : t.clone();
      s?.dispose();
    }
    for (const k of Object.keys(this.slow)) {
      if (!(k in model.params)) {
        this.slow[k]?.dispose();
        delete this.slow[k];
      }
    }
  }

  /** Called by the learner after every optimizer step. */
  onStepEnd({ model }: { model: ModelHandle }): void {
    this.update(model.params);
  }

  /** One optimizer step happened with fast weights `params`. */
  update(params: ParamTree): void {
    this.step++;
    if (!this.slow || this.step % this.every !== 0) return;
    // lerpTree(a, b, t) = (1 − t)·a + t·b, so t = 1 − τ gives τ·slow + (1 − τ)·fast.
    const next = lerpTree(this.slow, params, 1 - this.tau);
    disposeTree(this.slow);
    this.slow = next;
  }

  beforeEval(model: ModelHandle): void {
    if (!this.slow) return;
    this.fast = model.params;
    model.params = this.slow;
  }

  afterEval(model: ModelHandle): void {
    if (!this.fast) return;
    model.params = this.fast;
    this.fast = undefined;
  }

  state(): PluginState {
    return { step: this.step, slow: this.slow ?? null };
  }

  loadState(state: PluginState): void {
    disposeTree(this.slow);
    this.step = state.step as number;
    this.slow = (state.slow as ParamTree | null) ?? undefined;
  }

  dispose(): void {
    disposeTree(this.slow);
    this.slow = undefined;
  }
}

/**
 * `fast` with the leading block of `slow` written over it: `slow` is a tensor that grew (every
 * dimension ≤ fast's), e.g. a head weight [d, C] that became [d, C']. Values are selected, not
 * mixed, so both parts are exact copies.
 */
export function growInto(slow: tf.Tensor, fast: tf.Tensor): tf.Tensor {
  if (slow.rank !== fast.rank || slow.shape.some((n, i) => n > (fast.shape[i] as number))) {
    throw new ShapeError(`momentum interpolation: slow weight [${slow.shape.join(", ")}] cannot grow into [${fast.shape.join(", ")}]`);
  }
  return tf.tidy(() => {
    const pad = slow.shape.map((n, i) => [0, (fast.shape[i] as number) - n] as [number, number]);
    const inside = tf.pad(tf.onesLike(slow), pad).cast("bool");
    return tf.where(inside, tf.pad(slow, pad), fast);
  });
}
