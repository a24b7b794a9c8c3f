import { CheckpointError, ShapeError } from "@mnemo/core/errors";
import { type RandomStream } from "@mnemo/core/rng";
import {
  fieldArray,
  isPositiveInt,
  normaliseLayout,
  type FieldArray,
  type FieldSpec,
  type ReplayBatch,
  type SampleBatchInput,
  type SampleFields,
  type SampleLayout,
} from "./layout.js";

/** Typed arrays of a store, as saved in a checkpoint (copies, never views of the live slab). */
export interface StoreArrays {
  images: Uint8Array;
  labels: Int32Array;
  fields: Record<string, FieldArray>;
  /** Occupied slots, in the order the sampler sees them. */
  occupied: Int32Array;
  /** Free slots, as a stack (the last one is handed out next). */
  free: Int32Array;
}

/** JSON-able description of a store's layout; `load` refuses a state whose layout differs. */
export interface StoreLayoutState {
  sampleShape: number[];
  fields: Record<string, FieldSpec>;
  capacity: number;
  numClasses: number | null;
}

/**
 * Fixed-capacity sample storage: one preallocated uint8 slab of capacity × sampleBytes, labels in an
 * Int32Array and one typed array per extra field. Inserting is a copy into a slot; nothing is allocated
 * per sample. Occupied slots are kept in a dense list (with each slot's position) so that uniform
 * sampling and eviction are O(1) per item whatever the fill pattern.
 */
export class SampleStore {
  readonly owner: string;
  readonly capacity: number;
  readonly sampleShape: readonly number[];
  readonly sampleBytes: number;
  readonly fieldSpecs: Readonly<Record<string, FieldSpec>>;
  readonly numClasses: number | null;
  readonly images: Uint8Array;
  readonly labels: Int32Array;
  readonly fields: Readonly<Record<string, FieldArray>>;
  private readonly fieldNames: string[];
  private readonly occupied: Int32Array;
  private readonly position: Int32Array;
  private readonly freeStack: Int32Array;
  private freeTop: number;
  private count = 0;

  constructor(owner: string, layout: SampleLayout, capacity: number, numClasses: number | null) {
    this.owner = owner;
    if (!isPositiveInt(capacity)) {
      throw new ShapeError(`${owner}: capacity must be a positive integer number of samples, got ${capacity}`);
    }
    if (numClasses !== null && (!isPositiveInt(numClasses) || numClasses > 0x7fffffff)) {
      throw new ShapeError(`${owner}: numClasses must be a positive integer, got ${numClasses}`);
    }
    const norm = normaliseLayout(layout, owner);
    this.capacity = capacity;
    this.sampleShape = norm.sampleShape;
    this.sampleBytes = norm.sampleBytes;
    this.fieldSpecs = norm.fields;
    this.fieldNames = Object.keys(norm.fields);
    this.numClasses = numClasses;
    const bytes = capacity * norm.sampleBytes;
    if (!Number.isSafeInteger(bytes) || bytes > 2 ** 32) {
      throw new ShapeError(
        `${owner}: capacity × sampleBytes = ${capacity} × ${norm.sampleBytes} bytes is too large for one slab; lower the capacity`,
      );
    }
    this.images = new Uint8Array(bytes);
    this.labels = new Int32Array(capacity);
    const fields: Record<string, FieldArray> = {};
    for (const name of this.fieldNames) {
      const spec = norm.fields[name] as FieldSpec;
      fields[name] = fieldArray(spec.type, capacity * spec.width);
    }
    this.fields = fields;
    this.occupied = new Int32Array(capacity);
    this.position = new Int32Array(capacity).fill(-1);
    // Stack popped from the end: slots come out 0, 1, 2, ... on a fresh store (reservoir relies on it).
    this.freeStack = new Int32Array(capacity);
    for (let i = 0; i < capacity; i++) this.freeStack[i] = capacity - 1 - i;
    this.freeTop = capacity;
  }

  get size(): number {
    return this.count;
  }

