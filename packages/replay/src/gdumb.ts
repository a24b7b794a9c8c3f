import { CheckpointError, ShapeError } from "@mnemo/core/errors";
import { OnlineBuffer, type BufferOptions } from "./base.js";
import { isPositiveInt, type SampleFields } from "./layout.js";
import { checkRngState, checkStateHeader, cloneJson, STATE_FORMAT, type BufferState } from "./state.js";

export interface GDumbOptions extends BufferOptions {
  /** M: total samples kept. */
  capacity: number;
  /** Labels must lie in [0, numClasses). */
  numClasses: number;
}

export interface GDumbMeta {
  seen: number;
  /** Stored slots of each label (index = label). */
  classSlots: number[][];
}

export type GDumbState = BufferState<"gdumb", GDumbMeta>;

/**
 * GDumb's greedy class balancer (Prabhu et al. 2020, algorithms.md §3.2): while not full, store everything;
 * once full, a sample whose class has fewer stored items than the largest class evicts a uniformly random
 * item of a largest class (ties between largest classes broken by the seeded stream); otherwise it is
 * dropped. Only a largest class ever loses items, so counts converge to within one of each other.
 * (The official repo instead keeps the first ⌊M/#classes⌋ samples per class offline; this is the paper rule.)
 */
export class GDumbBuffer extends OnlineBuffer {
  private readonly classSlots: number[][];
  private n = 0;

  constructor(options: GDumbOptions) {
    if (!isPositiveInt(options.numClasses)) {
      throw new ShapeError(`GDumbBuffer: numClasses must be a positive integer, got ${options.numClasses}`);
    }
    super("GDumbBuffer", options, options.capacity, options.numClasses);
    this.classSlots = Array.from({ length: options.numClasses }, () => []);
  }

  /** Samples offered so far. */
  get seen(): number {
    return this.n;
  }

  /** Stored samples of `label`. */
  countOf(label: number): number {
    this.store.checkLabel(label);
    return (this.classSlots[label] as number[]).length;
  }

  protected insert(images: Uint8Array, labels: ArrayLike<number>, fields: SampleFields | undefined, index: number): number {
    const label = labels[index] as number;
    const mine = this.classSlots[label] as number[];
    this.n++;
    let slot: number;
    if (this.size < this.capacity) {
      slot = this.store.alloc();
    } else {
      let max = 0;
      let ties = 0;
      for (const s of this.classSlots) {
        if (s.length > max) {
          max = s.length;
          ties = 1;
        } else if (s.length === max) ties++;
      }
      if (mine.length >= max) return -1;
      // Pick the t-th largest class (in label order), t uniform over the ties.
      let t = ties > 1 ? this.rng.int(ties) : 0;
      let victimClass: number[] = [];
      for (const s of this.classSlots) {
        if (s.length === max && t-- === 0) {
          victimClass = s;
          break;
        }
      }
      const j = this.rng.int(victimClass.length);
      slot = victimClass[j] as number;
      victimClass[j] = victimClass[victimClass.length - 1] as number;
      victimClass.pop();
    }
    mine.push(slot);
    this.store.write(slot, images, labels, fields, index);
    return slot;
  }

  state(): GDumbState {
    return {
      format: STATE_FORMAT,
      kind: "gdumb",
      layout: this.store.layoutState(),
      meta: cloneJson({ seen: this.n, classSlots: this.classSlots, rng: this.rng.getState() }),
      arrays: this.store.exportArrays(),
    };
  }

  /** Restores a `state()` taken from a buffer built with the same options; later behaviour is identical. */
  load(state: GDumbState): void {
    const owner = "GDumbBuffer";
    checkStateHeader(state, "gdumb", owner);
    const rng = checkRngState(state.meta?.rng, owner);
    const { seen, classSlots } = state.meta;
    const stored = Array.isArray(classSlots) ? classSlots.reduce((a, s) => a + s.length, 0) : -1;
    if (
      !Number.isSafeInteger(seen) ||
      !Array.isArray(classSlots) ||
      classSlots.length !== this.classSlots.length ||
      stored !== state.arrays?.occupied?.length ||
      seen < stored
    ) {
      throw new CheckpointError(`${owner}: checkpoint bookkeeping (seen/classSlots) does not match its stored samples or numClasses`);
    }
    this.store.importArrays(state.layout, state.arrays);
    this.rng.setState(rng);
    this.n = seen;
    classSlots.forEach((s, c) => (this.classSlots[c] = [...s]));
  }
}
