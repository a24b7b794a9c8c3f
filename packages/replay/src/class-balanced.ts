import { CheckpointError, ShapeError } from "@mnemo/core/errors";
import { OnlineBuffer, type BufferOptions } from "./base.js";
import type { SampleFields } from "./layout.js";
import { canonicalPolicy, checkPolicy, classQuota, policyCapacity, type MemoryPolicy } from "./policy.js";
import { checkRngState, checkStateHeader, cloneJson, STATE_FORMAT, type BufferState } from "./state.js";

export interface ClassBalancedOptions extends BufferOptions {
  /** Labels must lie in [0, numClasses); also sizes the slab for per-class and ceil policies. */
  numClasses: number;
  policy: MemoryPolicy;
}

export interface ClassBalancedMeta {
  policy: MemoryPolicy;
  /** Labels in order of first appearance (fixes who gets the remainder under "floor-spread"). */
  classOrder: number[];
  /** Per label in classOrder: its stored slots, and how many samples of it were offered. */
  classSlots: number[][];
  classSeen: number[];
}

export type ClassBalancedState = BufferState<"class-balanced", ClassBalancedMeta>;

/**
 * Quota + per-class reservoir (algorithms.md §3.2; Avalanche `ClassBalancedBuffer`, but online per sample).
 * Class c keeps a reservoir of size quota(c) over its own samples. When a new class appears, quotas are
 * recomputed and every class above its new quota drops uniformly random items down to it; a uniform subset
 * of a reservoir is still a reservoir, so the per-class inclusion probability stays min(1, quota/n_c).
 * Invariant: count(c) = min(samples of c offered, quota(c)).
 */
export class ClassBalancedBuffer extends OnlineBuffer {
  readonly policy: MemoryPolicy;
  private readonly numClasses: number;
  private readonly orderIndex: Int32Array;
  private classOrder: number[] = [];
  private classSlots: number[][] = [];
  private classSeen: number[] = [];

  constructor(options: ClassBalancedOptions) {
    checkPolicy(options.policy, "ClassBalancedBuffer");
    if (!Number.isSafeInteger(options.numClasses) || options.numClasses <= 0) {
      throw new ShapeError(`ClassBalancedBuffer: numClasses must be a positive integer, got ${options.numClasses}`);
    }
    super("ClassBalancedBuffer", options, policyCapacity(options.policy, options.numClasses), options.numClasses);
    this.policy = canonicalPolicy(options.policy);
    this.numClasses = options.numClasses;
    this.orderIndex = new Int32Array(options.numClasses).fill(-1);
  }

  /** Labels seen so far, in order of first appearance. */
  classes(): readonly number[] {
    return [...this.classOrder];
  }

  /** Stored samples of `label` (0 for an unseen class). */
  countOf(label: number): number {
    this.store.checkLabel(label);
    const i = this.orderIndex[label] as number;
    return i < 0 ? 0 : (this.classSlots[i] as number[]).length;
  }

  /** Current quota of `label` (0 for an unseen class). */
  quotaOf(label: number): number {
    this.store.checkLabel(label);
    const i = this.orderIndex[label] as number;
    return i < 0 ? 0 : classQuota(this.policy, this.classOrder.length, i);
  }

  protected insert(images: Uint8Array, labels: ArrayLike<number>, fields: SampleFields | undefined, index: number): number {
    const label = labels[index] as number;
    let ci = this.orderIndex[label] as number;
    if (ci < 0) ci = this.addClass(label);
    const slots = this.classSlots[ci] as number[];
    const quota = classQuota(this.policy, this.classOrder.length, ci);
    const seen = this.classSeen[ci] as number;
    this.classSeen[ci] = seen + 1;
    let slot = -1;
    if (slots.length < quota) {
      slot = this.store.alloc();
      slots.push(slot);
    } else if (quota > 0) {
      const r = this.rng.int(seen + 1); // Algorithm R within the class: r ∈ {0..n_c}
      if (r < slots.length) slot = slots[r] as number;
    }
    if (slot >= 0) this.store.write(slot, images, labels, fields, index);
    return slot;
  }

  private addClass(label: number): number {
    const ci = this.classOrder.length;
    this.classOrder.push(label);
    this.classSlots.push([]);
    this.classSeen.push(0);
    this.orderIndex[label] = ci;
    const k = this.classOrder.length;
    for (let i = 0; i < ci; i++) {
      const slots = this.classSlots[i] as number[];
      const quota = classQuota(this.policy, k, i);
      while (slots.length > quota) {
        const j = this.rng.int(slots.length);
        const victim = slots[j] as number;
        slots[j] = slots[slots.length - 1] as number;
        slots.pop();
        this.store.release(victim);
      }
    }
    return ci;
  }

  state(): ClassBalancedState {
    return {
      format: STATE_FORMAT,
      kind: "class-balanced",
      layout: this.store.layoutState(),
      meta: cloneJson({
        policy: this.policy,
        classOrder: this.classOrder,
        classSlots: this.classSlots,
        classSeen: this.classSeen,
        rng: this.rng.getState(),
      }),
      arrays: this.store.exportArrays(),
    };
  }

  /** Restores a `state()` taken from a buffer built with the same options; later behaviour is identical. */
  load(state: ClassBalancedState): void {
    const owner = "ClassBalancedBuffer";
    checkStateHeader(state, "class-balanced", owner);
    const rng = checkRngState(state.meta?.rng, owner);
    const { classOrder, classSlots, classSeen, policy } = state.meta;
    if (JSON.stringify(policy) !== JSON.stringify(this.policy)) {
      throw new CheckpointError(
        `${owner}: checkpoint policy ${JSON.stringify(policy)} differs from this buffer's ${JSON.stringify(this.policy)}`,
      );
    }
    const k = Array.isArray(classOrder) ? classOrder.length : -1;
    const ok =
      k >= 0 &&
      Array.isArray(classSlots) &&
      Array.isArray(classSeen) &&
      classSlots.length === k &&
      classSeen.length === k &&
      new Set(classOrder).size === k &&
      classOrder.every((c) => Number.isInteger(c) && c >= 0 && c < this.numClasses) &&
      classSeen.every((n, i) => Number.isSafeInteger(n) && n >= (classSlots[i] as number[]).length) &&
      classSlots.reduce((a, s) => a + s.length, 0) === state.arrays?.occupied?.length;
    if (!ok) throw new CheckpointError(`${owner}: checkpoint class bookkeeping is inconsistent (classOrder/classSlots/classSeen)`);
    this.store.importArrays(state.layout, state.arrays);
    this.rng.setState(rng);
    this.classOrder = [...classOrder];
    this.classSlots = classSlots.map((s) => [...s]);
    this.classSeen = [...classSeen];
    this.orderIndex.fill(-1);
    classOrder.forEach((c, i) => (this.orderIndex[c] = i));
  }
}
