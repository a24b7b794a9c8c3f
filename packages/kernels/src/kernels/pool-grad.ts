/**
 * MaxPoolGrad and AvgPoolGrad for wasm (NHWC), replacing the stock scalar C++ loops with one
 * streaming pass over dy. Max pooling routes each dy to the FIRST maximum of its window in
 * row-major order, exactly like the cpu backend, so ties (zeros after ReLU) agree.
 */
import * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { withScratch } from "../wasm-ops.js";
import { nativeKernels, ptr } from "../native.js";

interface PoolGradAttrs {
  filterSize: number | [number, number];
  strides: number | [number, number];
  pad: "valid" | "same" | number;
  dimRoundingMode?: "floor" | "round" | "ceil";
}

function poolInfo(xShape: number[], attrs: PoolGradAttrs) {
  return tf.backend_util.computePool2DInfo(
    xShape as [number, number, number, number],
    attrs.filterSize,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
  );
}

function maxPoolGrad(args: { inputs: tf.NamedTensorInfoMap; backend: BackendWasm; attrs: PoolGradAttrs }): tf.TensorInfo {
  const { inputs, backend, attrs } = args;
  const dy = inputs["dy"] as tf.TensorInfo;
  const input = inputs["input"] as tf.TensorInfo;
  const info = poolInfo(input.shape, attrs);
  const { batchSize, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW } = info;
  const { filterHeight: FH, filterWidth: FW, strideHeight: SH, strideWidth: SW } = info;
  const padT = info.padInfo.top;
  const padL = info.padInfo.left;
  return withScratch(backend, (s) => {
    const out = s.alloc(input.shape, true);
    const nk = nativeKernels(backend);
    if (nk) {
      nk.max_pool_grad(ptr(backend, input), ptr(backend, dy), ptr(backend, out), batchSize, H, W, C, OH, OW, FH, FW, SH, SW, padT, padL);
      return s.release(out);
    }
    const x = s.f32(input);
    const g = s.f32(dy);
    const dx = s.f32(out);
    for (let n = 0; n < batchSize; n++) {
      for (let oy = 0; oy < OH; oy++) {
        const y0 = Math.max(0, oy * SH - padT);
        const y1 = Math.min(H, oy * SH - padT + FH);
        for (let ox = 0; ox < OW; ox++) {
          const x0 = Math.max(0, ox * SW - padL);
          const x1 = Math.min(W, ox * SW - padL + FW);
          const gBase = ((n * OH + oy) * OW + ox) * C;
          for (let c = 0; c < C; c++) {
            let best = -Infinity;
            let at = -1;
            for (let yy = y0; yy < y1; yy++) {
              for (let xx = x0; xx < x1; xx++) {
                const idx = ((n * H + yy) * W + xx) * C + c;
                const v = x[idx] as number;
                if (v > best) {
                  best = v;
                  at = idx;
                }
              }
            }
            if (at >= 0) dx[at] += g[gBase + c] as number;
          }
        }
      }
    }
    return s.release(out);
  });
}

function avgPoolGrad(args: { inputs: tf.NamedTensorInfoMap; backend: BackendWasm; attrs: PoolGradAttrs }): tf.TensorInfo {
  const { inputs, backend, attrs } = args;
  const dy = inputs["dy"] as tf.TensorInfo;
  const input = inputs["input"] as tf.TensorInfo;
  const info = poolInfo(input.shape, attrs);
  const { batchSize, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW } = info;
  const { filterHeight: FH, filterWidth: FW, strideHeight: SH, strideWidth: SW } = info;
  const padT = info.padInfo.top;
  const padL = info.padInfo.left;
  // tfjs divides by the full window (padding included), like TensorFlow's AvgPoolGrad.
  const scale = 1 / (FH * FW);
  return withScratch(backend, (s) => {
    const out = s.alloc(input.shape, true);
    const g = s.f32(dy);
    const dx = s.f32(out);
    for (let n = 0; n < batchSize; n++) {
      for (let oy = 0; oy < OH; oy++) {
        const y0 = Math.max(0, oy * SH - padT);
        const y1 = Math.min(H, oy * SH - padT + FH);
        for (let ox = 0; ox < OW; ox++) {
          const x0 = Math.max(0, ox * SW - padL);
          const x1 = Math.min(W, ox * SW - padL + FW);
          const gBase = ((n * OH + oy) * OW + ox) * C;
          for (let yy = y0; yy < y1; yy++) {
            for (let xx = x0; xx < x1; xx++) {
              const dBase = ((n * H + yy) * W + xx) * C;
              for (let c = 0; c < C; c++) dx[dBase + c] += (g[gBase + c] as number) * scale;
            }
          }
        }
      }
    }
    return s.release(out);
  });
}

export const maxPoolGradConfig: tf.KernelConfig = {
  kernelName: tf.MaxPoolGrad,
  backendName: "wasm",
  kernelFunc: maxPoolGrad as unknown as tf.KernelFunc,
};

export const avgPoolGradConfig: tf.KernelConfig = {
  kernelName: tf.AvgPoolGrad,
  backendName: "wasm",
  kernelFunc: avgPoolGrad as unknown as tf.KernelFunc,
};
