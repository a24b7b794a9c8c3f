/**
 * Measurements taken while a run executes (see cost.ts for what they feed): memory of the
 * process and of tfjs, CPU time. Needs tfjs, so it is exported from `@mnemo/core/tf`. Where
 * there is no Node `process` (a browser page) the process figures are 0.
 */
import * as tf from "@tensorflow/tfjs";
import type { ResourceSample } from "./cost.js";

const nodeProcess: NodeJS.Process | undefined = (globalThis as { process?: NodeJS.Process }).process;

/** Memory now (and the process's peak so far). */
export function sampleResources(): ResourceSample {
  const sample: ResourceSample = {
    rssBytes: nodeProcess?.memoryUsage ? nodeProcess.memoryUsage.rss() : 0,
    // maxRSS is in kilobytes (getrusage ru_maxrss on Linux).
    peakRssBytes: nodeProcess?.resourceUsage ? nodeProcess.resourceUsage().maxRSS * 1024 : 0,
    tensorBytes: tf.memory().numBytes,
  };
  const heap = wasmHeapBytes();
  if (heap !== undefined) sample.wasmHeapBytes = heap;
  return sample;
}

/** Bytes of the wasm backend's heap when it is the active backend. */
export function wasmHeapBytes(): number | undefined {
  if (tf.getBackend() !== "wasm") return undefined;
  const wasm = (tf.backend() as unknown as { wasm?: { HEAPU8?: Uint8Array } }).wasm;
  return wasm?.HEAPU8?.byteLength;
}

/** CPU seconds (user + system) used by this process so far. */
export function cpuSeconds(): number {
  if (!nodeProcess?.cpuUsage) return 0;
  const u = nodeProcess.cpuUsage();
  return (u.user + u.system) / 1e6;
}