  /** Takes a free slot (lowest-numbered on a fresh store). */
  alloc(): number {
    if (this.freeTop === 0) throw new Error(`${this.owner}: internal error, no free slot (size ${this.count})`);
    const slot = this.freeStack[--this.freeTop] as number;
    this.position[slot] = this.count;
    this.occupied[this.count++] = slot;
    return slot;
  }

  /** Returns a slot to the free list (its bytes are left as they are and overwritten on reuse). */
  release(slot: number): void {
    const pos = this.position[slot] as number;
    if (pos < 0) throw new Error(`${this.owner}: internal error, slot ${slot} released twice`);
    const last = this.occupied[--this.count] as number;
    this.occupied[pos] = last;
    this.position[last] = pos;
    this.position[slot] = -1;
    this.freeStack[this.freeTop++] = slot;
  }

  /** Checks a label against the contract (int32, non-negative, below numClasses when known). */
  checkLabel(label: number): void {
    if (!Number.isInteger(label) || label < 0 || label > 0x7fffffff) {
      throw new ShapeError(`${this.owner}: label must be a non-negative integer, got ${label}`);
    }
    if (this.numClasses !== null && label >= this.numClasses) {
      throw new ShapeError(`${this.owner}: label ${label} is out of range [0, ${this.numClasses}); raise numClasses or remap labels`);
    }
  }

  /** Validates a batch and returns its sample count (validation happens before any state changes). */
  checkBatch(batch: SampleBatchInput): number {
    const n = batch.labels.length;
    if (batch.images.length !== n * this.sampleBytes) {
      throw new ShapeError(
        `${this.owner}: images has ${batch.images.length} bytes but ${n} labels × ${this.sampleBytes} bytes per sample (shape [${this.sampleShape.join(", ")}]) = ${n * this.sampleBytes}`,
      );
    }
    for (let i = 0; i < n; i++) this.checkLabel(batch.labels[i] as number);
    this.checkFields(batch.fields, n);
    return n;
  }

  /** Validates a single sample. */
  checkSample(image: Uint8Array, label: number, fields: SampleFields | undefined): void {
    if (image.length !== this.sampleBytes) {
      throw new ShapeError(
        `${this.owner}: sample has ${image.length} bytes, expected ${this.sampleBytes} (uint8 image of shape [${this.sampleShape.join(", ")}])`,
      );
    }
    this.checkLabel(label);
    this.checkFields(fields, 1);
  }

  private checkFields(fields: SampleFields | undefined, n: number): void {
    for (const name of this.fieldNames) {
      const values = fields?.[name];
      const width = (this.fieldSpecs[name] as FieldSpec).width;
      if (values === undefined) {
        throw new ShapeError(`${this.owner}: field "${name}" was declared at construction and must be given with every sample`);
      }
      if (values.length !== n * width) {
        throw new ShapeError(`${this.owner}: field "${name}" has ${values.length} values, expected ${n} × ${width} = ${n * width}`);
      }
    }
    for (const name of Object.keys(fields ?? {})) {
      if (!(name in this.fieldSpecs)) {
        const known = this.fieldNames.length > 0 ? this.fieldNames.join(", ") : "none";
        throw new ShapeError(`${this.owner}: unknown field "${name}" (declared fields: ${known}); declare it in the constructor's layout`);
      }
    }
  }

  /** Copies sample `index` of a packed batch into `slot`. Inputs must already be validated. */
  write(slot: number, images: Uint8Array, labels: ArrayLike<number>, fields: SampleFields | undefined, index: number): void {
    const sb = this.sampleBytes;
    this.images.set(images.subarray(index * sb, index * sb + sb), slot * sb);
    this.labels[slot] = labels[index] as number;
    for (const name of this.fieldNames) {
      const width = (this.fieldSpecs[name] as FieldSpec).width;
      const dst = this.fields[name] as FieldArray;
      const src = (fields as SampleFields)[name] as ArrayLike<number>;
      const from = index * width;
      const to = slot * width;
      for (let k = 0; k < width; k++) dst[to + k] = src[from + k] as number;
    }
  }

