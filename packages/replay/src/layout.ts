import { ShapeError } from "@mnemo/core/errors";

/** Element type of an extra per-sample field. */
export type FieldType = "uint8" | "int32" | "float32";

/** An extra fixed-width field stored next to each sample, e.g. DER++ logits or a task id. */
export interface FieldSpec {
  type: FieldType;
  /** Values per sample (1 for a scalar such as a task id). */
  width: number;
}

export type FieldArray = Uint8Array | Int32Array | Float32Array;

/** What one stored sample looks like. Declared once, at construction; every slot has this layout. */
export interface SampleLayout {
  /** Shape of one uint8 image, e.g. [32, 32, 3]; a sample is prod(shape) bytes. */
  sampleShape: readonly number[];
  /** Extra fields stored per sample (name → type and width). */
  fields?: Readonly<Record<string, FieldSpec>>;
}

/** Field values passed with a single sample (`width` numbers each). */
export type SampleFields = Readonly<Record<string, ArrayLike<number>>>;

/** A batch of samples to insert: `count` images packed back to back, one label each. */
export interface SampleBatchInput {
  /** count × sampleBytes bytes. */
  images: Uint8Array;
  labels: ArrayLike<number>;
  /** Per field: count × width values, packed. */
  fields?: SampleFields;
}

/** Caller-owned output of `sample()`; make one with `buffer.createBatch(b)` and reuse it every step. */
export interface ReplayBatch {
  images: Uint8Array;
  labels: Int32Array;
  /** Buffer slot of each sampled row (lets DER++-style methods update stored fields in place). */
  slots: Int32Array;
  fields: Record<string, FieldArray>;
}

export function fieldArray(type: FieldType, length: number): FieldArray {
  switch (type) {
    case "uint8":
      return new Uint8Array(length);
    case "int32":
      return new Int32Array(length);
    case "float32":
      return new Float32Array(length);
  }
}

export function isPositiveInt(x: number): boolean {
  return Number.isSafeInteger(x) && x > 0;
}

/** Validates a layout and returns its normalised form (fields sorted by name so state is canonical). */
export function normaliseLayout(
  layout: SampleLayout,
  owner: string,
): {
  sampleShape: number[];
  sampleBytes: number;
  fields: Record<string, FieldSpec>;
} {
  const shape = [...layout.sampleShape];
  if (shape.length === 0 || !shape.every(isPositiveInt)) {
    throw new ShapeError(
      `${owner}: sampleShape must be a non-empty list of positive integers (e.g. [32, 32, 3]), got [${shape.join(", ")}]`,
    );
  }
  const sampleBytes = shape.reduce((a, b) => a * b, 1);
  const fields: Record<string, FieldSpec> = {};
  for (const name of Object.keys(layout.fields ?? {}).sort()) {
    const spec = (layout.fields ?? {})[name] as FieldSpec;
    if (spec.type !== "uint8" && spec.type !== "int32" && spec.type !== "float32") {
      throw new ShapeError(`${owner}: field "${name}" has type "${String(spec.type)}"; use "uint8", "int32" or "float32"`);
    }
    if (!isPositiveInt(spec.width)) {
      throw new ShapeError(`${owner}: field "${name}" needs a positive integer width, got ${spec.width}`);
    }
    fields[name] = { type: spec.type, width: spec.width };
  }
  return { sampleShape: shape, sampleBytes, fields };
}
