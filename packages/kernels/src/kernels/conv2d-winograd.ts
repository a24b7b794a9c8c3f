/**
 * Conv2D and FusedConv2D for wasm: 3×3, stride 1, padding 1 convolutions (every convolution of a
 * CIFAR ResNet but the stem and the two downsampling ones) run as Winograd F(4×4, 3×3) in our
 * SIMD module (native/mnemo_kernels.c): 36 multiply-adds per 4×4 output tile and channel pair
 * instead of XNNPACK's 144. Everything else goes to the stock XNNPACK kernels.
 *
 * The tile range is split between the main thread and the helper worker; each tile's arithmetic
 * does not depend on the split, so results are identical for one or two threads.
 */
import * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { runKernel, withScratch, type Scratch } from "../wasm-ops.js";
import { HeapScratch, nativeKernels, ptr, run2, type NativeKernels } from "../native.js";
import { convGeometry, type ConvGeometry, type Pad } from "./conv-geometry.js";
import { envVar } from "../env.js";

/** Bytes of transformed inputs + products per thread and tile block: sized to stay in L2. */
const BLOCK_BYTES = Number(envVar("MNEMO_WINO_BLOCK_BYTES") ?? 192 * 1024);
let enabled = envVar("MNEMO_WINOGRAD") !== "0";

/** Calls that took the Winograd path (forward, input and filter gradients): for tests and profiling. */
export const winogradStats = { calls: 0 };

/** Turn the Winograd path off (benchmarks and tests of the XNNPACK path). */
export function setWinogradEnabled(on: boolean): void {
  enabled = on;
}

/**
 * Geometry Winograd F(4,3) handles: 3×3, stride 1, one pixel of padding on every side, and
 * channel counts for the SIMD transforms (`ci` inputs in groups of 4, `co` outputs in panels of 8).
 */
export function winogradFits(g: ConvGeometry, ci: number, co: number, dilations: unknown = 1): boolean {
  const dil = Array.isArray(dilations) ? dilations : [dilations, dilations];
  return (
    enabled && g.kH === 3 && g.kW === 3 && g.sH === 1 && g.sW === 1 && g.padT === 1 && g.padL === 1 &&
    g.outH === g.inH && g.outW === g.inW && dil.every((d) => d === 1 || d === undefined) &&
    ci % 4 === 0 && co % 8 === 0
  );
}

/**
 * y = act(conv3×3(x, filter) + bias + residual) with the filter in HWIO layout ([3,3,ci,co] as a
 * heap pointer) and bias / residual as heap pointers or 0. `ci`/`co` are the channel counts of this
 * convolution (for the input gradient they are the forward's co/ci).
 */
export function winogradConv(
  s: Scratch,
  nk: NativeKernels,
  x: tf.TensorInfo,
  filterPtr: number,
  biasPtr: number,
  relu: boolean,
  ci: number,
  co: number,
  residualPtr = 0,
): tf.TensorInfo {
  winogradStats.calls++;
  const [N, H, W] = x.shape as [number, number, number, number];
  const tiles = N * Math.ceil(H / 4) * Math.ceil(W / 4);
  const T = Math.max(6, Math.floor(BLOCK_BYTES / (36 * 4 * (ci + co)) / 6) * 6);
  const perThread = 36 * T * (ci + co) * 4;
  const heap = new HeapScratch(s.backend, 36 * ci * co * 4 + 2 * perThread + 64);
  try {
    const U = heap.take(36 * ci * co * 4);
    const scratchA = heap.take(perThread);
    const scratchB = heap.take(perThread);
    nk.wino43_filter(filterPtr, U, ci, co);
    const y = s.alloc([N, H, W, co]);
    const yP = ptr(s.backend, y);
    const common = [ptr(s.backend, x), U, biasPtr, residualPtr, yP, N, H, W, ci, co, relu ? 1 : 0];
    const mid = tiles >> 1;
    run2(nk, "wino43_conv", [...common, 0, mid, T, scratchA], [...common, mid, tiles, T, scratchB]);
    return y;
  } finally {
    heap.dispose();
  }
}

/** Bytes of transformed inputs + gradients per thread and tile block for the filter gradient. */
const GRAD_BLOCK_BYTES = Number(envVar("MNEMO_WINO_GRAD_BLOCK_BYTES") ?? 384 * 1024);

/**
 * dW [3,3,ci,co] of the 3×3 stride-1 pad-1 convolution of x [n,h,w,ci] giving dy [n,h,w,co], by
 * Winograd F(3×3, 4×4). The tiles are always split in the same two halves, each summed into its
 * own accumulator and the two added in a fixed order, so one and two threads give the same bits.
 */
