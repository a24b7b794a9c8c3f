/** Convolution geometry shared by the gradient kernels (NHWC only, like the wasm backend). */
import * as tf from "@tensorflow/tfjs";

export type Pad = "valid" | "same" | number | [[number, number], [number, number], [number, number], [number, number]];

export interface ConvGeometry {
  batch: number;
  inH: number;
  inW: number;
  inC: number;
  outH: number;
  outW: number;
  outC: number;
  kH: number;
  kW: number;
  sH: number;
  sW: number;
  padT: number;
  padL: number;
}

export class UnsupportedConvError extends Error {
  constructor(what: string) {
    super(`@mnemo/kernels: ${what}`);
    this.name = "UnsupportedConvError";
  }
}

export function convGeometry(
  xShape: readonly number[],
  filterShape: readonly number[],
  strides: number | [number, number],
  pad: Pad,
  dimRoundingMode: "floor" | "round" | "ceil" | undefined,
  dataFormat: string | undefined,
): ConvGeometry {
  if (dataFormat !== undefined && dataFormat !== "NHWC") {
    throw new UnsupportedConvError(`dataFormat "${dataFormat}" is not supported on wasm; use NHWC (channelsLast)`);
  }
  const info = tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    strides,
    1,
    pad as "valid",
    dimRoundingMode,
    false,
    "channelsLast",
  );
  return {
    batch: info.batchSize,
    inH: info.inHeight,
    inW: info.inWidth,
    inC: info.inChannels,
    outH: info.outHeight,
    outW: info.outWidth,
    outC: info.outChannels,
    kH: info.filterHeight,
    kW: info.filterWidth,
    sH: info.strideHeight,
    sW: info.strideWidth,
    padT: info.padInfo.top,
    padL: info.padInfo.left,
  };
}
