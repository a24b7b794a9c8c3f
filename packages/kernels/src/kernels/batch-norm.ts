/**
 * Fused training-mode batch norm (optionally followed by ReLU) over the last axis.
 *
 * The composite version (moments, broadcasting mul/add, autodiff through them) makes ~15 passes
 * over the activation per BN layer forward+backward; these kernels make 2 forward (statistics,
 * output) and 2 backward (reductions, dx). Statistics accumulate in float64.
 *
 * With `residual`, y = act(BN(x) + residual): a ResNet block's closing add and ReLU ride along in
 * the same passes (forward: no separate Add and Relu; backward: the masked gradient, which is also
 * the residual's gradient, is written by the dx pass).
 *
 * MnemoBatchNormTrain:     x, gamma, beta[, residual]  → y, mean, variance (biased)
 * MnemoBatchNormTrainGrad: dy, dMean, dVar, x, y, gamma, mean, variance
 *                          → dx, dGamma, dBeta[, dResidual when residual && relu]
 */
import * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { cpuAccess, wasmAccess, type ArrayAccess } from "./array-access.js";
import { HeapScratch, nativeKernels, ptr } from "../native.js";

export const BATCH_NORM_TRAIN = "MnemoBatchNormTrain";
export const BATCH_NORM_TRAIN_GRAD = "MnemoBatchNormTrainGrad";

export interface BatchNormAttrs {
  epsilon: number;
  relu: boolean;
  /** A residual input is added before the activation. */
  residual: boolean;
}

function forward(io: ArrayAccess, inputs: tf.NamedTensorInfoMap, attrs: BatchNormAttrs): tf.TensorInfo[] {
  const xInfo = inputs["x"] as tf.TensorInfo;
  const C = xInfo.shape[xInfo.shape.length - 1] as number;
  const M = tf.util.sizeFromShape(xInfo.shape) / C;
  const y = io.alloc(xInfo.shape);
  const mean = io.alloc([C]);
  const variance = io.alloc([C]);
  const x = io.read(xInfo);
  const gamma = io.read(inputs["gamma"] as tf.TensorInfo);
  const beta = io.read(inputs["beta"] as tf.TensorInfo);
  const res = attrs.residual ? io.read(inputs["residual"] as tf.TensorInfo) : undefined;
  const s1 = new Float64Array(C);
  const s2 = new Float64Array(C);
  for (let r = 0; r < M; r++) {
    const base = r * C;
    for (let c = 0; c < C; c++) {
      const v = x[base + c] as number;
      s1[c] += v;
      s2[c] += v * v;
    }
  }
  const scale = new Float32Array(C);
  const shift = new Float32Array(C);
  const meanOut = io.view(mean.info);
  const varOut = io.view(variance.info);
  for (let c = 0; c < C; c++) {
    const m = (s1[c] as number) / M;
    const v = Math.max((s2[c] as number) / M - m * m, 0);
    meanOut[c] = m;
    varOut[c] = v;
    scale[c] = (gamma[c] as number) / Math.sqrt(v + attrs.epsilon);
    shift[c] = (beta[c] as number) - m * (scale[c] as number);
  }
  const out = io.view(y.info);
  for (let r = 0; r < M; r++) {
    const base = r * C;
    for (let c = 0; c < C; c++) {
      // Math.fround: the same float32 rounding of the affine part as the SIMD kernel.
      let v = Math.fround((x[base + c] as number) * (scale[c] as number) + (shift[c] as number));
      if (res) v += res[base + c] as number;
      out[base + c] = attrs.relu && !(v > 0) ? 0 : v;
    }
  }
  return [y.info, mean.info, variance.info];
}

