/**
 * Typed-array access to tensor data for kernels written once and registered on both the wasm
 * backend (views into the wasm heap, no copies) and the cpu backend (its own value arrays).
 */
import type * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";

export interface ArrayAccess {
  read(t: tf.TensorInfo): Float32Array;
  /** A new float32 output; `data` is only valid until the next allocation on wasm. */
  alloc(shape: number[]): { info: tf.TensorInfo; data: Float32Array };
  /** Re-read an output's data after other allocations (the wasm heap may have grown). */
  view(t: tf.TensorInfo): Float32Array;
}

export function wasmAccess(backend: BackendWasm): ArrayAccess {
  return {
    read: (t) => backend.typedArrayFromHeap(t) as Float32Array,
    alloc: (shape) => {
      const info = backend.makeOutput(shape, "float32");
      return { info, data: backend.typedArrayFromHeap(info) as Float32Array };
    },
    view: (t) => backend.typedArrayFromHeap(t) as Float32Array,
  };
}

interface CpuLike {
  readSync(dataId: object): unknown;
  makeTensorInfo(shape: number[], dtype: "float32", values?: Float32Array): tf.TensorInfo;
}

export function cpuAccess(backend: CpuLike): ArrayAccess {
  return {
    read: (t) => backend.readSync(t.dataId) as Float32Array,
    alloc: (shape) => {
      const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
      return { info: backend.makeTensorInfo(shape, "float32", data), data };
    },
    view: (t) => backend.readSync(t.dataId) as Float32Array,
  };
}
