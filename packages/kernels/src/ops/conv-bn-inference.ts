/**
 * `convBnInference`: y = act(BN(conv2d(x, W)) [+ residual]) with BN on running statistics, as ONE
 * op. BN is folded into the convolution (W·s and bias β − μ·s with s = γ/√(σ² + ε)) inside the
 * kernel, so a conv + BN unit in eval mode costs one kernel call instead of seven small ops. On
 * wasm, 3×3 stride-1 pad-1 convolutions run as Winograd with the bias, the residual and the ReLU
 * applied in the output transform; other shapes use XNNPACK's fused convolution. Other backends
 * run the same folding with standard ops. Inference only: it has no gradient.
 */
import * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { withScratch } from "../wasm-ops.js";
import { nativeKernels, ptr, type NativeKernels } from "../native.js";
import type { Pad } from "../kernels/conv-geometry.js";
import { winogradConv, winogradGeometry } from "../kernels/conv2d-winograd.js";

export const CONV_BN_INFERENCE = "MnemoConvBnInference";

interface Attrs {
  strides: number | [number, number];
  pad: Pad;
  epsilon: number;
  relu: boolean;
  residual: boolean;
}

function wasmKernel(args: { inputs: tf.NamedTensorInfoMap; backend: BackendWasm; attrs: Attrs }): tf.TensorInfo {
  const { inputs, backend, attrs } = args;
  const input = (k: string) => inputs[k] as tf.TensorInfo;
  const x = input("x");
  const filter = input("filter");
  const co = filter.shape[3] as number;
  return withScratch(backend, (s) => {
    // Allocate before taking any heap view: an allocation can grow (and detach) the heap.
    const bias = s.alloc([co]);
    const scaledFilter = s.alloc(filter.shape);
    // Fold BN: per-channel scale and bias (float32 steps, as the op-level version computes them).
    const view = (t: tf.TensorInfo) => s.f32(t);
    const [gamma, beta, mean, variance] = ["gamma", "beta", "mean", "variance"].map((k) => view(input(k))) as Float32Array[];
    const scale = new Float32Array(co);
    const b = view(bias);
    for (let c = 0; c < co; c++) {
      scale[c] = Math.fround((gamma?.[c] as number) * Math.fround(1 / Math.sqrt(Math.fround((variance?.[c] as number) + attrs.epsilon))));
      b[c] = Math.fround((beta?.[c] as number) - Math.fround((mean?.[c] as number) * (scale[c] as number)));
    }
    const w = view(filter);
    const ws = view(scaledFilter);
    for (let i = 0; i < w.length; i += co) {
      for (let c = 0; c < co; c++) ws[i + c] = (w[i + c] as number) * (scale[c] as number);
    }
    const residual = attrs.residual ? input("residual") : undefined;
    const g = winogradGeometry(backend, x, filter, attrs);
    if (g) {
      const nk = nativeKernels(backend) as NativeKernels; // winogradGeometry checked it is there
      const rP = residual ? ptr(backend, residual) : 0;
      return s.release(winogradConv(s, nk, x, ptr(backend, scaledFilter), ptr(backend, bias), attrs.relu, g.inC, g.outC, rP));
    }
    const conv = s.run(tf.FusedConv2D, { x, filter: scaledFilter, bias }, {
      strides: attrs.strides,
      pad: attrs.pad,
      dataFormat: "NHWC",
      dilations: 1,
      activation: attrs.relu && !residual ? "relu" : "linear",
    });
    if (!residual) return s.release(conv);
    const sum = s.run(tf.Add, { a: conv, b: residual });
    return attrs.relu ? s.release(s.run(tf.Relu, { x: sum })) : s.release(sum);
  });
}

let registered = false;

function register(): void {
  if (registered) return;
  if (!tf.getKernel(CONV_BN_INFERENCE, "wasm")) {
    tf.registerKernel({ kernelName: CONV_BN_INFERENCE, backendName: "wasm", kernelFunc: wasmKernel as unknown as tf.KernelFunc });
  }
  registered = true;
}

export interface ConvBnInferenceArgs {
  x: tf.Tensor4D;
  /** HWIO filter [kh, kw, ci, co]. */
  filter: tf.Tensor4D;
  gamma: tf.Tensor1D;
  beta: tf.Tensor1D;
  /** Running mean and variance [co]. */
  mean: tf.Tensor1D;
  variance: tf.Tensor1D;
  epsilon: number;
  strides: number | [number, number];
  pad: Pad;
  relu: boolean;
  /** Added after BN, before the ReLU (a residual block's shortcut); the output's shape. */
  residual?: tf.Tensor4D;
}

/** act(BN_running(conv2d(x, filter)) [+ residual]) in one kernel on wasm. No gradient (inference). */
export function convBnInference(a: ConvBnInferenceArgs): tf.Tensor4D {
  register();
  if (tf.getBackend() === "wasm" && a.x.dtype === "float32") {
    const inputs: Record<string, tf.Tensor> = { x: a.x, filter: a.filter, gamma: a.gamma, beta: a.beta, mean: a.mean, variance: a.variance };
    if (a.residual) inputs["residual"] = a.residual;
    const attrs = { strides: a.strides, pad: a.pad, epsilon: a.epsilon, relu: a.relu, residual: a.residual !== undefined };
    return tf.engine().runKernel(CONV_BN_INFERENCE, inputs as tf.NamedTensorMap, attrs as unknown as tf.NamedAttrMap) as tf.Tensor4D;
  }
  return tf.tidy(() => {
    const scale = tf.mul(a.gamma, tf.rsqrt(tf.add(a.variance, a.epsilon)));
    const bias = tf.sub(a.beta, tf.mul(a.mean, scale)) as tf.Tensor1D;
    const filter = tf.mul(a.filter, scale) as tf.Tensor4D;
    const fusedRelu = a.relu && !a.residual;
    let y = tf.fused.conv2d({ x: a.x, filter, strides: a.strides, pad: a.pad, bias, activation: fusedRelu ? "relu" : "linear" }) as tf.Tensor4D;
    if (a.residual) {
      y = tf.add(y, a.residual);
      if (a.relu) y = tf.relu(y);
    }
    return y;
  });
}
