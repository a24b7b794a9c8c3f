/**
 * Conv2DBackpropInput for wasm, replacing the stock scalar loop.
 *
 * dx is the "full" convolution of dy (zero-interleaved by the stride) with the filter rotated by
 * 180° and its in/out channels swapped, so XNNPACK's convolution does the work. The filter
 * rearrangement is tiny; the interleave only runs for strided layers.
 */
import * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { withScratch, type Scratch } from "../wasm-ops.js";
import { nativeKernels, ptr, run2 } from "../native.js";
import { convGeometry, type ConvGeometry, type Pad } from "./conv-geometry.js";
import { winogradConv, winogradFits } from "./conv2d-winograd.js";

interface Attrs {
  strides: number | [number, number];
  pad: Pad;
  dataFormat?: string;
  dimRoundingMode?: "floor" | "round" | "ceil";
  inputShape: [number, number, number, number];
}

/** filter [kh,kw,ci,co] → rot180, channels swapped: [kh,kw,co,ci]. */
function flipFilter(s: Scratch, filter: tf.TensorInfo, g: ConvGeometry): tf.TensorInfo {
  const out = s.alloc([g.kH, g.kW, g.outC, g.inC]);
  const src = s.f32(filter);
  const dst = s.f32(out);
  const { kH, kW, inC, outC } = g;
  for (let kh = 0; kh < kH; kh++) {
    for (let kw = 0; kw < kW; kw++) {
      const sBase = ((kH - 1 - kh) * kW + (kW - 1 - kw)) * inC * outC;
      const dBase = (kh * kW + kw) * outC * inC;
      for (let ci = 0; ci < inC; ci++) {
        for (let co = 0; co < outC; co++) dst[dBase + co * inC + ci] = src[sBase + ci * outC + co] as number;
      }
    }
  }
  return out;
}

/** dy [n,oh,ow,c] → [n,oh·sh,ow·sw,c] with dy at multiples of the stride, zeros elsewhere. */
function interleave(s: Scratch, dy: tf.TensorInfo, g: ConvGeometry): tf.TensorInfo {
  const { batch, outH, outW, outC, sH, sW } = g;
  const H = outH * sH;
  const W = outW * sW;
  const nk = nativeKernels(s.backend);
  if (nk) {
    const out = s.alloc([batch, H, W, outC]);
    nk.interleave(ptr(s.backend, dy), ptr(s.backend, out), batch, outH, outW, outC, sH, sW);
    return out;
  }
  const out = s.alloc([batch, H, W, outC], true);
  const src = s.f32(dy);
  const dst = s.f32(out);
  for (let n = 0; n < batch; n++) {
    for (let y = 0; y < outH; y++) {
      for (let x = 0; x < outW; x++) {
        const si = ((n * outH + y) * outW + x) * outC;
        const di = ((n * H + y * sH) * W + x * sW) * outC;
        dst.set(src.subarray(si, si + outC), di);
      }
    }
  }
  return out;
}

