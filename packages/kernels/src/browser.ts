/**
 * @mnemo/kernels in a browser (the package's "browser" export condition): the same kernels and ops
 * as in Node. `prepareWasm` registers the kernels and fetches Mnemo's SIMD module (an asset next
 * to this package's code: bundlers resolve `new URL(..., import.meta.url)`), so a page trains with
 * exactly the kernels `mnemo run` uses. Threads are tfjs's own browser ones: they exist only on a
 * cross-origin-isolated page (COOP/COEP headers); elsewhere the backend runs one thread.
 */
import * as tf from "@tensorflow/tfjs";
import * as tfwasm from "@tensorflow/tfjs-backend-wasm";
import { registerWasmKernels } from "./register.js";
import { nativeModuleUrl, provideNativeModule, type NativeModuleKind } from "./native.js";
import type { PreparedWasm, PrepareWasmOptions } from "./prepare-wasm.js";
import { PINNED_WASM_VERSION } from "./version.js";

export { PINNED_WASM_VERSION };
export type { PrepareWasmOptions, PreparedWasm };
export { registerWasmKernels, wasmKernelConfigs } from "./register.js";
export { KernelUnavailableError } from "./wasm-ops.js";
export { UnsupportedConvError } from "./kernels/conv-geometry.js";
export { batchNormTrain, registerBatchNormOps, type BatchNormTrainResult } from "./ops/batch-norm.js";
export { setNativeKernelsEnabled, provideNativeModule, nativeModuleUrl, type NativeModuleKind } from "./native.js";
export { setWinogradEnabled } from "./kernels/conv2d-winograd.js";
export { convBnInference, type ConvBnInferenceArgs } from "./ops/conv-bn-inference.js";

let preparePromise: Promise<PreparedWasm> | null = null;
let preparedThreads = 1;

/** Threads the wasm backend runs with (1 before `prepareWasm`, and on a page that is not cross-origin isolated). */
export function wasmThreadCount(): number {
  try {
    return tfwasm.getThreadsCount();
  } catch {
    return preparedThreads;
  }
}

/** Browser `prepareWasm`: call BEFORE `tf.setBackend("wasm")`. Idempotent; never throws for a missing module (JS fallbacks, with a warning). */
export function prepareWasm(options: PrepareWasmOptions = {}): Promise<PreparedWasm> {
  preparePromise ??= doPrepare(options);
  return preparePromise;
}

async function doPrepare(options: PrepareWasmOptions): Promise<PreparedWasm> {
  const warn = options.warn === false ? () => {} : (m: string) => console.warn(`[mnemo/kernels] ${m}`);
  registerWasmKernels();
  const simd = Boolean(await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT"));
  const threaded = Boolean(await tf.env().getAsync("WASM_HAS_MULTITHREAD_SUPPORT"));
  const kinds: NativeModuleKind[] = threaded ? ["plain", "shared"] : ["plain"];
  for (const kind of kinds) {
    const url = nativeModuleUrl(kind);
    try {
      const response = await fetch(url);
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      provideNativeModule(kind, new Uint8Array(await response.arrayBuffer()));
    } catch (e) {
      warn(`could not fetch ${url.href} (${(e as Error).message}); the kernels use their JS fallbacks`);
    }
  }
  const requested = options.threads ?? "auto";
  const cores = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency ?? 1;
  preparedThreads = threaded ? Math.max(1, requested === "auto" ? cores : requested) : 1;
  tfwasm.setThreadsCount(preparedThreads);
  return { threads: preparedThreads, simd };
}
