/**
 * State trees ⇄ (JSON manifest, one binary blob). A state tree is plain JSON data (objects,
 * arrays, strings, numbers, booleans, null) in which typed arrays and tf.Tensors may appear at any
 * depth: buffers, prototypes, optimizer slots and parameters all fit. No code is ever
 * deserialised (unlike pickle): decoding only rebuilds data.
 */
import * as tf from "@tensorflow/tfjs";
import { CheckpointError } from "@mnemo/core";

export type StateValue =
  | null
  | boolean
  | number
  | string
  | StateValue[]
  | { [key: string]: StateValue }
  | tf.Tensor
  | Float32Array
  | Float64Array
  | Int32Array
  | Uint8Array
  | Uint16Array
  | Int16Array
  | Uint32Array;

type TypedName = "float32" | "float64" | "int32" | "uint8" | "uint16" | "int16" | "uint32";
const TYPED: Record<TypedName, { new (b: ArrayBuffer, o: number, n: number): ArrayLike<number> & ArrayBufferView; BYTES_PER_ELEMENT: number }> = {
  float32: Float32Array,
  float64: Float64Array,
  int32: Int32Array,
  uint8: Uint8Array,
  uint16: Uint16Array,
  int16: Int16Array,
  uint32: Uint32Array,
};

type Encoded =
  | null
  | boolean
  | number
  | string
  | Encoded[]
  | { [key: string]: Encoded }
  | { $tensor: { dtype: string; shape: number[]; offset: number; bytes: number } }
  | { $typed: { type: TypedName; offset: number; bytes: number } }
  | { $number: "NaN" | "Infinity" | "-Infinity" };

function typedName(v: ArrayBufferView): TypedName | undefined {
  if (v instanceof Float32Array) return "float32";
  if (v instanceof Float64Array) return "float64";
  if (v instanceof Int32Array) return "int32";
  if (v instanceof Uint8Array) return "uint8";
  if (v instanceof Uint16Array) return "uint16";
  if (v instanceof Int16Array) return "int16";
  if (v instanceof Uint32Array) return "uint32";
  return undefined;
}

/** Encodes a state tree; tensors are read synchronously (checkpoints happen between steps). */
export function encodeState(value: StateValue): { tree: Encoded; blob: Uint8Array } {
  const chunks: Uint8Array[] = [];
  let offset = 0;
  const push = (bytes: Uint8Array): number => {
    // 8-byte alignment so every typed view over the blob is valid.
    const pad = (8 - (offset % 8)) % 8;
    if (pad) {
      chunks.push(new Uint8Array(pad));
      offset += pad;
    }
    const at = offset;
    chunks.push(bytes);
    offset += bytes.byteLength;
    return at;
  };
  const walk = (v: StateValue, path: string): Encoded => {
    if (v === null || typeof v === "boolean" || typeof v === "string") return v;
    if (typeof v === "number") return Number.isFinite(v) ? v : { $number: String(v) as "NaN" | "Infinity" | "-Infinity" };
    if (v instanceof tf.Tensor) {
      if (v.isDisposed) throw new CheckpointError(`state at "${path}" is a disposed tensor`);
      const data = v.dataSync();
      const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
      return { $tensor: { dtype: v.dtype, shape: [...v.shape], offset: push(bytes), bytes: bytes.byteLength } };
    }
    if (ArrayBuffer.isView(v)) {
      const type = typedName(v);
      if (!type) throw new CheckpointError(`state at "${path}" has an unsupported array type ${v.constructor.name}`);
      const bytes = new Uint8Array(v.buffer, v.byteOffset, v.byteLength).slice();
      return { $typed: { type, offset: push(bytes), bytes: bytes.byteLength } };
    }
    if (Array.isArray(v)) return v.map((x, i) => walk(x, `${path}[${i}]`));
    if (typeof v === "object") {
      const out: { [key: string]: Encoded } = {};
      for (const [k, x] of Object.entries(v)) {
        if (k.startsWith("$")) throw new CheckpointError(`state key "${path}.${k}" may not start with "$" (reserved by the checkpoint format)`);
        if (x === undefined) continue;
        out[k] = walk(x as StateValue, path ? `${path}.${k}` : k);
      }
      return out;
    }
    throw new CheckpointError(`state at "${path}" has an unsupported value of type ${typeof v}`);
  };
  const tree = walk(value, "");
  const blob = new Uint8Array(offset);
  let at = 0;
  for (const c of chunks) {
    blob.set(c, at);
    at += c.byteLength;
  }
  return { tree, blob };
}

/** Rebuilds a state tree: tensors become new tf.Tensors (the caller owns them). */
export function decodeState(tree: unknown, blob: Uint8Array, file = "checkpoint"): StateValue {
  const view = (offset: number, bytes: number, path: string): ArrayBuffer => {
    if (!Number.isInteger(offset) || !Number.isInteger(bytes) || offset < 0 || offset + bytes > blob.byteLength) {
      throw new CheckpointError(`entry "${path}" points outside the data file (offset ${offset}, ${bytes} bytes, file has ${blob.byteLength})`, file);
    }
    return blob.buffer.slice(blob.byteOffset + offset, blob.byteOffset + offset + bytes) as ArrayBuffer;
  };
  const walk = (e: unknown, path: string): StateValue => {
    if (e === null || typeof e === "boolean" || typeof e === "string" || typeof e === "number") return e;
    if (Array.isArray(e)) return e.map((x, i) => walk(x, `${path}[${i}]`));
    if (typeof e === "object") {
      const o = e as Record<string, unknown>;
      if ("$number" in o) return Number(o.$number);
      if ("$tensor" in o) {
        const t = o.$tensor as { dtype: tf.DataType; shape: number[]; offset: number; bytes: number };
        const buf = view(t.offset, t.bytes, path);
        const data = t.dtype === "int32" ? new Int32Array(buf) : t.dtype === "bool" ? new Uint8Array(buf) : new Float32Array(buf);
        const expected = t.shape.reduce((a, b) => a * b, 1);
        if (data.length !== expected) throw new CheckpointError(`tensor "${path}" has ${data.length} values for shape [${t.shape}]`, file);
        return tf.tensor(data, t.shape, t.dtype);
      }
      if ("$typed" in o) {
        const t = o.$typed as { type: TypedName; offset: number; bytes: number };
        const ctor = TYPED[t.type];
        if (!ctor) throw new CheckpointError(`array "${path}" has unknown type ${String(t.type)}`, file);
        const buf = view(t.offset, t.bytes, path);
        return new ctor(buf, 0, t.bytes / ctor.BYTES_PER_ELEMENT) as unknown as StateValue;
      }
      const out: { [key: string]: StateValue } = {};
      for (const [k, x] of Object.entries(o)) out[k] = walk(x, path ? `${path}.${k}` : k);
      return out;
    }
    throw new CheckpointError(`entry "${path}" is not valid checkpoint data`, file);
  };
  return walk(tree, "");
}

/** Disposes every tensor inside a decoded or live state tree. */
export function disposeState(value: StateValue | undefined): void {
  if (value === undefined || value === null) return;
  if (value instanceof tf.Tensor) value.dispose();
  else if (Array.isArray(value)) value.forEach(disposeState);
  else if (typeof value === "object" && !ArrayBuffer.isView(value)) Object.values(value).forEach((v) => disposeState(v as StateValue));
}
