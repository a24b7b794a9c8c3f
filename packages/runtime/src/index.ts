/**
 * @mnemo/runtime: where a run executes. Probes, chooses and sets up the tfjs backend (tfjs-node
 * when installed, webgpu, wasm with Mnemo's kernels and threads, cpu), releases it at the end of
 * a run, and draws progress on the terminal. Works in a browser too: there the native backends
 * are skipped, webgpu comes from `navigator.gpu`, and wasm runs tfjs's own kernels.
 */
export { selectBackend, activeBackend, autoOrder, parseBackendChoice, releaseBackend, type SelectBackendOptions } from "./backend.js";
export { BACKEND_CHOICES, type BackendChoice, type BackendInfo, type ConcreteBackend } from "@mnemo/core";
export { prepareWebgpu, releaseWebgpu, vulkanLoaderPresent, WebgpuUnavailable } from "./webgpu.js";
export { ProgressBar, formatSeconds, type ProgressOptions, type ProgressStream } from "./progress.js";
