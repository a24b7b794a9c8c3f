export { prepareWasm, wasmThreadCount, PINNED_WASM_VERSION } from "./prepare-wasm.js";
export type { PrepareWasmOptions, PreparedWasm } from "./prepare-wasm.js";
export { registerWasmKernels, wasmKernelConfigs } from "./register.js";
export { KernelUnavailableError } from "./wasm-ops.js";
export { UnsupportedConvError } from "./kernels/conv-geometry.js";
export { batchNormTrain, registerBatchNormOps, type BatchNormTrainResult } from "./ops/batch-norm.js";
export { setNativeKernelsEnabled } from "./native.js";
export { setWinogradEnabled } from "./kernels/conv2d-winograd.js";
export { convBnInference, type ConvBnInferenceArgs } from "./ops/conv-bn-inference.js";
