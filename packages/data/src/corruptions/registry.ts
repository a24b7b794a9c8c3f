/**
 * MNIST-C and CIFAR-10-C style corruptions as seeded pure functions on uint8 NHWC images, with the
 * benchmarks' severity tables (self-training-tta.md §6.1, §6.2; google-research/mnist-c
 * `corruptions.py`, hendrycks/robustness `make_cifar_c.py`).
 *
 * `getCorruption("cifar10-c", "fog")(images, [32, 32, 3], { severity: 5, rng })` returns a new
 * Uint8Array; every random draw comes from `rng`, image after image, so the same stream state
 * gives the same bytes. Output = truncate(clip(y, 0, 1)·255), as the benchmarks' `np.uint8`.
 */
import { ShapeError } from "@mnemo/core/errors";
import type { RandomStream } from "@mnemo/core/rng";
import * as op from "./ops.js";
import type { Img } from "./ops.js";

export type CorruptionBenchmark = "mnist-c" | "cifar10-c";
export type ImageShape = readonly [number, number, number];

export interface CorruptionOptions {
  /** 1..5; default: the severity the benchmark's release used (MNIST-C: each function's default; CIFAR-10-C: 5). Ignored by parameter-free corruptions. */
  severity?: number;
  rng: RandomStream;
}

/** `(images, shape, {severity, rng}) -> images`: a fresh Uint8Array of the same length. */
export type CorruptionFn = (images: Uint8Array, shape: ImageShape, options: CorruptionOptions) => Uint8Array;

interface Def {
  /** Parameters per severity 1..5, or null for a parameter-free corruption. */
  params: readonly unknown[] | null;
  /** Severity the benchmark's release used (undefined when there is none). */
  published?: number;
  /** Severities that cannot be generated here, with the reason. */
  unsupported?: { severities: readonly number[]; reason: string };
  apply(img: Img, p: unknown, rng: RandomStream): Float64Array;
  /** Whole-batch version (images, shape, parameter) -> 0..1 values, used instead of `apply` when present (deterministic ones only). */
  batch?: (images: Uint8Array, shape: ImageShape, p: unknown) => Float64Array;
}

const sign = (rng: RandomStream): number => (rng.next() < 0.5 ? -1 : 1);
type P2 = readonly [number, number];
type P3 = readonly [number, number, number];
type Range = readonly [number, number, number];
type Snow = readonly [number, number, number, number, number, number, number];
type Mud = readonly [number, number, number, number, number];
const WATER = "the water spatter of severities 1-3 needs OpenCV's Canny, distance transform and histogram equalisation; only mud (4, 5) is ported";

const jpegDef = {
  apply: (i: Img, p: unknown): Float64Array => op.jpegCompressionBatch(i.u8, i.h, i.w, i.c, p as number),
  batch: (images: Uint8Array, shape: ImageShape, p: unknown): Float64Array => op.jpegCompressionBatch(images, shape[0], shape[1], shape[2], p as number),
};

