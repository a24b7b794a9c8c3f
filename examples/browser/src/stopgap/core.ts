// STOPGAP until lean-core lands: @mnemo/core's root without backend/config/webgpu (Node-only).
const g = globalThis as { process?: unknown };
g.process ??= {
  env: {},
  stderr: { isTTY: false, write: () => true },
  memoryUsage: Object.assign(() => ({}), { rss: () => 0 }),
  resourceUsage: () => ({ maxRSS: 0 }),
  cpuUsage: () => ({ user: 0, system: 0 }),
};
export * from "../../../../packages/core/src/errors.js";
export * from "../../../../packages/core/src/rng.js";
export * from "../../../../packages/core/src/tracker.js";
export * from "../../../../packages/core/src/param-tree.js";
export * from "../../../../packages/core/src/model.js";
export * from "../../../../packages/core/src/stream.js";
export * from "../../../../packages/core/src/metrics.js";
export * from "../../../../packages/core/src/images.js";
export * from "../../../../packages/core/src/experiment.js";
export * from "../../../../packages/core/src/progress.js";
export * from "../../../../packages/core/src/memory-stream.js";
export * from "../../../../packages/core/src/baseline.js";
export * from "../../../../packages/core/src/cost.js";
