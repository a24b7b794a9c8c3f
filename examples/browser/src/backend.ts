/**
 * The page's tfjs backend, chosen by @mnemo/runtime's `selectBackend`, the one `mnemo run` uses:
 * in a page webgpu → webgl → wasm (with Mnemo's kernels, @mnemo/kernels' browser entry) → cpu,
 * each skipped with its reason, and the same description ("wasm (1 thread, simd)"). A backend
 * asked for by name (`?backend=wasm`, like MNEMO_BACKEND) fails loudly when it cannot start.
 * The one thing a bundled page adds: where tfjs's own wasm binaries are (Vite emits them as assets; `wasmPaths`).
 */
import type { BackendChoice, BackendInfo } from "@mnemo/core";
import { parseBackendChoice, selectBackend } from "@mnemo/runtime";
import wasmPlain from "@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url";
import wasmSimd from "@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url";
import wasmThreadedSimd from "@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url";

/** `?backend=` of the page's URL ("auto" when absent). */
export function backendFromQuery(value: string | null): BackendChoice {
  return value === null || value === "" ? "auto" : parseBackendChoice(value, "?backend=");
}

export async function selectPageBackend(choice: BackendChoice): Promise<BackendInfo> {
  const wasmPaths = {
    "tfjs-backend-wasm.wasm": wasmPlain,
    "tfjs-backend-wasm-simd.wasm": wasmSimd,
    "tfjs-backend-wasm-threaded-simd.wasm": wasmThreadedSimd,
  };
  return selectBackend({ backend: choice, threads: "auto", wasmPaths, env: {} });
}