const MNIST_C: Record<string, Def> = {
  identity: { params: null, apply: ({ x }) => x },
  gaussian_noise: { params: [0.08, 0.12, 0.18, 0.26, 0.38], published: 5, apply: (i, p, r) => op.gaussianNoise(i, p as number, r) },
  shot_noise: { params: [60, 25, 12, 5, 3], published: 5, apply: (i, p, r) => op.shotNoise(i, p as number, r) },
  impulse_noise: { params: [0.03, 0.06, 0.09, 0.17, 0.27], published: 4, apply: (i, p, r) => op.impulseNoise(i, p as number, r) },
  speckle_noise: { params: [0.15, 0.2, 0.35, 0.45, 0.6], published: 5, apply: (i, p, r) => op.speckleNoise(i, p as number, r) },
  gaussian_blur: { params: [1, 2, 3, 4, 6], published: 2, apply: (i, p) => op.gaussianBlur(i, p as number) },
  glass_blur: {
    params: [[0.7, 1, 2], [0.9, 2, 1], [1, 2, 3], [1.1, 3, 2], [1.5, 4, 2]] satisfies P3[],
    published: 1,
    apply: (i, p, r) => op.glassBlur(i, (p as P3)[0], (p as P3)[1], (p as P3)[2], true, r),
  },
  defocus_blur: {
    params: [[3, 0.1], [4, 0.5], [6, 0.5], [8, 0.5], [10, 0.5]] satisfies P2[],
    published: 1,
    apply: (i, p) => op.defocusBlur(i, (p as P2)[0], (p as P2)[1]),
  },
  motion_blur: {
    params: [[10, 3], [15, 5], [15, 8], [15, 12], [20, 15]] satisfies P2[],
    published: 1,
    apply: (i, p, r) => op.motionBlurOp(i, (p as P2)[0], (p as P2)[1], r),
  },
  zoom_blur: {
    params: [[1, 1.11, 0.01], [1, 1.16, 0.01], [1, 1.21, 0.02], [1, 1.26, 0.02], [1, 1.31, 0.03]] satisfies Range[],
    published: 5,
    apply: (i, p) => op.zoomBlur(i, op.arange(...(p as Range))),
  },
  fog: {
    params: [[1.5, 2], [2, 2], [2.5, 1.7], [2.5, 1.5], [3, 1.4]] satisfies P2[],
    published: 5,
    apply: (i, p, r) => op.fog(i, (p as P2)[0], (p as P2)[1], 256, r),
  },
  snow: {
    params: [
      [0.1, 0.3, 3, 0.5, 10, 4, 0.8],
      [0.2, 0.3, 2, 0.5, 12, 4, 0.7],
      [0.55, 0.3, 4, 0.9, 12, 8, 0.7],
      [0.55, 0.3, 4.5, 0.85, 12, 8, 0.65],
      [0.55, 0.3, 2.5, 0.85, 12, 12, 0.55],
    ] satisfies Snow[],
    published: 5,
    apply: (i, p, r) => op.snow(i, p as Snow, r),
  },
  spatter: {
    params: [null, null, null, [0.65, 0.3, 1, 0.65, 1.5], [0.67, 0.4, 1, 0.65, 1.5]],
    published: 4,
    unsupported: { severities: [1, 2, 3], reason: WATER },
    apply: (i, p, r) => op.mudSpatter(i, ...(p as Mud), [63 / 255], r),
  },
  contrast: { params: [0.4, 0.3, 0.2, 0.1, 0.05], published: 4, apply: (i, p) => op.contrast(i, p as number) },
  brightness: { params: [0.1, 0.2, 0.3, 0.4, 0.5], published: 5, apply: (i, p) => op.brightness(i, p as number) },
  jpeg_compression: { params: [25, 18, 15, 10, 7], published: 5, ...jpegDef },
  pixelate: { params: [0.6, 0.5, 0.4, 0.3, 0.25], published: 3, apply: (i, p) => op.pixelate(i, p as number) },
  elastic_transform: {
    params: [
      [56, 19.6, 2.8],
      [56, 2.24, 5.6],
      [1.4, 0.28, 0.56],
      [1.96, 0.28, 0.56],
      [3.36, 0.28, 0.56],
    ] satisfies P3[],
    published: 1,
    apply: (i, p, r) => op.elastic(i, (p as P3)[0], (p as P3)[1], (p as P3)[2], r, { warp: "constant", sample: "outside-zero" }),
  },
  quantize: { params: [5, 4, 3, 2, 1], published: 5, apply: (i, p) => op.quantize(i, p as number) },
  shear: {
    params: [0.2, 0.4, 0.6, 0.8, 1],
    published: 2,
    apply: (i, p, r) => {
      const c = (p as number) * sign(r);
      return op.centredAffine(i, 1, -Math.sin(c), 0, Math.cos(c));
    },
  },
  rotate: {
    params: [0.2, 0.4, 0.6, 0.8, 1],
    published: 2,
    apply: (i, p, r) => {
      const c = (p as number) * sign(r);
      return op.centredAffine(i, Math.cos(c), -Math.sin(c), Math.sin(c), Math.cos(c));
    },
  },
  scale: {
    params: [0.9, 0.8, 0.7, 0.6, 0.5],
    published: 3,
    apply: (i, p) => op.centredAffine(i, 1 / (p as number), 0, 0, 1 / (p as number)),
  },
  translate: {
    params: [1, 2, 3, 4, 5],
    published: 3,
    apply: (i, p, r) => {
      const dx = (p as number) * sign(r);
      const dy = (p as number) * sign(r);
      return op.translate(i, dx, dy);
    },
  },
  line: {
    params: null,
    apply: (i, _p, r) => {
      const c0 = r.int(5);
      const c1 = 22 + r.int(5);
      const r0 = r.int(27);
      const r1 = r.int(27);
      const layer = op.lineLayer(i.h, i.w, c0, r0, c1, r1);
      for (let k = 0; k < i.x.length; k++) i.x[k] = Math.min(1, (i.x[k] as number) + (layer[Math.floor(k / i.c)] as number));
      return i.x;
    },
  },
  dotted_line: { params: null, apply: (i, _p, r) => op.dottedLine(i, r) },
  zigzag: { params: null, apply: (i, _p, r) => op.zigzag(i, r) },
  inverse: { params: null, apply: ({ u8 }) => Float64Array.from(u8, (v) => (255 - v) / 255) },
  stripe: { params: null, apply: (i) => op.stripe(i) },
  canny_edges: { params: null, apply: (i) => op.cannyEdges(i) },
};