  /** Output arrays sized for `b` samples. */
  createBatch(b: number): ReplayBatch {
    if (!isPositiveInt(b)) throw new ShapeError(`${this.owner}: batch size must be a positive integer, got ${b}`);
    const fields: Record<string, FieldArray> = {};
    for (const name of this.fieldNames) {
      const spec = this.fieldSpecs[name] as FieldSpec;
      fields[name] = fieldArray(spec.type, b * spec.width);
    }
    return { images: new Uint8Array(b * this.sampleBytes), labels: new Int32Array(b), slots: new Int32Array(b), fields };
  }

  /**
   * Writes min(b, size) distinct occupied slots, uniformly without replacement, into `out`; returns the count.
   * Partial Fisher-Yates over the dense occupied list: O(b) draws and copies, no allocation besides subarray views.
   */
  sample(rng: RandomStream, b: number, out: ReplayBatch): number {
    if (!isPositiveInt(b)) throw new ShapeError(`${this.owner}: batch size must be a positive integer, got ${b}`);
    this.checkOut(out, b);
    const take = Math.min(b, this.count);
    const sb = this.sampleBytes;
    for (let i = 0; i < take; i++) {
      const j = i + rng.int(this.count - i);
      const slot = this.occupied[j] as number;
      if (j !== i) {
        const other = this.occupied[i] as number;
        this.occupied[i] = slot;
        this.position[slot] = i;
        this.occupied[j] = other;
        this.position[other] = j;
      }
      out.images.set(this.images.subarray(slot * sb, slot * sb + sb), i * sb);
      out.labels[i] = this.labels[slot] as number;
      out.slots[i] = slot;
      for (const name of this.fieldNames) {
        const width = (this.fieldSpecs[name] as FieldSpec).width;
        const src = this.fields[name] as FieldArray;
        (out.fields[name] as FieldArray).set(src.subarray(slot * width, slot * width + width), i * width);
      }
    }
    return take;
  }

  private checkOut(out: ReplayBatch, b: number): void {
    const short = (what: string, have: number, need: number): never => {
      throw new ShapeError(
        `${this.owner}: output ${what} holds ${have} values but batch size ${b} needs ${need}; build it with createBatch(${b})`,
      );
    };
    if (out.images.length < b * this.sampleBytes) short("images", out.images.length, b * this.sampleBytes);
    if (out.labels.length < b) short("labels", out.labels.length, b);
    if (out.slots.length < b) short("slots", out.slots.length, b);
    for (const name of this.fieldNames) {
      const spec = this.fieldSpecs[name] as FieldSpec;
      const arr = out.fields[name];
      if (arr === undefined) short(`field "${name}"`, 0, b * spec.width);
      else if (arr.length < b * spec.width) short(`field "${name}"`, arr.length, b * spec.width);
    }
  }

  /** The bytes of one stored image (a view into the slab: copy it if you keep it past the next insert). */
  imageAt(slot: number): Uint8Array {
    this.checkSlot(slot);
    return this.images.subarray(slot * this.sampleBytes, (slot + 1) * this.sampleBytes);
  }

  labelAt(slot: number): number {
    this.checkSlot(slot);
    return this.labels[slot] as number;
  }

  /** One stored field of one slot (a view, like `imageAt`); writable, e.g. to refresh DER++ logits. */
  fieldAt(name: string, slot: number): FieldArray {
    this.checkSlot(slot);
    const spec = this.fieldSpecs[name];
    if (spec === undefined) throw new ShapeError(`${this.owner}: no field "${name}" (declared: ${this.fieldNames.join(", ") || "none"})`);
    return (this.fields[name] as FieldArray).subarray(slot * spec.width, (slot + 1) * spec.width);
  }

  /** Occupied slots in sampler order (a copy). */
  occupiedSlots(): Int32Array {
    return this.occupied.slice(0, this.count);
  }

