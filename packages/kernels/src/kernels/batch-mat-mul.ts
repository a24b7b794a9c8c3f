/**
 * BatchMatMul with transposed operands. The stock wasm kernel only reaches XNNPACK for
 * untransposed, batch-1 products; every matMul gradient (x·Wᵀ, xᵀ·dy) fell to a scalar triple
 * loop. Transposing the operand first (a memory pass) keeps the GEMM in XNNPACK.
 */
import * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { runKernel, withScratch } from "../wasm-ops.js";

interface Attrs {
  transposeA: boolean;
  transposeB: boolean;
}

function batchMatMul(args: { inputs: tf.NamedTensorInfoMap; backend: BackendWasm; attrs: Attrs }): tf.TensorInfo {
  const { inputs, backend, attrs } = args;
  const a = inputs["a"] as tf.TensorInfo;
  const b = inputs["b"] as tf.TensorInfo;
  const batchOf = (t: tf.TensorInfo) => t.shape.slice(0, -2).reduce((p, q) => p * q, 1);
  const plain = !attrs.transposeA && !attrs.transposeB;
  if (plain || batchOf(a) !== 1 || batchOf(b) !== 1 || a.dtype !== "float32" || b.dtype !== "float32") {
    return runKernel(backend, "BatchMatMul", { a, b }, attrs as unknown as Record<string, unknown>);
  }
  return withScratch(backend, (s) => {
    const flip = (t: tf.TensorInfo): tf.TensorInfo => {
      const r = t.shape.length;
      const m = s.run("Reshape", { x: t }, { shape: [t.shape[r - 2] as number, t.shape[r - 1] as number] });
      return s.run("Transpose", { x: m }, { perm: [1, 0] });
    };
    const a2 = attrs.transposeA ? flip(a) : a;
    const b2 = attrs.transposeB ? flip(b) : b;
    const out = s.run("BatchMatMul", { a: a2, b: b2 }, { transposeA: false, transposeB: false });
    const rank = Math.max(a.shape.length, b.shape.length);
    const shape = [...new Array<number>(rank - 2).fill(1), out.shape[out.shape.length - 2] as number, out.shape[out.shape.length - 1] as number];
    return s.release(s.run("Reshape", { x: out }, { shape }));
  });
}

export const batchMatMulConfig: tf.KernelConfig = {
  kernelName: tf.BatchMatMul,
  backendName: "wasm",
  kernelFunc: batchMatMul as unknown as tf.KernelFunc,
};
