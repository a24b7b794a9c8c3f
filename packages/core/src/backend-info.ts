/**
 * Which tfjs backend a run uses, as recorded with every run (`ExperimentContext.backend`).
 * Choosing and setting one up is `@mnemo/runtime`'s job (`selectBackend`); the names and the
 * record are here so the contract can carry them without loading any backend.
 */
export const BACKEND_CHOICES = ["auto", "node-gpu", "node", "webgpu", "webgl", "wasm", "cpu"] as const;
export type BackendChoice = (typeof BACKEND_CHOICES)[number];
export type ConcreteBackend = Exclude<BackendChoice, "auto">;

export interface BackendInfo {
  /** Which Mnemo backend runs. */
  name: ConcreteBackend;
  /** tfjs's own backend name ("tensorflow", "webgpu", "webgl", "wasm", "cpu"). */
  tfBackend: string;
  /** Compute threads (wasm: worker threads; native: as configured by TF; cpu: 1). */
  threads: number;
  simd?: boolean;
  /** webgpu: the adapter (vendor, architecture, device); webgl: the renderer. */
  adapter?: string;
  /** Backends tried before this one, and why each was skipped. */
  skipped: { name: ConcreteBackend; reason: string }[];
  /** Human-readable one-liner recorded with every run, e.g. "wasm (2 threads, simd)". */
  description: string;
}
