/**
 * Image kernels the corruptions are built from, on one float image (HWC, values on the 0..1
 * scale, Float64Array). Border modes follow the library each benchmark used: scipy's
 * "nearest" / "reflect" (skimage `gaussian`, `map_coordinates`), OpenCV's default REFLECT_101
 * (`filter2D`, `warpAffine` in CIFAR-10-C) and zero fill (skimage `warp`).
 */

/** How a coordinate outside 0..n-1 is folded back (or -1: outside, the value is 0). */
export type BorderMode = "nearest" | "reflect" | "reflect101" | "constant";

/** Index `i` on an axis of length `n` under `mode` (-1 = outside for "constant"). */
export function borderIndex(i: number, n: number, mode: BorderMode): number {
  if (i >= 0 && i < n) return i;
  switch (mode) {
    case "constant":
      return -1;
    case "nearest":
      return i < 0 ? 0 : n - 1;
    case "reflect": {
      // d c b a | a b c d | d c b a (scipy "reflect", half-sample symmetric)
      const p = 2 * n;
      const m = ((i % p) + p) % p;
      return m < n ? m : p - 1 - m;
    }
    case "reflect101": {
      // d c b | a b c d | c b a (OpenCV BORDER_REFLECT_101, scipy "mirror")
      if (n === 1) return 0;
      const p = 2 * n - 2;
      const m = ((i % p) + p) % p;
      return m < n ? m : p - m;
    }
  }
}

/** Normalised 1-D Gaussian of radius floor(truncate·σ + 0.5), as scipy.ndimage.gaussian_filter1d. */
export function gaussianKernel1d(sigma: number, truncate = 4): Float64Array {
  const r = Math.floor(truncate * sigma + 0.5);
  const k = new Float64Array(2 * r + 1);
  let sum = 0;
  for (let i = -r; i <= r; i++) sum += k[i + r] = Math.exp((-0.5 * i * i) / (sigma * sigma));
  for (let i = 0; i < k.length; i++) k[i] = (k[i] as number) / sum;
  return k;
}

/**
 * The taps of a centred 1-D kernel at each position of an axis of length n, folded back by the
 * border mode and merged per source index (a kernel longer than the axis then costs n, not its length).
 */
type Taps = { index: Int32Array; weight: Float64Array }[];
const tapCache = new Map<string, { kernel: Float64Array; taps: Taps }>();

function axisTaps(n: number, kernel: Float64Array, mode: BorderMode): Taps {
  // Kernels are built per call; the same (n, mode, kernel values) recur image after image.
  const key = `${n}/${mode}/${kernel.length}/${kernel[0]}/${kernel[(kernel.length - 1) / 2]}`;
  const hit = tapCache.get(key);
  if (hit && hit.kernel.every((v, i) => v === kernel[i])) return hit.taps;
  const taps = buildTaps(n, kernel, mode);
  if (tapCache.size > 256) tapCache.clear();
  tapCache.set(key, { kernel: Float64Array.from(kernel), taps });
  return taps;
}

function buildTaps(n: number, kernel: Float64Array, mode: BorderMode): Taps {
  const r = (kernel.length - 1) / 2;
  const out: Taps = [];
  for (let i = 0; i < n; i++) {
    const acc = new Map<number, number>();
    for (let k = -r; k <= r; k++) {
      const j = borderIndex(i + k, n, mode);
      if (j < 0) continue;
      acc.set(j, (acc.get(j) ?? 0) + (kernel[k + r] as number));
    }
    const index = Int32Array.from(acc.keys());
    out.push({ index, weight: Float64Array.from(index, (j) => acc.get(j) as number) });
  }
  return out;
}

/** Correlate every channel along one axis with a centred 1-D kernel. */
function filterAxis(src: Float64Array, h: number, w: number, c: number, kernel: Float64Array, axis: 0 | 1, mode: BorderMode): Float64Array {
  const out = new Float64Array(src.length);
  const taps = axisTaps(axis === 0 ? h : w, kernel, mode);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const { index, weight } = taps[axis === 0 ? y : x] as { index: Int32Array; weight: Float64Array };
      for (let ch = 0; ch < c; ch++) {
        let s = 0;
        if (axis === 0) for (let t = 0; t < index.length; t++) s += (weight[t] as number) * (src[((index[t] as number) * w + x) * c + ch] as number);
        else for (let t = 0; t < index.length; t++) s += (weight[t] as number) * (src[(y * w + (index[t] as number)) * c + ch] as number);
        out[(y * w + x) * c + ch] = s;
      }
    }
  }
  return out;
}

/** Spatial Gaussian filter per channel (skimage.filters.gaussian / scipy gaussian_filter; σ ≤ 0 copies). */
export function gaussianFilter(src: Float64Array, h: number, w: number, c: number, sigma: number, mode: BorderMode = "nearest", truncate = 4): Float64Array {
  if (sigma <= 0) return Float64Array.from(src);
  const k = gaussianKernel1d(sigma, truncate);
  return filterAxis(filterAxis(src, h, w, c, k, 0, mode), h, w, c, k, 1, mode);
}

