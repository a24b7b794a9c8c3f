/** The only tfjs-backend-wasm version whose bundle layout the thread shim was written against. */
export const PINNED_WASM_VERSION = "4.22.0";
