/**
 * Conv2DBackpropFilter for wasm (missing from tfjs-backend-wasm 4.22.0).
 *
 * dW[(kh,kw,ci), co] = Σ_p cols[(kh,kw,ci), p] · dy[p, co] over all output pixels p = (n,y,x):
 * one GEMM in XNNPACK (multithreaded), fed by a transposed im2col buffer (native SIMD module
 * reading NHWC; the JS fallback reads x transposed to [ci, n, h, w]). The GEMM's row-major
 * [kh·kw·ci, co] result is already the filter layout, so no transpose follows.
 * (Measured against expressing dW as an XNNPACK convolution with dy as a dilated filter:
 * that was ~2.5x slower per FLOP; see the README's optimization log.)
 */
import * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { withScratch } from "../wasm-ops.js";
import { nativeKernels, ptr, run2 } from "../native.js";
import { convGeometry, type ConvGeometry, type Pad } from "./conv-geometry.js";
import { winogradFilterGrad, winogradFits } from "./conv2d-winograd.js";
import { envVar } from "../env.js";

/**
 * Up to this many input channels the direct SIMD kernel beats im2col + XNNPACK GEMM, whose
 * packing of dy dominates when the im2col side is small, and whose 9x-sized im2col buffer is a
 * memory pass of its own; split over the helper worker it also wins at 32 and 64 channels with
 * two threads (measured: see the optimization log, step 10).
 */
export const DIRECT_MAX_IN_CHANNELS = Number(envVar("MNEMO_DW_DIRECT_MAX_CI") ?? 64);

interface Attrs {
  strides: number | [number, number];
  pad: Pad;
  dataFormat?: string;
  dimRoundingMode?: "floor" | "round" | "ceil";
  filterShape: [number, number, number, number];
}

/** cols[(kh,kw,ci), (n,oy,ox)] from xt = x as [ci, n, h, w]; zeros where the window is in the padding. */
export function im2colTransposed(xt: Float32Array, cols: Float32Array, g: ConvGeometry): void {
  const { batch, inH: H, inW: W, inC, outH: OH, outW: OW, kH, kW, sH, sW, padT, padL } = g;
  const P = batch * OH * OW;
  for (let kh = 0; kh < kH; kh++) {
    for (let kw = 0; kw < kW; kw++) {
      // Output columns whose input column ix = ox·sW + kw − padL lies inside [0, W).
      const oxLo = Math.max(0, Math.ceil((padL - kw) / sW));
      const oxHi = Math.min(OW, Math.floor((W - 1 + padL - kw) / sW) + 1);
      for (let ci = 0; ci < inC; ci++) {
        let d = ((kh * kW + kw) * inC + ci) * P;
        for (let n = 0; n < batch; n++) {
          const plane = (ci * batch + n) * H * W;
          for (let oy = 0; oy < OH; oy++) {
            const iy = oy * sH + kh - padT;
            if (iy < 0 || iy >= H || oxHi <= oxLo) {
              cols.fill(0, d, d + OW);
              d += OW;
              continue;
            }
            const row = plane + iy * W + kw - padL;
            let ox = 0;
            for (; ox < oxLo; ox++) cols[d++] = 0;
            if (sW === 1) {
              for (; ox < oxHi; ox++) cols[d++] = xt[row + ox] as number;
            } else {
              for (; ox < oxHi; ox++) cols[d++] = xt[row + ox * sW] as number;
            }
            for (; ox < OW; ox++) cols[d++] = 0;
          }
        }
      }
    }
  }
}

function conv2DBackpropFilter(args: { inputs: tf.NamedTensorInfoMap; backend: BackendWasm; attrs: Attrs }): tf.TensorInfo {
  const { inputs, backend, attrs } = args;
  const x = inputs["x"] as tf.TensorInfo;
  const dy = inputs["dy"] as tf.TensorInfo;
  const g = convGeometry(x.shape, attrs.filterShape, attrs.strides, attrs.pad, attrs.dimRoundingMode, attrs.dataFormat);
  const P = g.batch * g.outH * g.outW;
  const R = g.kH * g.kW * g.inC;
  return withScratch(backend, (s) => {
    const nk = nativeKernels(backend);
    if (nk && winogradFits(g, g.inC, g.outC)) return s.release(winogradFilterGrad(s, nk, x, dy));
    if (nk && g.outC % 16 === 0 && g.inC <= DIRECT_MAX_IN_CHANNELS) {
      const dw = s.alloc([g.kH, g.kW, g.inC, g.outC]);
      const geo = [g.inH, g.inW, g.inC, g.outH, g.outW, g.outC, g.kH, g.kW, g.sH, g.sW, g.padT, g.padL];
      const [xP, dyP] = [ptr(backend, x), ptr(backend, dy)];
      if (g.batch < 2) {
        (nk.conv_filter_grad_direct as (...args: number[]) => void)(xP, dyP, ptr(backend, dw), g.batch, ...geo);
        return s.release(dw);
      }
      // Two halves of the batch (main thread + helper worker), each into its own buffer, then summed.
      const n0 = g.batch >> 1;
      const dw2 = s.alloc([g.kH, g.kW, g.inC, g.outC]);
      run2(nk, "conv_filter_grad_direct", [xP, dyP, ptr(backend, dw), n0, ...geo], [
        xP + 4 * n0 * g.inH * g.inW * g.inC,
        dyP + 4 * n0 * g.outH * g.outW * g.outC,
        ptr(backend, dw2),
        g.batch - n0,
        ...geo,
      ]);
      const [d, d2] = [s.f32(dw), s.f32(dw2)];
      for (let i = 0; i < d.length; i++) d[i] = (d[i] as number) + (d2[i] as number);
      return s.release(dw);
    }
    let a: tf.TensorInfo;
    if (g.kH === 1 && g.kW === 1 && g.sH === 1 && g.sW === 1 && g.padT === 0 && g.padL === 0) {
      // Pointwise: the im2col buffer is xᵀ itself.
      const x2 = s.run("Reshape", { x }, { shape: [P, g.inC] });
      a = s.run("Transpose", { x: x2 }, { perm: [1, 0] });
    } else {
      a = s.alloc([R, P]);
      if (nk) {
        // Reads NHWC directly: the stock Transpose kernel cost more than the GEMM on 16-channel layers.
        // Columns of the first / second half of the batch on the main thread / helper worker.
        const args = [ptr(backend, x), ptr(backend, a), g.batch, g.inH, g.inW, g.inC, g.outH, g.outW, g.kH, g.kW, g.sH, g.sW, g.padT, g.padL];
        const n0 = g.batch >> 1;
        run2(nk, "im2col_t_range", [...args, 0, n0], [...args, n0, g.batch]);
      } else {
        const xt = s.run("Transpose", { x }, { perm: [3, 0, 1, 2] }); // [ci, n, h, w]
        im2colTransposed(s.f32(xt), s.f32(a), g);
      }
    }
    const a3 = s.run("Reshape", { x: a }, { shape: [1, R, P] });
    const b3 = s.run("Reshape", { x: dy }, { shape: [1, P, g.outC] });
    const prod = s.run("BatchMatMul", { a: a3, b: b3 }, { transposeA: false, transposeB: false });
    return s.release(s.run("Reshape", { x: prod }, { shape: [g.kH, g.kW, g.inC, g.outC] }));
  });
}

export const conv2DBackpropFilterConfig: tf.KernelConfig = {
  kernelName: tf.Conv2DBackpropFilter,
  backendName: "wasm",
  kernelFunc: conv2DBackpropFilter as unknown as tf.KernelFunc,
};