function conv2DBackpropInput(args: { inputs: tf.NamedTensorInfoMap; backend: BackendWasm; attrs: Attrs }): tf.TensorInfo {
  const { inputs, backend, attrs } = args;
  const dy = inputs["dy"] as tf.TensorInfo;
  const filter = inputs["filter"] as tf.TensorInfo;
  const g = convGeometry(attrs.inputShape, filter.shape, attrs.strides, attrs.pad, attrs.dimRoundingMode, attrs.dataFormat);
  return withScratch(backend, (s) => {
    if (g.kH === 1 && g.kW === 1 && g.sH === 1 && g.sW === 1 && g.padT === 0 && g.padL === 0) {
      // Pointwise: dx = dy · Wᵀ, one GEMM (the tiny filter is transposed, not dy).
      const a = s.run("Reshape", { x: dy }, { shape: [1, g.batch * g.outH * g.outW, g.outC] });
      const w2 = s.run("Reshape", { x: filter }, { shape: [g.inC, g.outC] });
      const wT = s.run("Transpose", { x: w2 }, { perm: [1, 0] });
      const b = s.run("Reshape", { x: wT }, { shape: [1, g.outC, g.inC] });
      const prod = s.run("BatchMatMul", { a, b }, { transposeA: false, transposeB: false });
      return s.release(s.run("Reshape", { x: prod }, { shape: [g.batch, g.inH, g.inW, g.inC] }));
    }
    const nk = nativeKernels(backend);
    if (nk && winogradFits(g, g.outC, g.inC)) {
      // 3×3, stride 1, pad 1: dx is the same convolution of dy with the flipped filter, in Winograd.
      const w = flipFilter(s, filter, g);
      return s.release(winogradConv(s, nk, dy, ptr(backend, w), 0, false, g.outC, g.inC));
    }
    if (nk) {
      // dcols = dy · Wᵀ in XNNPACK (the packed operand is the small filter), then col2im:
      // measured ~2x faster than the flipped-filter convolution, and no zero-interleave for strides.
      const R = g.kH * g.kW * g.inC;
      const P = g.batch * g.outH * g.outW;
      const w2 = s.run("Reshape", { x: filter }, { shape: [R, g.outC] });
      const wT = s.run("Transpose", { x: w2 }, { perm: [1, 0] });
      const a = s.run("Reshape", { x: dy }, { shape: [1, P, g.outC] });
      const b = s.run("Reshape", { x: wT }, { shape: [1, g.outC, R] });
      const dcols = s.run("BatchMatMul", { a, b }, { transposeA: false, transposeB: false });
      const dx = s.alloc([g.batch, g.inH, g.inW, g.inC]);
      // Images [0, n0) on the main thread, the rest on the helper worker (disjoint dx).
      const geo = [g.inH, g.inW, g.inC, g.outH, g.outW, g.kH, g.kW, g.sH, g.sW, g.padT, g.padL];
      const n0 = g.batch >> 1;
      const [dcP, dxP] = [ptr(backend, dcols), ptr(backend, dx)];
      run2(nk, "col2im", [dcP, dxP, n0, ...geo], [dcP + 4 * n0 * g.outH * g.outW * R, dxP + 4 * n0 * g.inH * g.inW * g.inC, g.batch - n0, ...geo]);
      return s.release(dx);
    }
    const w = flipFilter(s, filter, g);
    let src = g.sH > 1 || g.sW > 1 ? interleave(s, dy, g) : dy;
    const srcH = g.outH * g.sH;
    const srcW = g.outW * g.sW;
    let padT = g.kH - 1 - g.padT;
    let padL = g.kW - 1 - g.padL;
    let padB = g.inH - srcH + g.kH - 1 - padT;
    let padR = g.inW - srcW + g.kW - 1 - padL;
    if (padT < 0 || padL < 0 || padB < 0 || padR < 0) {
      // Explicit paddings larger than the kernel: drop the rows/cols that never reach dx.
      const top = Math.max(-padT, 0);
      const left = Math.max(-padL, 0);
      const h = srcH - top - Math.max(-padB, 0);
      const wd = srcW - left - Math.max(-padR, 0);
      src = s.run("Slice", { x: src }, { begin: [0, top, left, 0], size: [g.batch, h, wd, g.outC] });
      padT = Math.max(padT, 0);
      padL = Math.max(padL, 0);
      padB = Math.max(padB, 0);
      padR = Math.max(padR, 0);
    }
    return s.release(
      s.run(
        "Conv2D",
        { x: src, filter: w },
        {
          strides: [1, 1],
          pad: [
            [0, 0],
            [padT, padB],
            [padL, padR],
            [0, 0],
          ],
          dilations: [1, 1],
          dataFormat: "NHWC",
        },
      ),
    );
  });
}

export const conv2DBackpropInputConfig: tf.KernelConfig = {
  kernelName: tf.Conv2DBackpropInput,
  backendName: "wasm",
  kernelFunc: conv2DBackpropInput as unknown as tf.KernelFunc,
};