const CIFAR10_C: Record<string, Def> = {
  identity: { params: null, apply: ({ x }) => x },
  gaussian_noise: { params: [0.04, 0.06, 0.08, 0.09, 0.1], published: 5, apply: (i, p, r) => op.gaussianNoise(i, p as number, r) },
  shot_noise: { params: [500, 250, 100, 75, 50], published: 5, apply: (i, p, r) => op.shotNoise(i, p as number, r) },
  impulse_noise: { params: [0.01, 0.02, 0.03, 0.05, 0.07], published: 5, apply: (i, p, r) => op.impulseNoise(i, p as number, r) },
  speckle_noise: { params: [0.06, 0.1, 0.12, 0.16, 0.2], published: 5, apply: (i, p, r) => op.speckleNoise(i, p as number, r) },
  gaussian_blur: { params: [0.4, 0.6, 0.7, 0.8, 1], published: 5, apply: (i, p) => op.gaussianBlur(i, p as number) },
  defocus_blur: {
    params: [[0.3, 0.4], [0.4, 0.5], [0.5, 0.6], [1, 0.2], [1.5, 0.1]] satisfies P2[],
    published: 5,
    apply: (i, p) => op.defocusBlur(i, (p as P2)[0], (p as P2)[1]),
  },
  glass_blur: {
    params: [[0.05, 1, 1], [0.25, 1, 1], [0.4, 1, 1], [0.25, 1, 2], [0.4, 1, 2]] satisfies P3[],
    published: 5,
    apply: (i, p, r) => op.glassBlur(i, (p as P3)[0], (p as P3)[1], (p as P3)[2], false, r),
  },
  motion_blur: {
    params: [[6, 1], [6, 1.5], [6, 2], [8, 2], [9, 2.5]] satisfies P2[],
    published: 5,
    apply: (i, p, r) => op.motionBlurOp(i, (p as P2)[0], (p as P2)[1], r),
  },
  zoom_blur: {
    params: [[1, 1.06, 0.01], [1, 1.11, 0.01], [1, 1.16, 0.01], [1, 1.21, 0.01], [1, 1.26, 0.01]] satisfies Range[],
    published: 5,
    apply: (i, p) => op.zoomBlur(i, op.arange(...(p as Range))),
  },
  snow: {
    params: [
      [0.1, 0.2, 1, 0.6, 8, 3, 0.95],
      [0.1, 0.2, 1, 0.5, 10, 4, 0.9],
      [0.15, 0.3, 1.75, 0.55, 10, 4, 0.9],
      [0.25, 0.3, 2.25, 0.6, 12, 6, 0.85],
      [0.3, 0.3, 1.25, 0.65, 14, 12, 0.8],
    ] satisfies Snow[],
    published: 5,
    apply: (i, p, r) => op.snow(i, p as Snow, r),
  },
  fog: {
    params: [[0.2, 3], [0.5, 3], [0.75, 2.5], [1, 2], [1.5, 1.75]] satisfies P2[],
    published: 5,
    apply: (i, p, r) => op.fog(i, (p as P2)[0], (p as P2)[1], 32, r),
  },
  brightness: { params: [0.05, 0.1, 0.15, 0.2, 0.3], published: 5, apply: (i, p) => op.brightness(i, p as number) },
  contrast: { params: [0.75, 0.5, 0.4, 0.3, 0.15], published: 5, apply: (i, p) => op.contrast(i, p as number) },
  elastic_transform: {
    params: [
      [0, 0, 0.08],
      [0.05, 0.2, 0.07],
      [0.08, 0.06, 0.06],
      [0.1, 0.04, 0.05],
      [0.1, 0.03, 0.03],
    ].map((t) => t.map((v) => v * 32)) as unknown as P3[],
    published: 5,
    apply: (i, p, r) => op.elastic(i, (p as P3)[0], (p as P3)[1], (p as P3)[2], r, { warp: "reflect101", sample: "reflect" }),
  },
  pixelate: { params: [0.95, 0.9, 0.85, 0.75, 0.65], published: 5, apply: (i, p) => op.pixelate(i, p as number) },
  jpeg_compression: { params: [80, 65, 58, 50, 40], published: 5, ...jpegDef },
  spatter: {
    params: [null, null, null, [0.65, 0.1, 0.7, 0.69, 0.6], [0.65, 0.1, 0.5, 0.68, 0.6]],
    published: 5,
    unsupported: { severities: [1, 2, 3], reason: WATER },
    apply: (i, p, r) => op.mudSpatter(i, ...(p as Mud), [63 / 255, 42 / 255, 20 / 255], r),
  },
  saturate: {
    params: [[0.3, 0], [0.1, 0], [1.5, 0], [2, 0.1], [2.5, 0.2]] satisfies P2[],
    published: 5,
    apply: (i, p) => op.saturate(i, (p as P2)[0], (p as P2)[1]),
  },
};

