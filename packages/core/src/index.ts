// The root entry: nothing reachable from here loads tfjs or a Node builtin, so it imports in a
// browser (tests/e2e/lean-entries.test.ts checks). Tensor types are `import type` only. What
// needs tfjs at run time (tree arithmetic, images to tensors, the experiment runner, the
// random-init baseline, resource sampling) is the "@mnemo/core/tf" entry (tf.ts).
export * from "./errors.js";
export * from "./rng.js";
export * from "./tracker.js";
export * from "./param-tree.js";
export * from "./model.js";
export * from "./stream.js";
export * from "./metrics.js";
export * from "./backend-info.js";
export type * from "./experiment.js";
export { editDistance, closestMatches, didYouMean } from "./suggest.js";
export * from "./images.js";
export * from "./memory-stream.js";
export * from "./cost.js";
export { taskLabel } from "./task-label.js";
export type { RandomInitBaseline, RandomInitBaselineOptions } from "./baseline.js";
