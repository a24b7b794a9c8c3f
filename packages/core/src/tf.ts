/**
 * `@mnemo/core/tf`: the part of core that needs @tensorflow/tfjs at run time (a peer
 * dependency): tree arithmetic (`lerpTree`, `cloneTree`, ...), uint8 images to normalised
 * tensors, the experiment runner (`runExperiment`, `evaluateSet`, `accuracyOn`), the random-init
 * baseline of FWT and the resource sampling behind a run's cost. Everything else, types
 * included, is in the root entry `@mnemo/core`, which loads no tfjs.
 */
export { mapTree, zipTree, lerpTree, cloneTree, keepTree } from "./tree-ops.js";
export { imagesToTensor, labelsToTensor } from "./image-tensors.js";
export { accuracyOn, evaluateSet, evaluateSetCounts, runExperiment } from "./run-experiment.js";
export { evaluateRandomInit } from "./baseline.js";
export { sampleResources, wasmHeapBytes, cpuSeconds } from "./resources.js";