const TABLES: Record<CorruptionBenchmark, Record<string, Def>> = { "mnist-c": MNIST_C, "cifar10-c": CIFAR10_C };

/** MNIST-C's published sequence (`CORRUPTIONS` of corruptions.py without identity), each at its published severity. */
export const MNIST_C_ORDER = [
  "shot_noise",
  "impulse_noise",
  "glass_blur",
  "motion_blur",
  "shear",
  "scale",
  "rotate",
  "brightness",
  "translate",
  "stripe",
  "fog",
  "spatter",
  "dotted_line",
  "zigzag",
  "canny_edges",
] as const;

/** CoTTA's CIFAR-10-C order (self-training-tta.md §2.1), all 15. */
export const CIFAR10_C_ORDER = [
  "gaussian_noise",
  "shot_noise",
  "impulse_noise",
  "defocus_blur",
  "glass_blur",
  "motion_blur",
  "zoom_blur",
  "snow",
  "frost",
  "fog",
  "brightness",
  "contrast",
  "elastic_transform",
  "pixelate",
  "jpeg_compression",
] as const;

/** Corruptions of the published lists that need files the benchmarks ship (not generated here). */
export const UNAVAILABLE_CORRUPTIONS: Readonly<Record<string, string>> = {
  frost: "needs the benchmark's frost photographs (frost1.png .. frost6.jpg), which are not shipped",
  pessimal_noise: "needs MNIST-C's trained pessimal_noise_matrix file",
};

