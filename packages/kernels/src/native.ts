/**
 * Mnemo's own SIMD kernels (native/mnemo_kernels.c), instantiated on the tfjs wasm backend's
 * linear memory so they work on tensors in place. Returns null when the module cannot be
 * attached (unknown build layout, instantiation failure): callers then use the JS fallbacks.
 *
 * The module's bytes come from `provideNativeModule` (a browser fetches them: `browser.ts`) or,
 * in Node, from the package's `native/` folder. No Node module is imported statically, so the
 * kernels load in a browser too (there without the helper worker: `worker_threads` is Node's).
 */
import type { readFileSync as ReadFileSync } from "node:fs";
import type { Worker as NodeWorker } from "node:worker_threads";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { envVar, nodeBuiltin } from "./env.js";

type I = number;
export interface NativeKernels {
  row_stats(x: I, M: I, C: I, s1: I, s2: I, squares: I): void;
  affine_rows(x: I, y: I, M: I, C: I, scale: I, shift: I, relu: I, res: I): void;
  bn_grad_stats(dy: I, x: I, y: I, M: I, C: I, relu: I, sg: I, sgx: I): void;
  bn_grad_apply(dy: I, x: I, y: I, dx: I, M: I, C: I, relu: I, A: I, B: I, K: I, gout: I): void;
  max_pool_grad(x: I, dy: I, dx: I, N: I, H: I, W: I, C: I, OH: I, OW: I, FH: I, FW: I, SH: I, SW: I, padT: I, padL: I): void;
  im2col_t(xt: I, cols: I, N: I, H: I, W: I, CI: I, OH: I, OW: I, KH: I, KW: I, SH: I, SW: I, padT: I, padL: I): void;
  interleave(dy: I, out: I, N: I, OH: I, OW: I, C: I, SH: I, SW: I): void;
  conv_filter_grad_direct(x: I, dy: I, dw: I, N: I, H: I, W: I, CI: I, OH: I, OW: I, CO: I, KH: I, KW: I, SH: I, SW: I, padT: I, padL: I): void;
  col2im(dcols: I, dx: I, N: I, H: I, W: I, CI: I, OH: I, OW: I, KH: I, KW: I, SH: I, SW: I, padT: I, padL: I): void;
  im2col_t_range(xt: I, cols: I, N: I, H: I, W: I, CI: I, OH: I, OW: I, KH: I, KW: I, SH: I, SW: I, padT: I, padL: I, n0: I, n1: I): void;
  wino43_filter(w: I, U: I, CI: I, CO: I): void;
  wino43_conv(x: I, U: I, bias: I, res: I, y: I, N: I, H: I, W: I, CI: I, CO: I, relu: I, t0: I, t1: I, T: I, scratch: I): void;
  wino43_filter_grad(x: I, dy: I, Macc: I, N: I, H: I, W: I, CI: I, CO: I, t0: I, t1: I, T: I, scratch: I): void;
  wino43_filter_grad_out(M0: I, M1: I, dw: I, CI: I, CO: I): void;
}

export type NativeName = keyof NativeKernels;
const NAMES: readonly NativeName[] = [
  "row_stats", "affine_rows", "bn_grad_stats", "bn_grad_apply", "max_pool_grad", "im2col_t",
  "interleave", "conv_filter_grad_direct", "col2im", "im2col_t_range", "wino43_filter", "wino43_conv",
  "wino43_filter_grad", "wino43_filter_grad_out",
];

/**
 * Our kernels run on the JS main thread, where XNNPACK's pool cannot reach them. On the threaded
 * build (shared memory) one helper worker holds a second instance of the module on the SAME
 * memory and takes one half of a split call while the main thread does the other: `run2` posts
 * the worker's half through a small shared control block (Atomics, no messages, no event loop),
 * runs its own half, then waits. Until the worker reports ready (it starts asynchronously), or if
 * it failed, both halves simply run on the main thread.
 */
const WORKER_SOURCE = `
const { workerData } = require("node:worker_threads");
const { memory, module, ctl, names } = workerData;
const c = new Int32Array(ctl);
let fns = null;
try {
  const ex = new WebAssembly.Instance(module, { env: { memory } }).exports;
  fns = names.map((n) => ex[n]);
  Atomics.store(c, 1, 1);
} catch (e) {
  Atomics.store(c, 1, -1);
}
while (fns) {
  let s;
  while ((s = Atomics.load(c, 0)) !== 1) Atomics.wait(c, 0, s);
  try {
    const n = c[3];
    const args = new Array(n);
    for (let i = 0; i < n; i++) args[i] = c[4 + i];
    fns[c[2]](...args);
    Atomics.store(c, 0, 2);
  } catch (e) {
    Atomics.store(c, 0, 3);
  }
  Atomics.notify(c, 0);
}
`;

