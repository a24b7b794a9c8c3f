import { CheckpointError, ShapeError } from "@mnemo/core/errors";
import { BufferBase, type BufferOptions } from "./base.js";
import { checkHerdingOptions, herdingSelection, type HerdingOptions } from "./herding.js";
import { isPositiveInt, type SampleFields } from "./layout.js";
import { canonicalPolicy, checkPolicy, classQuota, policyCapacity, type MemoryPolicy } from "./policy.js";
import { checkRngState, checkStateHeader, cloneJson, STATE_FORMAT, type BufferState } from "./state.js";

export interface HerdingMemoryOptions extends BufferOptions {
  /** Labels must lie in [0, numClasses); also sizes the slab for per-class and ceil policies. */
  numClasses: number;
  policy: MemoryPolicy;
  /** Herding rule and feature normalisation (defaults: PyCIL rule, L2-normalised features). */
  herding?: HerdingOptions;
}

/** The samples of one new class: n packed images, one feature row each, and the declared fields (packed). */
export interface ClassData {
  images: Uint8Array;
  features: readonly Float32Array[];
  fields?: SampleFields;
}

export interface HerdingMeta {
  policy: MemoryPolicy;
  classOrder: number[];
  /** Per class (in classOrder): stored slots in selection order, and the matching indices into its ClassData. */
  classSlots: number[][];
  classPicks: number[][];
}

export type HerdingState = BufferState<"herding", HerdingMeta>;

/**
 * iCaRL exemplar memory. Each class is herded once, when it arrives (with the network trained on its task);
 * its exemplars are kept in selection order, and when later classes shrink its quota the memory keeps the
 * prefix of that order (PyCIL `_reduce_exemplar`, Mammoth, Continuum), never re-herding old classes.
 * The random stream is used only by `sample`.
 */
export class HerdingMemory extends BufferBase {
  readonly policy: MemoryPolicy;
  private readonly herding: HerdingOptions;
  private readonly numClasses: number;
  private readonly orderIndex: Int32Array;
  private classOrder: number[] = [];
  private classSlots: number[][] = [];
  private classPicks: number[][] = [];

  constructor(options: HerdingMemoryOptions) {
    checkPolicy(options.policy, "HerdingMemory");
    checkHerdingOptions(options.herding ?? {}, "HerdingMemory");
    if (!isPositiveInt(options.numClasses)) {
      throw new ShapeError(`HerdingMemory: numClasses must be a positive integer, got ${options.numClasses}`);
    }
    super("HerdingMemory", options, policyCapacity(options.policy, options.numClasses), options.numClasses);
    this.policy = canonicalPolicy(options.policy);
    this.herding = { ...options.herding };
    this.numClasses = options.numClasses;
    this.orderIndex = new Int32Array(options.numClasses).fill(-1);
  }

  /** Labels added so far, in order. */
  classes(): readonly number[] {
    return [...this.classOrder];
  }

  /** Stored exemplar slots of `label`, in herding order (empty for an unknown class). */
  exemplarSlots(label: number): readonly number[] {
    this.store.checkLabel(label);
    const i = this.orderIndex[label] as number;
    return i < 0 ? [] : [...(this.classSlots[i] as number[])];
  }

  /** For each stored exemplar of `label`, its index in the `ClassData` given to `addClass`, in herding order. */
  exemplarOrder(label: number): readonly number[] {
    this.store.checkLabel(label);
    const i = this.orderIndex[label] as number;
    return i < 0 ? [] : [...(this.classPicks[i] as number[])];
  }

  /**
   * Adds a new class: first cuts every stored class to its quota for k+1 classes (keeping the prefix), then
   * herds min(quota, n) exemplars of the new class and stores them. Returns the picked indices in order.
   */
  addClass(label: number, data: ClassData): number[] {
    this.store.checkLabel(label);
    if ((this.orderIndex[label] as number) >= 0) {
      throw new ShapeError(`HerdingMemory: class ${label} was already added; a class is herded once (old sets are only truncated)`);
    }
    const n = data.features.length;
    if (n === 0) throw new ShapeError(`HerdingMemory: class ${label} has no samples`);
    const labels = new Int32Array(n).fill(label);
    this.store.checkBatch({ images: data.images, labels, fields: data.fields });
    const k = this.classOrder.length + 1;
    const quota = classQuota(this.policy, k, k - 1);
    const picks = herdingSelection(data.features, Math.min(quota, n), this.herding);
    for (let i = 0; i < k - 1; i++) this.truncate(i, classQuota(this.policy, k, i));
    const slots: number[] = [];
    for (const p of picks) {
      const slot = this.store.alloc();
      this.store.write(slot, data.images, labels, data.fields, p);
      slots.push(slot);
    }
    this.orderIndex[label] = k - 1;
    this.classOrder.push(label);
    this.classSlots.push(slots);
    this.classPicks.push([...picks]);
    return picks;
  }

  private truncate(ci: number, quota: number): void {
    const slots = this.classSlots[ci] as number[];
    const picks = this.classPicks[ci] as number[];
    while (slots.length > quota) {
      this.store.release(slots.pop() as number);
      picks.pop();
    }
  }

  state(): HerdingState {
    return {
      format: STATE_FORMAT,
      kind: "herding",
      layout: this.store.layoutState(),
      meta: cloneJson({
        policy: this.policy,
        classOrder: this.classOrder,
        classSlots: this.classSlots,
        classPicks: this.classPicks,
        rng: this.rng.getState(),
      }),
      arrays: this.store.exportArrays(),
    };
  }

  /** Restores a `state()` taken from a memory built with the same options. */
  load(state: HerdingState): void {
    const owner = "HerdingMemory";
    checkStateHeader(state, "herding", owner);
    const rng = checkRngState(state.meta?.rng, owner);
    const { policy, classOrder, classSlots, classPicks } = state.meta;
    if (JSON.stringify(policy) !== JSON.stringify(this.policy)) {
      throw new CheckpointError(
        `${owner}: checkpoint policy ${JSON.stringify(policy)} differs from this memory's ${JSON.stringify(this.policy)}`,
      );
    }
    const k = Array.isArray(classOrder) ? classOrder.length : -1;
    const ok =
      k >= 0 &&
      Array.isArray(classSlots) &&
      Array.isArray(classPicks) &&
      classSlots.length === k &&
      classPicks.length === k &&
      new Set(classOrder).size === k &&
      classOrder.every((c) => Number.isInteger(c) && c >= 0 && c < this.numClasses) &&
      classSlots.every((s, i) => s.length === (classPicks[i] as number[]).length) &&
      classSlots.reduce((a, s) => a + s.length, 0) === state.arrays?.occupied?.length;
    if (!ok) throw new CheckpointError(`${owner}: checkpoint class bookkeeping is inconsistent (classOrder/classSlots/classPicks)`);
    this.store.importArrays(state.layout, state.arrays);
    this.rng.setState(rng);
    this.classOrder = [...classOrder];
    this.classSlots = classSlots.map((s) => [...s]);
    this.classPicks = classPicks.map((s) => [...s]);
    this.orderIndex.fill(-1);
    classOrder.forEach((c, i) => (this.orderIndex[c] = i));
  }
}
