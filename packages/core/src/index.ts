export * from "./errors.js";
export * from "./rng.js";
export * from "./tracker.js";
export * from "./param-tree.js";
export * from "./model.js";
export * from "./stream.js";