class Helper {
  private readonly c: Int32Array;
  private failed = false;
  constructor(memory: WasmMemory, module: object) {
    const ctl = new SharedArrayBuffer(4 * 32);
    this.c = new Int32Array(ctl);
    try {
      const Worker = nodeBuiltin<{ Worker: typeof NodeWorker }>("node:worker_threads")?.Worker;
      if (!Worker) throw new Error("no worker_threads outside Node");
      const w = new Worker(WORKER_SOURCE, { eval: true, workerData: { memory, module, ctl, names: NAMES } });
      w.on("error", () => (this.failed = true));
      w.on("exit", () => (this.failed = true));
      w.unref();
    } catch {
      this.failed = true;
    }
  }
  get ready(): boolean {
    return !this.failed && Atomics.load(this.c, 1) === 1;
  }
  get gone(): boolean {
    return this.failed || Atomics.load(this.c, 1) === -1;
  }
  /** Start `name(...args)` on the worker (only when `ready`). */
  post(name: NativeName, args: number[]): void {
    const c = this.c;
    c[2] = NAMES.indexOf(name);
    c[3] = args.length;
    for (let i = 0; i < args.length; i++) c[4 + i] = args[i] as number;
    Atomics.store(c, 0, 1);
    Atomics.notify(c, 0);
  }
  /** Wait for the posted call. */
  join(): void {
    const c = this.c;
    let s: number;
    while ((s = Atomics.load(c, 0)) === 1) {
      if (Atomics.wait(c, 0, 1, 30_000) === "timed-out" && Atomics.load(c, 0) === 1) {
        this.failed = true;
        throw new Error("[mnemo/kernels] helper worker did not answer within 30 s");
      }
    }
    Atomics.store(c, 0, 0);
    if (s === 3) throw new Error("[mnemo/kernels] native kernel failed in the helper worker");
  }
}

const helpers = new WeakMap<NativeKernels, Helper>();

/**
 * Runs `name(...a)` and `name(...b)` (two halves touching disjoint outputs), in parallel on the
 * main thread and the helper worker when there is one, else one after the other.
 */
export function run2(nk: NativeKernels, name: NativeName, a: number[], b: number[]): void {
  const h = helpers.get(nk);
  const fn = nk[name] as (...args: number[]) => void;
  if (h?.ready) {
    h.post(name, b);
    try {
      fn(...a);
    } finally {
      h.join();
    }
  } else {
    fn(...a);
    fn(...b);
  }
}

/**
 * Waits (up to `timeoutMs`) until the helper worker of `backend`'s native module is ready; false
 * when there is none (single-thread build, no native module) or it failed. For tests.
 */
export async function nativeHelperReady(backend: BackendWasm, timeoutMs = 10_000): Promise<boolean> {
  const nk = nativeKernels(backend);
  const h = nk ? helpers.get(nk) : undefined;
  if (!h) return false;
  const t0 = Date.now();
  while (!h.ready && !h.gone && Date.now() - t0 < timeoutMs) await new Promise((r) => setTimeout(r, 5));
  return h.ready;
}

/** True when run2 really runs in parallel (callers may then pick a split worth its sync cost). */
export function hasHelper(nk: NativeKernels): boolean {
  return helpers.get(nk)?.ready ?? false;
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
let disabled = envVar("MNEMO_NATIVE_KERNELS") === "0";

/** The two builds of the module: for a plain and for a shared (threaded) wasm memory. */
export type NativeModuleKind = "plain" | "shared";
const NATIVE_FILES: Record<NativeModuleKind, string> = { plain: "mnemo-kernels.wasm", shared: "mnemo-kernels-shared.wasm" };
const provided: Partial<Record<NativeModuleKind, Uint8Array>> = {};

/** Where the module's bytes are: the package's `native/` folder (bundlers resolve this pattern to an asset URL). */
export function nativeModuleUrl(kind: NativeModuleKind): URL {
  return kind === "shared"
    ? new URL("../native/mnemo-kernels-shared.wasm", import.meta.url)
    : new URL("../native/mnemo-kernels.wasm", import.meta.url);
}

/** Hands over a build of the module (a browser fetches it); call before the backend's first kernel. */
export function provideNativeModule(kind: NativeModuleKind, bytes: Uint8Array): void {
  provided[kind] = bytes;
}

function moduleBytes(kind: NativeModuleKind): Uint8Array {
  const bytes = provided[kind];
  if (bytes) return bytes;
  const fs = nodeBuiltin<{ readFileSync: typeof ReadFileSync }>("node:fs");
  if (!fs) throw new Error(`${NATIVE_FILES[kind]} was not provided (in a browser, call prepareWasm() from @mnemo/kernels first)`);
  return fs.readFileSync(nativeModuleUrl(kind));
}

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
    const module = new WA.Module(moduleBytes(shared ? "shared" : "plain"));
    kernels = new WA.Instance(module, { env: { memory } }).exports as unknown as NativeKernels;
    if (shared && envVar("MNEMO_NATIVE_HELPER") !== "0") helpers.set(kernels, new Helper(memory, module));
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