function backward(io: ArrayAccess, inputs: tf.NamedTensorInfoMap, attrs: BatchNormAttrs): tf.TensorInfo[] {
  const xInfo = inputs["x"] as tf.TensorInfo;
  const C = xInfo.shape[xInfo.shape.length - 1] as number;
  const M = tf.util.sizeFromShape(xInfo.shape) / C;
  const dxOut = io.alloc(xInfo.shape);
  const dGammaOut = io.alloc([C]);
  const dBetaOut = io.alloc([C]);
  const gOut = attrs.residual && attrs.relu ? io.alloc(xInfo.shape) : undefined;
  const dy = io.read(inputs["dy"] as tf.TensorInfo);
  const dMean = io.read(inputs["dMean"] as tf.TensorInfo);
  const dVar = io.read(inputs["dVar"] as tf.TensorInfo);
  const x = io.read(xInfo);
  const y = io.read(inputs["y"] as tf.TensorInfo);
  const gamma = io.read(inputs["gamma"] as tf.TensorInfo);
  const mean = io.read(inputs["mean"] as tf.TensorInfo);
  const variance = io.read(inputs["variance"] as tf.TensorInfo);
  const relu = attrs.relu;
  // Σg and Σg·x per channel, g = dy masked by the fused ReLU.
  const sg = new Float64Array(C);
  const sgx = new Float64Array(C);
  for (let r = 0; r < M; r++) {
    const base = r * C;
    for (let c = 0; c < C; c++) {
      const i = base + c;
      const g = relu && !((y[i] as number) > 0) ? 0 : (dy[i] as number);
      sg[c] += g;
      sgx[c] += g * (x[i] as number);
    }
  }
  // dx = A·g + B·x + K per channel (the closed form of the BN gradient, plus the direct
  // contributions of any gradient reaching the mean/variance outputs).
  const A = new Float32Array(C);
  const B = new Float32Array(C);
  const K = new Float32Array(C);
  const dGamma = io.view(dGammaOut.info);
  const dBeta = io.view(dBetaOut.info);
  for (let c = 0; c < C; c++) {
    const m = mean[c] as number;
    const inv = 1 / Math.sqrt((variance[c] as number) + attrs.epsilon);
    const db = sg[c] as number;
    const dg = inv * ((sgx[c] as number) - m * db);
    dBeta[c] = db;
    dGamma[c] = dg;
    const a = (gamma[c] as number) * inv;
    const dv = dVar[c] as number;
    A[c] = a;
    B[c] = (-a * inv * dg) / M + (2 * dv) / M;
    K[c] = (a * (m * inv * dg - db)) / M + (dMean[c] as number) / M - (2 * dv * m) / M;
  }
  const dx = io.view(dxOut.info);
  const gView = gOut ? io.view(gOut.info) : undefined;
  for (let r = 0; r < M; r++) {
    const base = r * C;
    for (let c = 0; c < C; c++) {
      const i = base + c;
      const g = relu && !((y[i] as number) > 0) ? 0 : (dy[i] as number);
      if (gView) gView[i] = g;
      dx[i] = (A[c] as number) * g + (B[c] as number) * (x[i] as number) + (K[c] as number);
    }
  }
  const outs = [dxOut.info, dGammaOut.info, dBetaOut.info];
  return gOut ? [...outs, gOut.info] : outs;
}

type Args = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs: BatchNormAttrs };

/** Forward on wasm with the SIMD kernels: stats pass, per-channel math in JS, affine pass. */
function forwardWasm(a: Args): tf.TensorInfo[] {
  const backend = a.backend as BackendWasm;
  const nk = nativeKernels(backend);
  if (!nk) return forward(wasmAccess(backend), a.inputs, a.attrs);
  const x = a.inputs["x"] as tf.TensorInfo;
  const C = x.shape[x.shape.length - 1] as number;
  const M = tf.util.sizeFromShape(x.shape) / C;
  const y = backend.makeOutput(x.shape, "float32");
  const meanOut = backend.makeOutput([C], "float32");
  const varOut = backend.makeOutput([C], "float32");
  // On the main thread only: split over the helper worker, these short passes got slower (the
  // worker's wake-up costs more than half a pass; measured again after the Winograd change).
  const s = new HeapScratch(backend, 24 * C);
  try {
    const s1 = s.take(8 * C);
    const s2 = s.take(8 * C);
    const scaleAt = s.take(4 * C);
    const shiftAt = s.take(4 * C);
    new Float64Array(s.heap(), s1, 2 * C).fill(0);
    const [xP, yP] = [ptr(backend, x), ptr(backend, y)];
    nk.row_stats(xP, M, C, s1, s2, 1);
    const heap = s.heap();
    const sum = new Float64Array(heap, s1, C);
    const sumSq = new Float64Array(heap, s2, C);
    const scale = new Float32Array(heap, scaleAt, C);
    const shift = new Float32Array(heap, shiftAt, C);
    const gamma = backend.typedArrayFromHeap(a.inputs["gamma"] as tf.TensorInfo);
    const beta = backend.typedArrayFromHeap(a.inputs["beta"] as tf.TensorInfo);
    const mean = backend.typedArrayFromHeap(meanOut);
    const variance = backend.typedArrayFromHeap(varOut);
    for (let c = 0; c < C; c++) {
      const m = (sum[c] as number) / M;
      const v = Math.max((sumSq[c] as number) / M - m * m, 0);
      mean[c] = m;
      variance[c] = v;
      scale[c] = (gamma[c] as number) / Math.sqrt(v + a.attrs.epsilon);
      shift[c] = (beta[c] as number) - m * (scale[c] as number);
    }
    const relu = a.attrs.relu ? 1 : 0;
    const rP = a.attrs.residual ? ptr(backend, a.inputs["residual"] as tf.TensorInfo) : 0;
    nk.affine_rows(xP, yP, M, C, scaleAt, shiftAt, relu, rP);
  } finally {
    s.dispose();
  }
  return [y, meanOut, varOut];
}