export function winogradFilterGrad(s: Scratch, nk: NativeKernels, x: tf.TensorInfo, dy: tf.TensorInfo): tf.TensorInfo {
  winogradStats.calls++;
  const [N, H, W, ci] = x.shape as [number, number, number, number];
  const co = dy.shape[3] as number;
  const tiles = N * Math.ceil(H / 4) * Math.ceil(W / 4);
  const T = Math.max(8, Math.floor(GRAD_BLOCK_BYTES / (36 * 4 * (ci + co))));
  const accBytes = 36 * ci * co * 4;
  const perThread = 36 * T * (ci + co) * 4;
  const heap = new HeapScratch(s.backend, 2 * accBytes + 2 * perThread + 64);
  try {
    const M0 = heap.take(accBytes);
    const M1 = heap.take(accBytes);
    const scratchA = heap.take(perThread);
    const scratchB = heap.take(perThread);
    new Float32Array(heap.heap(), M0, (2 * accBytes) / 4).fill(0);
    const common = [ptr(s.backend, x), ptr(s.backend, dy)];
    const geo = [N, H, W, ci, co];
    const mid = tiles >> 1;
    run2(nk, "wino43_filter_grad", [...common, M0, ...geo, 0, mid, T, scratchA], [...common, M1, ...geo, mid, tiles, T, scratchB]);
    const dw = s.alloc([3, 3, ci, co]);
    nk.wino43_filter_grad_out(M0, M1, ptr(s.backend, dw), ci, co);
    return dw;
  } finally {
    heap.dispose();
  }
}

export interface ConvAttrs {
  strides: number | [number, number];
  pad: Pad;
  dataFormat?: string;
  dilations?: number | [number, number];
  dimRoundingMode?: "floor" | "round" | "ceil";
  activation?: string;
}

/** Geometry if a convolution with these attributes takes the Winograd path, else null. */
export function winogradGeometry(backend: BackendWasm, x: tf.TensorInfo, filter: tf.TensorInfo, attrs: ConvAttrs): ConvGeometry | null {
  if (attrs.dataFormat !== undefined && attrs.dataFormat !== "NHWC" && attrs.dataFormat !== "channelsLast") return null;
  if (filter.shape[0] !== 3 || filter.shape[1] !== 3 || !nativeKernels(backend)) return null;
  const g = convGeometry(x.shape, filter.shape, attrs.strides, attrs.pad, attrs.dimRoundingMode, "NHWC");
  return winogradFits(g, g.inC, g.outC, attrs.dilations ?? 1) ? g : null;
}

function conv2D(args: { inputs: tf.NamedTensorInfoMap; backend: BackendWasm; attrs: ConvAttrs }): tf.TensorInfo {
  const { inputs, backend, attrs } = args;
  const x = inputs["x"] as tf.TensorInfo;
  const filter = inputs["filter"] as tf.TensorInfo;
  const g = winogradGeometry(backend, x, filter, attrs);
  if (!g) return runKernel(backend, tf.Conv2D, inputs as Record<string, tf.TensorInfo>, attrs as unknown as Record<string, unknown>);
  const nk = nativeKernels(backend) as NativeKernels;
  return withScratch(backend, (s) => s.release(winogradConv(s, nk, x, ptr(backend, filter), 0, false, g.inC, g.outC)));
}

function fusedConv2D(args: { inputs: tf.NamedTensorInfoMap; backend: BackendWasm; attrs: ConvAttrs }): tf.TensorInfo {
  const { inputs, backend, attrs } = args;
  const x = inputs["x"] as tf.TensorInfo;
  const filter = inputs["filter"] as tf.TensorInfo;
  const bias = inputs["bias"] as tf.TensorInfo | undefined;
  const activation = attrs.activation ?? "linear";
  const g = winogradGeometry(backend, x, filter, attrs);
  const simple = (activation === "linear" || activation === "relu") && !inputs["preluActivationWeights"];
  const biasOk = !bias || (bias.shape.length === 1 && bias.shape[0] === g?.outC);
  if (!g || !simple || !biasOk) return runKernel(backend, tf.FusedConv2D, inputs as Record<string, tf.TensorInfo>, attrs as unknown as Record<string, unknown>);
  const nk = nativeKernels(backend) as NativeKernels;
  const biasPtr = bias ? ptr(backend, bias) : 0;
  return withScratch(backend, (s) =>
    s.release(winogradConv(s, nk, x, ptr(backend, filter), biasPtr, activation === "relu", g.inC, g.outC)),
  );
}

export const conv2DConfig: tf.KernelConfig = {
  kernelName: tf.Conv2D,
  backendName: "wasm",
  kernelFunc: conv2D as unknown as tf.KernelFunc,
};

export const fusedConv2DConfig: tf.KernelConfig = {
  kernelName: tf.FusedConv2D,
  backendName: "wasm",
  kernelFunc: fusedConv2D as unknown as tf.KernelFunc,
};
