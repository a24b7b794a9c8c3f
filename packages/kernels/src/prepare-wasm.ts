/**
 * Two-thread (pthreads + SIMD) wasm backend in Node.
 *
 * tfjs 4.22.0 refuses threads in Node (tfjs issue #3830): the multithread flag is hard-wired to
 * false, and forcing it fails because the bundle hands Emscripten a Blob URL for the pthread worker
 * script, which Node's `worker_threads` rejects (ERR_WORKER_PATH). We build the threaded module
 * ourselves from the package's own `wasm-out` files with real file paths, then hand it to the
 * package's exported `BackendWasm` class. That depends on the exact layout of the 4.22.0 bundle,
 * so any other version falls back to the stock single-thread path with a one-line warning.
 */
import * as tf from "@tensorflow/tfjs";
import * as tfwasm from "@tensorflow/tfjs-backend-wasm";
import { createRequire } from "node:module";
import os, { availableParallelism } from "node:os";
import { dirname, join } from "node:path";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { Script } from "node:vm";
import { registerWasmKernels } from "./register.js";
import { PINNED_WASM_VERSION } from "./version.js";

export { PINNED_WASM_VERSION };

export interface PrepareWasmOptions {
  /** Worker threads for XNNPACK; "auto" = the machine's available parallelism. Default "auto". */
  threads?: number | "auto";
  /** Print the one-line fallback warnings (default true). */
  warn?: boolean;
}

export interface PreparedWasm {
  threads: number;
  simd: boolean;
}

/** Subset of the Emscripten module the backend needs (mirrors tfjs's own `init()`). */
interface EmscriptenModule {
  cwrap: (name: string, ret: string | null, args: string[]) => (...args: number[]) => unknown;
  PThread?: { runningWorkers: WorkerLike[]; unusedWorkers: WorkerLike[] };
  tfjs?: Record<string, unknown>;
}
interface WorkerLike {
  unref?: () => void;
}
type ThreadedFactory = (config: Record<string, unknown>) => Promise<EmscriptenModule>;

let preparedThreads = 1;
let preparePromise: Promise<PreparedWasm> | null = null;

/** Threads the wasm backend actually runs with (1 before `prepareWasm` or after a fallback). */
export function wasmThreadCount(): number {
  try {
    return tfwasm.getThreadsCount();
  } catch {
    return preparedThreads;
  }
}

/**
 * Sets up the wasm backend: threaded SIMD build (when threads > 1), Mnemo's training kernels.
 * Call BEFORE `tf.setBackend("wasm")`. Idempotent: later calls return the first result.
 * Never throws for thread problems: it falls back to one thread and says so once.
 */
export function prepareWasm(options: PrepareWasmOptions = {}): Promise<PreparedWasm> {
  preparePromise ??= doPrepare(options);
  return preparePromise;
}