function backwardWasm(a: Args): tf.TensorInfo[] {
  const backend = a.backend as BackendWasm;
  const nk = nativeKernels(backend);
  if (!nk) return backward(wasmAccess(backend), a.inputs, a.attrs);
  const inp = (k: string) => a.inputs[k] as tf.TensorInfo;
  const x = inp("x");
  const C = x.shape[x.shape.length - 1] as number;
  const M = tf.util.sizeFromShape(x.shape) / C;
  const relu = a.attrs.relu ? 1 : 0;
  const dxOut = backend.makeOutput(x.shape, "float32");
  const dGammaOut = backend.makeOutput([C], "float32");
  const dBetaOut = backend.makeOutput([C], "float32");
  const gOut = a.attrs.residual && a.attrs.relu ? backend.makeOutput(x.shape, "float32") : undefined;
  const s = new HeapScratch(backend, 28 * C);
  try {
    const sgAt = s.take(8 * C);
    const sgxAt = s.take(8 * C);
    const aAt = s.take(4 * C);
    const bAt = s.take(4 * C);
    const kAt = s.take(4 * C);
    new Float64Array(s.heap(), sgAt, 2 * C).fill(0);
    const [dyP, xP, yP, dxP] = [ptr(backend, inp("dy")), ptr(backend, x), ptr(backend, inp("y")), ptr(backend, dxOut)];
    nk.bn_grad_stats(dyP, xP, yP, M, C, relu, sgAt, sgxAt);
    const heap = s.heap();
    const sg = new Float64Array(heap, sgAt, C);
    const sgx = new Float64Array(heap, sgxAt, C);
    const A = new Float32Array(heap, aAt, C);
    const B = new Float32Array(heap, bAt, C);
    const K = new Float32Array(heap, kAt, C);
    const view = (t: tf.TensorInfo) => backend.typedArrayFromHeap(t);
    const [gamma, mean, variance, dMean, dVar] = [view(inp("gamma")), view(inp("mean")), view(inp("variance")), view(inp("dMean")), view(inp("dVar"))];
    const dGamma = view(dGammaOut);
    const dBeta = view(dBetaOut);
    for (let c = 0; c < C; c++) {
      const m = mean[c] as number;
      const inv = 1 / Math.sqrt((variance[c] as number) + a.attrs.epsilon);
      const db = sg[c] as number;
      const dg = inv * ((sgx[c] as number) - m * db);
      dBeta[c] = db;
      dGamma[c] = dg;
      const g = (gamma[c] as number) * inv;
      const dv = dVar[c] as number;
      A[c] = g;
      B[c] = (-g * inv * dg) / M + (2 * dv) / M;
      K[c] = (g * (m * inv * dg - db)) / M + (dMean[c] as number) / M - (2 * dv * m) / M;
    }
    nk.bn_grad_apply(dyP, xP, yP, dxP, M, C, relu, aAt, bAt, kAt, gOut ? ptr(backend, gOut) : 0);
  } finally {
    s.dispose();
  }
  return gOut ? [dxOut, dGammaOut, dBetaOut, gOut] : [dxOut, dGammaOut, dBetaOut];
}

function configs(
  name: string,
  fn: (io: ArrayAccess, inputs: tf.NamedTensorInfoMap, attrs: BatchNormAttrs) => tf.TensorInfo[],
  onWasm: (a: Args) => tf.TensorInfo[],
): tf.KernelConfig[] {
  return [
    { kernelName: name, backendName: "wasm", kernelFunc: onWasm as unknown as tf.KernelFunc },
    {
      kernelName: name,
      backendName: "cpu",
      kernelFunc: ((a: Args) => fn(cpuAccess(a.backend as Parameters<typeof cpuAccess>[0]), a.inputs, a.attrs)) as unknown as tf.KernelFunc,
    },
  ];
}

export const batchNormKernelConfigs: readonly tf.KernelConfig[] = [
  ...configs(BATCH_NORM_TRAIN, forward, forwardWasm),
  ...configs(BATCH_NORM_TRAIN_GRAD, backward, backwardWasm),
];
