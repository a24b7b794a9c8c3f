/**
 * Mnemo's own SIMD kernels (native/mnemo_kernels.c), instantiated on the tfjs wasm backend's
 * linear memory so they work on tensors in place. Returns null when the module cannot be
 * attached (unknown build layout, instantiation failure): callers then use the JS fallbacks.
 */
import { readFileSync } from "node:fs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";

type I = number;
export interface NativeKernels {
  row_stats(x: I, M: I, C: I, s1: I, s2: I, squares: I): void;
  affine_rows(x: I, y: I, M: I, C: I, scale: I, shift: I, relu: I): void;
  bn_grad_stats(dy: I, x: I, y: I, M: I, C: I, relu: I, sg: I, sgx: I): void;
  bn_grad_apply(dy: I, x: I, y: I, dx: I, M: I, C: I, relu: I, A: I, B: I, K: I): void;
  max_pool_grad(x: I, dy: I, dx: I, N: I, H: I, W: I, C: I, OH: I, OW: I, FH: I, FW: I, SH: I, SW: I, padT: I, padL: I): void;
  im2col_t(xt: I, cols: I, N: I, H: I, W: I, CI: I, OH: I, OW: I, KH: I, KW: I, SH: I, SW: I, padT: I, padL: I): void;
  interleave(dy: I, out: I, N: I, OH: I, OW: I, C: I, SH: I, SW: I): void;
  conv_filter_grad_direct(x: I, dy: I, dw: I, N: I, H: I, W: I, CI: I, OH: I, OW: I, CO: I, KH: I, KW: I, SH: I, SW: I, padT: I, padL: I): void;
  col2im(dcols: I, dx: I, N: I, H: I, W: I, CI: I, OH: I, OW: I, KH: I, KW: I, SH: I, SW: I, padT: I, padL: I): void;
}

/** The WebAssembly JS API (the repo's `lib` has no DOM typings, which is where it is declared). */
interface WasmMemory {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
}
interface WasmApi {
  Memory: abstract new (...args: never[]) => WasmMemory;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
}
const WA = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

const cache = new WeakMap<WasmMemory, NativeKernels | null>();
let disabled = process.env["MNEMO_NATIVE_KERNELS"] === "0";

/** Turn the native kernels off (benchmarks/tests of the JS fallbacks). */
export function setNativeKernelsEnabled(enabled: boolean): void {
  disabled = !enabled;
}

function memoryOf(backend: BackendWasm): WasmMemory | null {
  const m = backend.wasm as unknown as { wasmMemory?: unknown; asm?: { memory?: unknown } };
  const mem = m.wasmMemory ?? m.asm?.memory;
  return mem instanceof WA.Memory ? mem : null;
}

export function nativeKernels(backend: BackendWasm): NativeKernels | null {
  if (disabled) return null;
  const memory = memoryOf(backend);
  if (!memory) return null;
  const hit = cache.get(memory);
  if (hit !== undefined) return hit;
  let kernels: NativeKernels | null = null;
  try {
    const shared = typeof SharedArrayBuffer !== "undefined" && memory.buffer instanceof SharedArrayBuffer;
    const file = new URL(`../native/${shared ? "mnemo-kernels-shared.wasm" : "mnemo-kernels.wasm"}`, import.meta.url);
    const module = new WA.Module(readFileSync(file));
    kernels = new WA.Instance(module, { env: { memory } }).exports as unknown as NativeKernels;
  } catch (e) {
    console.warn(`[mnemo/kernels] native SIMD kernels unavailable (${(e as Error).message}); using JS fallbacks`);
  }
  cache.set(memory, kernels);
  return kernels;
}

/** Byte offset of a tensor in the wasm heap. */
export function ptr(backend: BackendWasm, t: { dataId: object }): number {
  return backend.dataIdMap.get(t.dataId)?.memoryOffset ?? 0;
}

/**
 * Per-call scratch in the wasm heap: `f64(n)` / `f32(n)` slices of one float32 tensor,
 * 8-byte aligned, freed by `dispose()`. JS views must be re-taken after any heap allocation.
 */
export class HeapScratch {
  private readonly info: { dataId: object; shape: number[]; dtype: "float32" };
  readonly base: number;
  private used = 0;
  constructor(
    private readonly backend: BackendWasm,
    bytes: number,
  ) {
    this.info = backend.makeOutput([Math.ceil(bytes / 4) + 2], "float32") as { dataId: object; shape: number[]; dtype: "float32" };
    const raw = ptr(backend, this.info);
    // Heap offsets pass 2^31 once the wasm heap grows beyond 2 GiB: align with arithmetic, not `&`
    // (bitwise ops are signed 32-bit and would turn such an offset negative).
    this.base = Math.ceil(raw / 8) * 8;
  }
  /** Reserve n bytes; returns the byte offset. */
  take(bytes: number): number {
    const at = this.base + this.used;
    this.used += Math.ceil(bytes / 8) * 8;
    return at;
  }
  heap(): ArrayBuffer | SharedArrayBuffer {
    return (this.backend.wasm as unknown as { HEAPU8: Uint8Array }).HEAPU8.buffer;
  }
  dispose(): void {
    this.backend.disposeData(this.info.dataId);
  }
}
