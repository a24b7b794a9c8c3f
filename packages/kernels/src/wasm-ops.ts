/**
 * Calling the wasm backend's own kernels from inside a kernel, without the engine.
 *
 * A kernel function must not call `tf.*` ops: those would be recorded on the gradient tape and
 * tracked by the engine's scopes. Backend kernels are called directly instead (the tfjs
 * kernel/op split) and every intermediate TensorInfo is freed through `Scratch`.
 */
import * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";

export type Attrs = Record<string, unknown>;

export class KernelUnavailableError extends Error {
  constructor(kernel: string) {
    super(`wasm kernel "${kernel}" is not registered: is @tensorflow/tfjs-backend-wasm 4.22.0 loaded?`);
    this.name = "KernelUnavailableError";
  }
}

/** Stock kernels captured before Mnemo replaces any of them. */
const stock = new Map<string, tf.KernelFunc>();

/**
 * Remembers the stock kernel `name` and returns its setup function: a replacement must keep it,
 * since the engine only runs the setup (cwrap of the C++ entry point) of the registered kernel.
 */
export function captureStockKernel(name: string): tf.KernelSetupFunc | undefined {
  const k = tf.getKernel(name, "wasm");
  if (k && !stock.has(name)) stock.set(name, k.kernelFunc);
  return k?.setupFunc;
}

/** Run a wasm kernel (the stock one if Mnemo replaced it) on TensorInfos. */
export function runKernel(
  backend: BackendWasm,
  name: string,
  inputs: Record<string, tf.TensorInfo>,
  attrs: Attrs = {},
): tf.TensorInfo {
  const fn = stock.get(name) ?? tf.getKernel(name, "wasm")?.kernelFunc;
  if (!fn) throw new KernelUnavailableError(name);
  const out = fn({ inputs: inputs as tf.NamedTensorInfoMap, backend, attrs: attrs as tf.NamedAttrMap });
  return Array.isArray(out) ? (out[0] as tf.TensorInfo) : (out as tf.TensorInfo);
}

/** Collects intermediates of one kernel call and frees them at the end. */
export class Scratch {
  private readonly owned: tf.TensorInfo[] = [];
  constructor(readonly backend: BackendWasm) {}

  run(name: string, inputs: Record<string, tf.TensorInfo>, attrs: Attrs = {}): tf.TensorInfo {
    const out = runKernel(this.backend, name, inputs, attrs);
    this.owned.push(out);
    return out;
  }

  /** A new float32 buffer (uninitialised unless `zero`). */
  alloc(shape: number[], zero = false): tf.TensorInfo {
    const out = this.backend.makeOutput(shape, "float32");
    if (zero) this.f32(out).fill(0);
    this.owned.push(out);
    return out;
  }

  /** Keep `t` alive past `dispose()` (it becomes the kernel's output). */
  release(t: tf.TensorInfo): tf.TensorInfo {
    const i = this.owned.indexOf(t);
    if (i >= 0) this.owned.splice(i, 1);
    return t;
  }

  f32(t: tf.TensorInfo): Float32Array {
    return this.backend.typedArrayFromHeap(t) as Float32Array;
  }

  dispose(): void {
    for (const t of this.owned) this.backend.disposeData(t.dataId);
    this.owned.length = 0;
  }
}

/** Run `fn` with a Scratch that is always disposed; `fn` releases its output. */
export function withScratch<T>(backend: BackendWasm, fn: (s: Scratch) => T): T {
  const s = new Scratch(backend);
  try {
    return fn(s);
  } finally {
    s.dispose();
  }
}

/** Reshape without a copy: a new TensorInfo sharing the buffer (refcount bumped). */
export function reshapeInfo(s: Scratch, x: tf.TensorInfo, shape: number[]): tf.TensorInfo {
  return s.run("Reshape", { x }, { shape });
}
