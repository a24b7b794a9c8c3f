/**
 * `fusedConvResidual`: y = act(conv2d(x, filter) + bias + residual), the end of a residual block
 * in inference (batch norm already folded into filter and bias). On wasm, a 3×3 stride-1 pad-1
 * convolution adds the residual and applies the ReLU inside the Winograd output transform, so
 * the block ends without separate Add and Relu passes; every other case, and every other backend,
 * runs the same math as fused conv + add + relu. Inference only: it has no gradient.
 */
import * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { withScratch } from "../wasm-ops.js";
import { nativeKernels, ptr, type NativeKernels } from "../native.js";
import { convGeometry, type Pad } from "../kernels/conv-geometry.js";
import { winogradConv, winogradFits } from "../kernels/conv2d-winograd.js";

export const FUSED_CONV_RESIDUAL = "MnemoFusedConvResidual";

interface Attrs {
  strides: number | [number, number];
  pad: Pad;
  relu: boolean;
}

function wasmKernel(args: { inputs: tf.NamedTensorInfoMap; backend: BackendWasm; attrs: Attrs }): tf.TensorInfo {
  const { inputs, backend, attrs } = args;
  const x = inputs["x"] as tf.TensorInfo;
  const filter = inputs["filter"] as tf.TensorInfo;
  const bias = inputs["bias"] as tf.TensorInfo;
  const residual = inputs["residual"] as tf.TensorInfo;
  const g = filter.shape[0] === 3 && filter.shape[1] === 3 ? convGeometry(x.shape, filter.shape, attrs.strides, attrs.pad, undefined, "NHWC") : null;
  const nk = nativeKernels(backend);
  if (g && nk && winogradFits(g, g.inC, g.outC)) {
    return withScratch(backend, (s) =>
      s.release(winogradConv(s, nk as NativeKernels, x, ptr(backend, filter), ptr(backend, bias), attrs.relu, g.inC, g.outC, ptr(backend, residual))),
    );
  }
  return withScratch(backend, (s) => {
    const conv = s.run(tf.FusedConv2D, { x, filter, bias }, { strides: attrs.strides, pad: attrs.pad, dataFormat: "NHWC", dilations: 1, activation: "linear" });
    const sum = s.run(tf.Add, { a: conv, b: residual });
    return attrs.relu ? s.release(s.run(tf.Relu, { x: sum })) : s.release(sum);
  });
}

let registered = false;

function register(): void {
  if (registered) return;
  if (!tf.getKernel(FUSED_CONV_RESIDUAL, "wasm")) {
    tf.registerKernel({ kernelName: FUSED_CONV_RESIDUAL, backendName: "wasm", kernelFunc: wasmKernel as unknown as tf.KernelFunc });
  }
  registered = true;
}

export interface FusedConvResidualArgs {
  x: tf.Tensor4D;
  filter: tf.Tensor4D;
  /** Per-output-channel bias [co]. */
  bias: tf.Tensor1D;
  /** Added before the activation; the output's shape. */
  residual: tf.Tensor4D;
  strides: number | [number, number];
  pad: Pad;
  relu: boolean;
}

/** act(conv2d(x, filter) + bias + residual); one pass on wasm for 3×3 stride-1 convolutions. No gradient. */
export function fusedConvResidual(a: FusedConvResidualArgs): tf.Tensor4D {
  register();
  if (tf.getBackend() === "wasm") {
    return tf.engine().runKernel(
      FUSED_CONV_RESIDUAL,
      { x: a.x, filter: a.filter, bias: a.bias, residual: a.residual } as unknown as tf.NamedTensorMap,
      { strides: a.strides, pad: a.pad, relu: a.relu } as unknown as tf.NamedAttrMap,
    ) as tf.Tensor4D;
  }
  return tf.tidy(() => {
    const y = tf.add(tf.fused.conv2d({ x: a.x, filter: a.filter, strides: a.strides, pad: a.pad, bias: a.bias }), a.residual) as tf.Tensor4D;
    return a.relu ? tf.relu(y) : y;
  });
}
