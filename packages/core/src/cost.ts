/**
 * What a run costs, measured the same way for every method (Avalanche's timing/RAM/MAC metrics;
 * the PyCIL survey's memory-aware comparison):
 *
 * - time: wall and CPU seconds (user + system, all threads of this process) per task, for
 *   training and for evaluation; train img/s = stream images trained on / train wall seconds
 *   (replayed rows are extra work per stream image, so replay methods show up slower, as they
 *   are), eval img/s = test images evaluated / eval wall seconds;
 * - memory: peak RSS of the process (the kernel's high-water mark, not a sample), the wasm heap
 *   (linear memory only grows, so its size is its peak) and the bytes held by live tensors;
 * - model: parameter count (trainable tree, BN statistics apart) and forward multiply-accumulates
 *   per image (`Backbone.forwardMacs`; FLOPs = 2 x MACs);
 * - memory buffer: bytes of the replay memory's arrays and bytes per stored sample.
 *
 * The records here need no tfjs; the measurements that do (`sampleResources`, `wasmHeapBytes`,
 * `cpuSeconds`) are in `resources.ts`, entry `@mnemo/core/tf`.
 */
import type { Learner } from "./experiment.js";
import type { ParamTree } from "./param-tree.js";
import { perTaskKey } from "./metrics.js";

export interface ResourceSample {
  /** Current resident set size. */
  rssBytes: number;
  /** Highest resident set size of the process so far. */
  peakRssBytes: number;
  /** Size of the tfjs wasm backend's linear memory (= its peak); absent on other backends. */
  wasmHeapBytes?: number;
  /** Bytes of live tfjs tensors. */
  tensorBytes: number;
}

/** Number of scalar entries in a parameter tree. */
export function parameterCount(tree: ParamTree): number {
  let n = 0;
  for (const t of Object.values(tree)) n += t.size;
  return n;
}

export interface MemoryFootprint {
  /** Bytes of every typed array the memory owns (the image slab dominates: capacity x sample bytes). */
  bytes: number;
  /** Samples stored now. */
  samples: number;
}

interface SizedBuffer {
  size: number;
  byteSize(): number;
}

function isBuffer(v: unknown): v is SizedBuffer {
  return typeof v === "object" && v !== null && typeof (v as SizedBuffer).byteSize === "function" && typeof (v as SizedBuffer).size === "number";
}

/**
 * The replay memory a learner holds: every buffer (anything with `size` and `byteSize()`, as
 * the @mnemo/replay buffers have) found on the learner or one of its plugins, summed.
 * Undefined when there is none.
 */
export function replayMemoryOf(learner: Learner): MemoryFootprint | undefined {
  const seen = new Set<SizedBuffer>();
  for (const owner of [learner, ...learner.plugins]) {
    for (const v of Object.values(owner as object)) if (isBuffer(v)) seen.add(v);
  }
  if (seen.size === 0) return undefined;
  let bytes = 0;
  let samples = 0;
  for (const b of seen) {
    bytes += b.byteSize();
    samples += b.size;
  }
  return { bytes, samples };
}

/** Cost of one task: its training and the evaluation row after it. */
export interface TaskCost {
  trainSeconds: number;
  trainCpuSeconds: number;
  /** Stream images trained on in this task (absent when the learner does not count them). */
  trainImages?: number;
  evalSeconds: number;
  evalCpuSeconds: number;
  /** Test images evaluated for this task's row. */
  evalImages: number;
  /** Process RSS high-water mark after the task. */
  peakRssBytes: number;
  wasmHeapBytes?: number;
  tensorBytes: number;
}

/** Everything `costRecord` turns into metrics. */
export interface RunCost {
  tasks: readonly TaskCost[];
  parameterCount?: number;
  forwardMacsPerImage?: number;
  buffer?: MemoryFootprint;
}

const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);

/**
 * Flat cost metrics for metrics.json / MLflow: totals (`train_seconds`, `train_cpu_seconds`,
 * `train_images_per_sec`, `eval_*`, `peak_rss_bytes`, `wasm_heap_bytes`, `tensor_bytes`,
 * `param_count`, `forward_macs_per_image`, `forward_flops_per_image`, `buffer_bytes`,
 * `buffer_samples`, `buffer_bytes_per_sample`) and per task (`perTaskKey`) `train_seconds_task<i>`,
 * `train_cpu_seconds_task<i>`, `train_images_per_sec_task<i>`, `eval_seconds_task<i>`,
 * `peak_rss_bytes_task<i>`. Values that were not measured are left out.
 */
export function costRecord(cost: RunCost): Record<string, number> {
  const out: Record<string, number> = {};
  const t = cost.tasks;
  if (t.length > 0) {
    out["train_seconds"] = sum(t.map((c) => c.trainSeconds));
    out["train_cpu_seconds"] = sum(t.map((c) => c.trainCpuSeconds));
    out["eval_seconds"] = sum(t.map((c) => c.evalSeconds));
    out["eval_cpu_seconds"] = sum(t.map((c) => c.evalCpuSeconds));
    if (t.every((c) => c.trainImages !== undefined)) {
      const images = sum(t.map((c) => c.trainImages as number));
      out["train_images"] = images;
      if (out["train_seconds"] > 0) out["train_images_per_sec"] = images / out["train_seconds"];
    }
    const evalImages = sum(t.map((c) => c.evalImages));
    out["eval_images"] = evalImages;
    if (out["eval_seconds"] > 0) out["eval_images_per_sec"] = evalImages / out["eval_seconds"];
    out["peak_rss_bytes"] = Math.max(...t.map((c) => c.peakRssBytes));
    const heaps = t.map((c) => c.wasmHeapBytes).filter((v): v is number => v !== undefined);
    if (heaps.length > 0) out["wasm_heap_bytes"] = Math.max(...heaps);
    out["tensor_bytes"] = Math.max(...t.map((c) => c.tensorBytes));
    t.forEach((c, i) => {
      out[perTaskKey("train_seconds", i)] = c.trainSeconds;
      out[perTaskKey("train_cpu_seconds", i)] = c.trainCpuSeconds;
      if (c.trainImages !== undefined && c.trainSeconds > 0) out[perTaskKey("train_images_per_sec", i)] = c.trainImages / c.trainSeconds;
      out[perTaskKey("eval_seconds", i)] = c.evalSeconds;
      out[perTaskKey("peak_rss_bytes", i)] = c.peakRssBytes;
    });
  }
  if (cost.parameterCount !== undefined) out["param_count"] = cost.parameterCount;
  if (cost.forwardMacsPerImage !== undefined) {
    out["forward_macs_per_image"] = cost.forwardMacsPerImage;
    out["forward_flops_per_image"] = 2 * cost.forwardMacsPerImage;
  }
  if (cost.buffer) {
    out["buffer_bytes"] = cost.buffer.bytes;
    out["buffer_samples"] = cost.buffer.samples;
    if (cost.buffer.samples > 0) out["buffer_bytes_per_sample"] = cost.buffer.bytes / cost.buffer.samples;
  }
  return out;
}