/** The benchmark's sequence that can be generated here (CIFAR-10-C: the 15 of CoTTA minus frost). */
export function defaultSequence(benchmark: CorruptionBenchmark): string[] {
  const order: readonly string[] = benchmark === "mnist-c" ? MNIST_C_ORDER : CIFAR10_C_ORDER;
  return order.filter((n) => !(n in UNAVAILABLE_CORRUPTIONS));
}

/** Every corruption name `getCorruption(benchmark, name)` knows. */
export function corruptionNames(benchmark: CorruptionBenchmark): string[] {
  return Object.keys(TABLES[benchmark]);
}

function def(benchmark: CorruptionBenchmark, name: string): Def {
  const d = TABLES[benchmark][name];
  if (!d) {
    const why = UNAVAILABLE_CORRUPTIONS[name];
    throw new RangeError(
      why ? `corruption "${name}" is not available: it ${why}` : `unknown ${benchmark} corruption "${name}"; known: ${corruptionNames(benchmark).join(", ")}`,
    );
  }
  return d;
}

/** Severity used when none is given: the benchmark release's (undefined for parameter-free corruptions). */
export function publishedSeverity(benchmark: CorruptionBenchmark, name: string): number | undefined {
  return def(benchmark, name).published;
}

/** Whether the corruption has severities 1..5 (false: parameter-free, e.g. stripe). */
export function hasSeverity(benchmark: CorruptionBenchmark, name: string): boolean {
  return def(benchmark, name).params !== null;
}

/** The benchmark's parameter for one severity (numbers as in the scripts), for docs and tests. */
export function corruptionParameter(benchmark: CorruptionBenchmark, name: string, severity: number): unknown {
  const d = def(benchmark, name);
  return d.params === null ? null : d.params[checkSeverity(benchmark, name, d, severity) - 1];
}

function checkSeverity(benchmark: CorruptionBenchmark, name: string, d: Def, severity: number | undefined): number {
  const s = severity ?? d.published ?? 5;
  if (!Number.isInteger(s) || s < 1 || s > 5) throw new RangeError(`severity must be an integer 1..5, got ${s}`);
  if (d.unsupported?.severities.includes(s)) throw new RangeError(`${benchmark} ${name} severity ${s} is not available: ${d.unsupported.reason}`);
  return s;
}

/** One byte from a 0..1 value: clip, ×255, truncate (np.uint8); 1e-6 absorbs float noise below exact integers. */
export function toByte(v: number): number {
  if (!(v > 0)) return 0;
  if (v >= 1) return 255;
  return Math.floor(v * 255 + 1e-6);
}

/** The corruption `name` of `benchmark` as a seeded pure function on uint8 NHWC images. */
export function getCorruption(benchmark: CorruptionBenchmark, name: string): CorruptionFn {
  const d = def(benchmark, name);
  return (images, shape, options) => {
    const [h, w, c] = shape;
    const size = h * w * c;
    if (!(size > 0) || images.length % size !== 0) {
      throw new ShapeError(`corruption ${name}: ${images.length} bytes are not a whole number of ${h}x${w}x${c} images`);
    }
    const s = checkSeverity(benchmark, name, d, options.severity);
    const p = d.params === null ? null : d.params[s - 1];
    const out = new Uint8Array(images.length);
    if (d.batch) {
      const y = d.batch(images, shape, p);
      for (let k = 0; k < y.length; k++) out[k] = toByte(y[k] as number);
      return out;
    }
    for (let off = 0; off < images.length; off += size) {
      const u8 = images.subarray(off, off + size);
      const x = new Float64Array(size);
      for (let k = 0; k < size; k++) x[k] = (u8[k] as number) / 255;
      const y = d.apply({ x, u8, h, w, c }, p, options.rng);
      for (let k = 0; k < size; k++) out[off + k] = toByte(y[k] as number);
    }
    return out;
  };
}

/** Shorthand: `getCorruption(benchmark, name)(images, shape, options)`. */
export function corrupt(benchmark: CorruptionBenchmark, name: string, images: Uint8Array, shape: ImageShape, options: CorruptionOptions): Uint8Array {
  return getCorruption(benchmark, name)(images, shape, options);
}
