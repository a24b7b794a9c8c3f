/**
 * Conv2DBackpropFilter for wasm (missing from tfjs-backend-wasm 4.22.0).
 *
 * dW[kh,kw,ci,co] = Σ_{n,y,x} xpad[n, y·s+kh, x·s+kw, ci] · dy[n,y,x,co] is itself a convolution:
 * treat ci as the batch, n as the input channels and dy as a (dilated by the stride) filter.
 * That puts all the arithmetic in XNNPACK's multithreaded convolution, with two layout
 * transposes around it instead of an im2col buffer 9x the size of x.
 */
import * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { withScratch } from "../wasm-ops.js";
import { convGeometry, type Pad } from "./conv-geometry.js";

interface Attrs {
  strides: number | [number, number];
  pad: Pad;
  dataFormat?: string;
  dimRoundingMode?: "floor" | "round" | "ceil";
  filterShape: [number, number, number, number];
}

function conv2DBackpropFilter(args: { inputs: tf.NamedTensorInfoMap; backend: BackendWasm; attrs: Attrs }): tf.TensorInfo {
  const { inputs, backend, attrs } = args;
  const x = inputs["x"] as tf.TensorInfo;
  const dy = inputs["dy"] as tf.TensorInfo;
  const g = convGeometry(x.shape, attrs.filterShape, attrs.strides, attrs.pad, attrs.dimRoundingMode, attrs.dataFormat);
  return withScratch(backend, (s) => {
    if (g.kH === 1 && g.kW === 1 && g.sH === 1 && g.sW === 1 && g.padT === 0 && g.padL === 0) {
      // Pointwise: one GEMM, xᵀ·dy over all pixels.
      const a = s.run("Reshape", { x }, { shape: [1, g.batch * g.inH * g.inW, g.inC] });
      const b = s.run("Reshape", { x: dy }, { shape: [1, g.batch * g.outH * g.outW, g.outC] });
      const prod = s.run("BatchMatMul", { a, b }, { transposeA: true, transposeB: false });
      return s.release(s.run("Reshape", { x: prod }, { shape: [1, 1, g.inC, g.outC] }));
    }
    // Rows/cols of x the forward pass actually read; the rest would make the output too big.
    let padB = g.kH + (g.outH - 1) * g.sH - g.inH - g.padT;
    let padR = g.kW + (g.outW - 1) * g.sW - g.inW - g.padL;
    let src = x;
    if (padB < 0 || padR < 0) {
      const h = g.inH + Math.min(padB, 0);
      const w = g.inW + Math.min(padR, 0);
      src = s.run("Slice", { x }, { begin: [0, 0, 0, 0], size: [g.batch, h, w, g.inC] });
      padB = Math.max(padB, 0);
      padR = Math.max(padR, 0);
    }
    const xT = s.run("Transpose", { x: src }, { perm: [3, 1, 2, 0] }); // [ci, h, w, n]
    const dyT = s.run("Transpose", { x: dy }, { perm: [1, 2, 0, 3] }); // [oh, ow, n, co]
    const conv = s.run(
      "Conv2D",
      { x: xT, filter: dyT },
      {
        strides: [1, 1],
        pad: [
          [0, 0],
          [g.padT, padB],
          [g.padL, padR],
          [0, 0],
        ],
        dilations: [g.sH, g.sW],
        dataFormat: "NHWC",
      },
    ); // [ci, kh, kw, co]
    return s.release(s.run("Transpose", { x: conv }, { perm: [1, 2, 0, 3] }));
  });
}

export const conv2DBackpropFilterConfig: tf.KernelConfig = {
  kernelName: tf.Conv2DBackpropFilter,
  backendName: "wasm",
  kernelFunc: conv2DBackpropFilter as unknown as tf.KernelFunc,
};