  isOccupied(slot: number): boolean {
    return slot >= 0 && slot < this.capacity && (this.position[slot] as number) >= 0;
  }

  private checkSlot(slot: number): void {
    if (!this.isOccupied(slot))
      throw new ShapeError(`${this.owner}: slot ${slot} is not occupied (size ${this.count}, capacity ${this.capacity})`);
  }

  /** Bytes of every typed array this store owns (slab, labels, fields and slot bookkeeping). */
  byteSize(): number {
    let total = this.images.byteLength + this.labels.byteLength;
    for (const name of this.fieldNames) total += (this.fields[name] as FieldArray).byteLength;
    return total + this.occupied.byteLength + this.position.byteLength + this.freeStack.byteLength;
  }

  layoutState(): StoreLayoutState {
    return { sampleShape: [...this.sampleShape], fields: { ...this.fieldSpecs }, capacity: this.capacity, numClasses: this.numClasses };
  }

  exportArrays(): StoreArrays {
    const fields: Record<string, FieldArray> = {};
    for (const name of this.fieldNames) fields[name] = (this.fields[name] as FieldArray).slice();
    return {
      images: this.images.slice(),
      labels: this.labels.slice(),
      fields,
      occupied: this.occupied.slice(0, this.count),
      free: this.freeStack.slice(0, this.freeTop),
    };
  }

  /** Restores from `exportArrays()` after checking the layout matches; copies, so the state stays reusable. */
  importArrays(layout: StoreLayoutState, arrays: StoreArrays): void {
    const mine = this.layoutState();
    if (JSON.stringify(canonicalLayout(layout)) !== JSON.stringify(canonicalLayout(mine))) {
      throw new CheckpointError(
        `${this.owner}: checkpoint layout ${JSON.stringify(canonicalLayout(layout))} does not match this buffer's ${JSON.stringify(canonicalLayout(mine))}; construct the buffer with the options used when saving`,
      );
    }
    const cap = this.capacity;
    const bad = (what: string): never => {
      throw new CheckpointError(`${this.owner}: checkpoint array "${what}" is missing or has the wrong type or length`);
    };
    if (!(arrays.images instanceof Uint8Array) || arrays.images.length !== this.images.length) bad("images");
    if (!(arrays.labels instanceof Int32Array) || arrays.labels.length !== cap) bad("labels");
    if (!(arrays.occupied instanceof Int32Array) || !(arrays.free instanceof Int32Array)) bad("occupied/free");
    if (arrays.occupied.length + arrays.free.length !== cap) bad("occupied/free");
    const seen = new Uint8Array(cap);
    for (const list of [arrays.occupied, arrays.free]) {
      for (const s of list) {
        if (!(s >= 0 && s < cap) || seen[s] === 1) bad("occupied/free");
        seen[s] = 1;
      }
    }
    for (const name of this.fieldNames) {
      const src = arrays.fields?.[name];
      const dst = this.fields[name] as FieldArray;
      if (src === undefined || src.constructor !== dst.constructor || src.length !== dst.length) bad(`fields.${name}`);
    }
    this.images.set(arrays.images);
    this.labels.set(arrays.labels);
    for (const name of this.fieldNames) (this.fields[name] as FieldArray).set(arrays.fields[name] as FieldArray);
    this.position.fill(-1);
    this.count = arrays.occupied.length;
    this.occupied.set(arrays.occupied);
    for (let i = 0; i < this.count; i++) this.position[arrays.occupied[i] as number] = i;
    this.freeTop = arrays.free.length;
    this.freeStack.set(arrays.free);
  }
}

function canonicalLayout(l: StoreLayoutState): StoreLayoutState {
  const fields: Record<string, FieldSpec> = {};
  for (const name of Object.keys(l.fields).sort()) {
    const f = l.fields[name] as FieldSpec;
    fields[name] = { type: f.type, width: f.width };
  }
  return { sampleShape: [...l.sampleShape], fields, capacity: l.capacity, numClasses: l.numClasses };
}