/** 2-D correlation per channel with a (kh x kw, odd) kernel, OpenCV `filter2D` style. */
export function convolve2d(src: Float64Array, h: number, w: number, c: number, kernel: Float64Array, kh: number, kw: number, mode: BorderMode = "reflect101"): Float64Array {
  const out = new Float64Array(src.length);
  const ry = (kh - 1) / 2;
  const rx = (kw - 1) / 2;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let ch = 0; ch < c; ch++) {
        let s = 0;
        for (let dy = -ry; dy <= ry; dy++) {
          const yy = borderIndex(y + dy, h, mode);
          if (yy < 0) continue;
          for (let dx = -rx; dx <= rx; dx++) {
            const kv = kernel[(dy + ry) * kw + dx + rx] as number;
            if (kv === 0) continue;
            const xx = borderIndex(x + dx, w, mode);
            if (xx < 0) continue;
            s += kv * (src[(yy * w + xx) * c + ch] as number);
          }
        }
        out[(y * w + x) * c + ch] = s;
      }
    }
  }
  return out;
}

/**
 * Bilinear sample of channel `ch` at (y, x). "constant" treats out-of-range neighbours as 0
 * (skimage `warp`); "outside-zero" is scipy `map_coordinates(mode="constant")`: 0 for a point
 * outside [0, n-1], interpolation inside; other modes fold the neighbours back.
 */
export function bilinear(src: Float64Array, h: number, w: number, c: number, y: number, x: number, ch: number, mode: BorderMode | "outside-zero"): number {
  if (mode === "outside-zero") {
    const eps = 1e-9;
    if (y < -eps || y > h - 1 + eps || x < -eps || x > w - 1 + eps) return 0;
    y = Math.min(Math.max(y, 0), h - 1);
    x = Math.min(Math.max(x, 0), w - 1);
    mode = "nearest";
  }
  const y0 = Math.floor(y);
  const x0 = Math.floor(x);
  const fy = y - y0;
  const fx = x - x0;
  const at = (yy: number, xx: number): number => {
    const iy = borderIndex(yy, h, mode as BorderMode);
    const ix = borderIndex(xx, w, mode as BorderMode);
    return iy < 0 || ix < 0 ? 0 : (src[(iy * w + ix) * c + ch] as number);
  };
  let v = 0;
  if (fx < 1 && fy < 1) v += at(y0, x0) * (1 - fx) * (1 - fy);
  if (fx > 0) v += at(y0, x0 + 1) * fx * (1 - fy);
  if (fy > 0) v += at(y0 + 1, x0) * (1 - fx) * fy;
  if (fx > 0 && fy > 0) v += at(y0 + 1, x0 + 1) * fx * fy;
  return v;
}

/**
 * Inverse-map affine warp: output pixel (x, y) (column, row) reads the input at
 * (a·x + b·y + tx, d·x + e·y + ty), bilinear, out-of-range neighbours 0 (skimage `warp(inverse_map=...)`).
 * `m` = [a, b, tx, d, e, ty].
 */
export function warpAffineInverse(src: Float64Array, h: number, w: number, c: number, m: readonly number[], mode: BorderMode | "outside-zero" = "constant"): Float64Array {
  const [a, b, tx, d, e, ty] = m as [number, number, number, number, number, number];
  const out = new Float64Array(src.length);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const sx = a * x + b * y + tx;
      const sy = d * x + e * y + ty;
      for (let ch = 0; ch < c; ch++) out[(y * w + x) * c + ch] = bilinear(src, h, w, c, sy, sx, ch, mode);
    }
  }
  return out;
}

/**
 * `clipped_zoom` of the -C benchmarks: centre crop of side ceil(h / z), scipy `zoom(order=1)` by z
 * (output side round(side·z), corner-aligned), centre trim back to h x w. Square images only.
 */
export function clippedZoom(src: Float64Array, h: number, w: number, c: number, z: number): Float64Array {
  const side = Math.ceil(h / z);
  const top = Math.floor((h - side) / 2);
  const zoomed = Math.round(side * z);
  const trim = Math.floor((zoomed - h) / 2);
  const scale = zoomed > 1 ? (side - 1) / (zoomed - 1) : 0;
  // Separable bilinear: per output row/column the two source indices (inside the crop) and the weight.
  const axis = (n: number): { i0: Int32Array; i1: Int32Array; f: Float64Array } => {
    const i0 = new Int32Array(n);
    const i1 = new Int32Array(n);
    const f = new Float64Array(n);
    for (let o = 0; o < n; o++) {
      const s = (o + trim) * scale;
      const a = Math.min(Math.floor(s), side - 1);
      i0[o] = a + top;
      i1[o] = Math.min(a + 1, side - 1) + top;
      f[o] = s - a;
    }
    return { i0, i1, f };
  };
  const ay = axis(h);
  const ax = axis(w);
  const out = new Float64Array(h * w * c);
  for (let y = 0; y < h; y++) {
    const r0 = (ay.i0[y] as number) * w;
    const r1 = (ay.i1[y] as number) * w;
    const fy = ay.f[y] as number;
    for (let x = 0; x < w; x++) {
      const c0 = ax.i0[x] as number;
      const c1 = ax.i1[x] as number;
      const fx = ax.f[x] as number;
      for (let ch = 0; ch < c; ch++) {
        const v00 = src[(r0 + c0) * c + ch] as number;
        const v01 = src[(r0 + c1) * c + ch] as number;
        const v10 = src[(r1 + c0) * c + ch] as number;
        const v11 = src[(r1 + c1) * c + ch] as number;
        out[(y * w + x) * c + ch] = (v00 * (1 - fx) + v01 * fx) * (1 - fy) + (v10 * (1 - fx) + v11 * fx) * fy;
      }
    }
  }
  return out;
}