async function doPrepare(options: PrepareWasmOptions): Promise<PreparedWasm> {
  const warn = options.warn === false ? () => {} : (m: string) => console.warn(`[mnemo/kernels] ${m}`);
  registerWasmKernels();
  const simd = Boolean(await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT"));
  const requested = resolveThreads(options.threads ?? "auto");
  if (requested <= 1) return finish(1, simd);
  if (tfwasm.version_wasm !== PINNED_WASM_VERSION) {
    warn(
      `threads disabled: thread shim is pinned to tfjs-backend-wasm ${PINNED_WASM_VERSION}, installed ${tfwasm.version_wasm}; running 1 thread`,
    );
    return finish(1, simd);
  }
  if (!simd) {
    warn("threads disabled: wasm SIMD unsupported, the threaded build needs it; running 1 thread");
    return finish(1, simd);
  }
  if (isWasmInitialized()) {
    warn("threads disabled: prepareWasm() was called after the wasm backend was initialised; running 1 thread");
    return finish(1, simd);
  }
  try {
    const module = await buildThreadedModule(requested);
    tfwasm.setThreadsCount(requested);
    tf.removeBackend("wasm");
    tf.registerBackend("wasm", () => {
      const backend = new tfwasm.BackendWasm(module as unknown as ConstructorParameters<typeof tfwasm.BackendWasm>[0]);
      // XNNPACK's pool threads are created (and ref'd) in the constructor: let the process exit.
      unrefWorkers(module);
      return backend;
    }, 2);
    return finish(requested, simd);
  } catch (e) {
    warn(`threads disabled: threaded wasm build failed (${(e as Error).message ?? String(e)}); running 1 thread`);
    tfwasm.setThreadsCount(1);
    return finish(1, simd);
  }
}

function finish(threads: number, simd: boolean): PreparedWasm {
  preparedThreads = threads;
  if (threads === 1) tfwasm.setThreadsCount(1);
  return { threads, simd };
}

function resolveThreads(threads: number | "auto"): number {
  if (threads === "auto") return Math.max(1, availableParallelism());
  if (!Number.isInteger(threads) || threads < 1) {
    throw new RangeError(`prepareWasm: threads must be a positive integer or "auto", got ${threads}`);
  }
  return threads;
}

function isWasmInitialized(): boolean {
  // findBackend returns the instance only once the (async) factory has resolved.
  return tf.engine().registry["wasm"] != null;
}

function unrefWorkers(module: EmscriptenModule): void {
  const pt = module.PThread;
  if (!pt) return;
  for (const w of [...pt.runningWorkers, ...pt.unusedWorkers]) w.unref?.();
}

async function buildThreadedModule(threads: number): Promise<EmscriptenModule> {
  const require = createRequire(import.meta.url);
  const pkgDir = dirname(require.resolve("@tensorflow/tfjs-backend-wasm/package.json"));
  const outDir = join(pkgDir, "wasm-out");
  const mainScript = join(outDir, "tfjs-backend-wasm-threaded-simd.js");
  const factory = require(mainScript) as ThreadedFactory;
  const { wasmWorkerContents } = require(join(outDir, "tfjs-backend-wasm-threaded-simd.worker.js")) as {
    wasmWorkerContents: string;
  };
  if (typeof factory !== "function" || typeof wasmWorkerContents !== "string") {
    throw new Error("unexpected wasm-out layout");
  }
  // Node workers need a file path (not a Blob URL); .cjs so `require` works in the worker.
  const workerFile = join(mkdtempSync(join(tmpdir(), "mnemo-wasm-")), "tfjs-pthread-worker.cjs");
  // Same escaping as tfjs's own Blob path: the template literal turned "\\n" into real newlines.
  const workerSource = wasmWorkerContents.replace(/\n/g, "\\n");
  // A syntax error inside a worker would surface later as an uncatchable throw: check it here.
  new Script(workerSource, { filename: workerFile });
  writeFileSync(workerFile, workerSource);
  // backend.cc sizes its pool as min(requested, emscripten_num_logical_cores() / 2), a static
  // initialiser that reads os.cpus() while the module starts: on a 2-vCPU box that caps it at one
  // thread. Report 2x the wanted threads for exactly that window, then restore.
  const realCpus = os.cpus;
  const cpus = realCpus();
  os.cpus = () => Array.from({ length: 2 * threads }, (_, i) => cpus[i % cpus.length] as os.CpuInfo);
  let module: EmscriptenModule;
  try {
    module = await factory({
    locateFile: (path: string) => {
      if (path.endsWith(".worker.js")) return workerFile;
      if (path.endsWith(".wasm")) return join(outDir, "tfjs-backend-wasm-threaded-simd.wasm");
      return join(outDir, path);
    },
      mainScriptUrlOrBlob: mainScript,
    });
  } finally {
    os.cpus = realCpus;
  }
  module.tfjs = {
    init: module.cwrap("init", null, []),
    initWithThreadsCount: module.cwrap("init_with_threads_count", null, ["number"]),
    getThreadsCount: module.cwrap("get_threads_count", "number", []),
    registerTensor: module.cwrap("register_tensor", null, ["number", "number", "number"]),
    disposeData: module.cwrap("dispose_data", null, ["number"]),
    dispose: module.cwrap("dispose", null, []),
  };
  unrefWorkers(module);
  return module;
}
