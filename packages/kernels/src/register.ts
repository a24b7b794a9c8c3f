/** Registers Mnemo's wasm kernels (idempotent), replacing slow stock ones. */
import * as tf from "@tensorflow/tfjs";
import { captureStockKernel } from "./wasm-ops.js";
import { conv2DBackpropFilterConfig } from "./kernels/conv2d-backprop-filter.js";
import { conv2DBackpropInputConfig } from "./kernels/conv2d-backprop-input.js";
import { batchMatMulConfig } from "./kernels/batch-mat-mul.js";
import { avgPoolGradConfig, maxPoolGradConfig } from "./kernels/pool-grad.js";
import { meanConfig, sumConfig } from "./kernels/reduce.js";
import { identityConfig } from "./kernels/identity.js";
import { conv2DConfig, fusedConv2DConfig } from "./kernels/conv2d-winograd.js";

/** Every kernel this package provides for the wasm backend. */
export const wasmKernelConfigs: readonly tf.KernelConfig[] = [
  conv2DBackpropFilterConfig,
  conv2DBackpropInputConfig,
  batchMatMulConfig,
  maxPoolGradConfig,
  avgPoolGradConfig,
  sumConfig,
  meanConfig,
  identityConfig,
  conv2DConfig,
  fusedConv2DConfig,
];

let registered = false;

export function registerWasmKernels(): void {
  if (registered) return;
  for (const config of wasmKernelConfigs) {
    const stockSetup = captureStockKernel(config.kernelName);
    if (tf.getKernel(config.kernelName, "wasm")) tf.unregisterKernel(config.kernelName, "wasm");
    tf.registerKernel({ ...config, setupFunc: config.setupFunc ?? stockSetup });
  }
  registered = true;
}
