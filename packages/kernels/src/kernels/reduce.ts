/**
 * Sum and Mean over leading axes (e.g. [0, 1, 2] of an NHWC tensor: batch-norm statistics and
 * every bias/BN gradient). The stock wasm kernels first transpose the whole tensor so the reduced
 * axes are innermost; here one streaming pass accumulates each channel in float64.
 * Any other reduction is delegated to the stock kernel.
 */
import * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { runKernel, withScratch } from "../wasm-ops.js";
import { HeapScratch, nativeKernels, ptr } from "../native.js";

interface ReduceAttrs {
  axis: number | number[];
  keepDims: boolean;
}

/** Number of leading axes reduced, or 0 if `axis` is not exactly [0..k-1] with k < rank. */
function leadingAxes(shape: readonly number[], axis: number | number[]): number {
  const rank = shape.length;
  const axes = tf.util.parseAxisParam(axis, shape as number[]).slice().sort((a, b) => a - b);
  if (axes.length === 0 || axes.length >= rank) return 0;
  return axes.every((a, i) => a === i) ? axes.length : 0;
}

function makeReduce(name: "Sum" | "Mean") {
  return (args: { inputs: tf.NamedTensorInfoMap; backend: BackendWasm; attrs: ReduceAttrs }): tf.TensorInfo => {
    const { inputs, backend, attrs } = args;
    const x = inputs["x"] as tf.TensorInfo;
    const k = x.dtype === "float32" ? leadingAxes(x.shape, attrs.axis) : 0;
    if (k === 0) return runKernel(backend, name, inputs as Record<string, tf.TensorInfo>, attrs as unknown as Record<string, unknown>);
    const outer = x.shape.slice(0, k).reduce((a, b) => a * b, 1);
    const inner = x.shape.slice(k).reduce((a, b) => a * b, 1);
    const outShape = attrs.keepDims ? [...x.shape.slice(0, k).map(() => 1), ...x.shape.slice(k)] : x.shape.slice(k);
    return withScratch(backend, (s) => {
      const out = s.alloc(outShape);
      let acc: Float64Array;
      const nk = nativeKernels(backend);
      if (nk) {
        const heap = new HeapScratch(backend, 8 * inner);
        try {
          const at = heap.take(8 * inner);
          new Float64Array(heap.heap(), at, inner).fill(0);
          nk.row_stats(ptr(backend, x), outer, inner, at, at, 0);
          acc = new Float64Array(heap.heap(), at, inner).slice();
        } finally {
          heap.dispose();
        }
      } else {
        const src = s.f32(x);
        acc = new Float64Array(inner);
        for (let o = 0; o < outer; o++) {
          const base = o * inner;
          for (let i = 0; i < inner; i++) acc[i] += src[base + i] as number;
        }
      }
      const dst = s.f32(out);
      const scale = name === "Mean" ? 1 / outer : 1;
      for (let i = 0; i < inner; i++) dst[i] = (acc[i] as number) * scale;
      return s.release(out);
    });
  };
}

export const sumConfig: tf.KernelConfig = {
  kernelName: tf.Sum,
  backendName: "wasm",
  kernelFunc: makeReduce("Sum") as unknown as tf.KernelFunc,
};

export const meanConfig: tf.KernelConfig = {
  kernelName: tf.Mean,
  backendName: "wasm",
  kernelFunc: makeReduce("Mean") as unknown as tf.KernelFunc,
};