/** PIL `Image.resize(..., BOX)` along one axis: 0/1 box weights over input pixel centres, then normalised. */
function boxCoefficients(inSize: number, outSize: number): { start: number; weights: Float64Array }[] {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = 0.5 * filterScale;
  const out: { start: number; weights: Float64Array }[] = [];
  for (let o = 0; o < outSize; o++) {
    const centre = (o + 0.5) * scale;
    const start = Math.max(Math.trunc(centre - support + 0.5), 0);
    const end = Math.min(Math.trunc(centre + support + 0.5), inSize);
    const weights = new Float64Array(Math.max(end - start, 0));
    let sum = 0;
    for (let i = 0; i < weights.length; i++) {
      const t = (i + start - centre + 0.5) / filterScale;
      sum += weights[i] = t > -0.5 && t <= 0.5 ? 1 : 0;
    }
    if (sum > 0) for (let i = 0; i < weights.length; i++) weights[i] = (weights[i] as number) / sum;
    out.push({ start, weights });
  }
  return out;
}

/**
 * PIL BOX resize of a uint8-valued image (values 0..255 in a Float64Array), horizontal pass then
 * vertical, each rounded to integers like PIL's 8-bit path.
 */
export function boxResize(src: Float64Array, h: number, w: number, c: number, outH: number, outW: number): Float64Array {
  const cx = boxCoefficients(w, outW);
  const cy = boxCoefficients(h, outH);
  const mid = new Float64Array(h * outW * c);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < outW; x++) {
      const { start, weights } = cx[x] as { start: number; weights: Float64Array };
      for (let ch = 0; ch < c; ch++) {
        let s = 0;
        for (let i = 0; i < weights.length; i++) s += (weights[i] as number) * (src[(y * w + start + i) * c + ch] as number);
        mid[(y * outW + x) * c + ch] = Math.min(255, Math.max(0, Math.round(s)));
      }
    }
  }
  const out = new Float64Array(outH * outW * c);
  for (let y = 0; y < outH; y++) {
    const { start, weights } = cy[y] as { start: number; weights: Float64Array };
    for (let x = 0; x < outW; x++) {
      for (let ch = 0; ch < c; ch++) {
        let s = 0;
        for (let i = 0; i < weights.length; i++) s += (weights[i] as number) * (mid[((start + i) * outW + x) * c + ch] as number);
        out[(y * outW + x) * c + ch] = Math.min(255, Math.max(0, Math.round(s)));
      }
    }
  }
  return out;
}

/**
 * ImageMagick-style motion blur (MotionBlurImage): a one-sided line kernel of width 2·ceil(r)+1 with
 * Gaussian weights exp(−i²/2σ²), i = 0..width−1, sampled at integer offsets (round(i·cos θ),
 * round(i·sin θ)), edge pixels repeated. Input and output are 0..255 values (rounded, as the
 * PNG round trip of the benchmarks). The kernel shape is reconstructed, not bit-exact.
 */
export function motionBlur(src: Float64Array, h: number, w: number, c: number, radius: number, sigma: number, angleDegrees: number): Float64Array {
  const width = 2 * Math.ceil(radius) + 1;
  const kernel = new Float64Array(width);
  let sum = 0;
  for (let i = 0; i < width; i++) sum += kernel[i] = Math.exp(-(i * i) / (2 * sigma * sigma));
  const rad = (angleDegrees * Math.PI) / 180;
  const ox = new Int32Array(width);
  const oy = new Int32Array(width);
  for (let i = 0; i < width; i++) {
    kernel[i] = (kernel[i] as number) / sum;
    ox[i] = Math.ceil(i * Math.cos(rad) - 0.5);
    oy[i] = Math.ceil(i * Math.sin(rad) - 0.5);
  }
  const out = new Float64Array(src.length);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let ch = 0; ch < c; ch++) {
        let s = 0;
        for (let i = 0; i < width; i++) {
          const yy = borderIndex(y + (oy[i] as number), h, "nearest");
          const xx = borderIndex(x + (ox[i] as number), w, "nearest");
          s += (kernel[i] as number) * (src[(yy * w + xx) * c + ch] as number);
        }
        out[(y * w + x) * c + ch] = Math.min(255, Math.max(0, Math.round(s)));
      }
    }
  }
  return out;
}
