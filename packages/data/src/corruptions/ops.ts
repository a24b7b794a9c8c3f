/**
 * The corruption operations, parameterised, on one image: `x` is HWC float on the 0..1 scale
 * (a fresh copy the op may change), `u8` the original uint8 pixels. Each returns the corrupted
 * image on the 0..1 scale (clipping and the ×255 truncation happen once, in `corrupt`).
 * Ported from the -C benchmark scripts (google-research/mnist-c `corruptions.py`,
 * hendrycks/robustness `make_cifar_c.py`, both Apache-2.0); see self-training-tta.md §6.
 */
import type { RandomStream } from "@mnemo/core/rng";
import jpeg from "jpeg-js";
import { mapHsv } from "./color.js";
import { bilinear, boxResize, clippedZoom, convolve2d, gaussianFilter, gaussianKernel1d, motionBlur, warpAffineInverse, type BorderMode } from "./filters.js";
import { PixelPoisson, plasmaFractal } from "./random.js";

export interface Img {
  x: Float64Array;
  u8: Uint8Array;
  h: number;
  w: number;
  c: number;
}

const clip01 = (v: number): number => (v < 0 ? 0 : v > 1 ? 1 : v);

export function gaussianNoise({ x }: Img, sigma: number, rng: RandomStream): Float64Array {
  for (let i = 0; i < x.length; i++) x[i] = (x[i] as number) + rng.normal(0, sigma);
  return x;
}

export function speckleNoise({ x }: Img, sigma: number, rng: RandomStream): Float64Array {
  for (let i = 0; i < x.length; i++) x[i] = (x[i] as number) * (1 + rng.normal(0, sigma));
  return x;
}

const poissonTables = new Map<number, PixelPoisson>();

/** Poisson(x·scale) / scale per element. */
export function shotNoise({ x, u8 }: Img, scale: number, rng: RandomStream): Float64Array {
  let table = poissonTables.get(scale);
  if (!table) poissonTables.set(scale, (table = new PixelPoisson(scale)));
  for (let i = 0; i < x.length; i++) x[i] = table.sample(u8[i] as number, rng) / scale;
  return x;
}

/** skimage `random_noise(mode="s&p")`: each element flipped with prob. `amount`, to 1 or 0 with prob. ½ each. */
export function impulseNoise({ x }: Img, amount: number, rng: RandomStream): Float64Array {
  for (let i = 0; i < x.length; i++) {
    if (rng.next() < amount) x[i] = rng.next() < 0.5 ? 1 : 0;
  }
  return x;
}

export function gaussianBlur({ x, h, w, c }: Img, sigma: number): Float64Array {
  return gaussianFilter(x, h, w, c, sigma, "nearest");
}

/**
 * Glass blur: Gaussian blur, quantise to uint8 (truncating), then for each iteration and each
 * (row, column) from (h−δ, w−δ) down to (δ+1, δ+1), exchange the pixel with one at a random
 * offset in [−δ, δ−1]² (numpy `randint(−δ, δ)`), optionally only with probability ½ (MNIST-C); blur again.
 * On grey (2-D) images the exchange is a swap; on RGB images the reference's tuple assignment of numpy
 * views copies the neighbour into the pixel and leaves the neighbour unchanged, and so does this.
 */
export function glassBlur(img: Img, sigma: number, delta: number, iterations: number, coin: boolean, rng: RandomStream): Float64Array {
  const { h, w, c } = img;
  const blurred = gaussianFilter(img.x, h, w, c, sigma, "nearest");
  const q = new Float64Array(blurred.length);
  for (let i = 0; i < q.length; i++) q[i] = Math.floor(clip01(blurred[i] as number) * 255 + 1e-6);
  for (let it = 0; it < iterations; it++) {
    for (let y = h - delta; y > delta; y--) {
      for (let xx = w - delta; xx > delta; xx--) {
        if (coin && rng.next() >= 0.5) continue;
        const dx = rng.intRange(-delta, delta - 1);
        const dy = rng.intRange(-delta, delta - 1);
        const a = (y * w + xx) * c;
        const b = ((y + dy) * w + xx + dx) * c;
        for (let ch = 0; ch < c; ch++) {
          const va = q[a + ch] as number;
          q[a + ch] = q[b + ch] as number;
          if (c === 1) q[b + ch] = va;
        }
      }
    }
  }
  for (let i = 0; i < q.length; i++) q[i] = (q[i] as number) / 255;
  return gaussianFilter(q, h, w, c, sigma, "nearest");
}

/**
 * Anti-aliased disk of the -C scripts: indicator of X²+Y² ≤ r² on [−8, 8]² (or [−r, r]² for r > 8),
 * normalised, then an OpenCV GaussianBlur (3x3, or 5x5 for r > 8) with σ = aliasBlur; cropped to its
 * non-negligible support.
 */
export function diskKernel(radius: number, aliasBlur: number): { kernel: Float64Array; size: number } {
  const R = radius <= 8 ? 8 : Math.floor(radius);
  const k = radius <= 8 ? 3 : 5;
  const n = 2 * R + 1;
  const disk = new Float64Array(n * n);
  let sum = 0;
  for (let y = -R; y <= R; y++) for (let x = -R; x <= R; x++) if (x * x + y * y <= radius * radius) sum += disk[(y + R) * n + x + R] = 1;
  for (let i = 0; i < disk.length; i++) disk[i] = (disk[i] as number) / sum;
  // cv2.getGaussianKernel(k, σ): exp(-(i - (k-1)/2)² / 2σ²), normalised.
  const g = new Float64Array(k);
  let gs = 0;
  for (let i = 0; i < k; i++) gs += g[i] = Math.exp(-((i - (k - 1) / 2) ** 2) / (2 * aliasBlur * aliasBlur));
  for (let i = 0; i < k; i++) g[i] = (g[i] as number) / gs;
  const g2 = new Float64Array(k * k);
  for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) g2[i * k + j] = (g[i] as number) * (g[j] as number);
  const blurred = convolve2d(disk, n, n, 1, g2, k, k, "reflect101");
  let r = 0;
  for (let y = 0; y < n; y++) {
    for (let x = 0; x < n; x++) if ((blurred[y * n + x] as number) > 1e-12) r = Math.max(r, Math.abs(y - R), Math.abs(x - R));
  }
  const size = 2 * r + 1;
  const kernel = new Float64Array(size * size);
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) kernel[y * size + x] = blurred[(y - r + R) * n + (x - r + R)] as number;
  return { kernel, size };
}

export function defocusBlur({ x, h, w, c }: Img, radius: number, aliasBlur: number): Float64Array {
  const { kernel, size } = diskKernel(radius, aliasBlur);
  return convolve2d(x, h, w, c, kernel, size, size, "reflect101");
}

/** Motion blur along a random angle in [lo, hi) degrees (ImageMagick-style kernel, see `motionBlur`). */
export function motionBlurOp({ u8, h, w, c }: Img, radius: number, sigma: number, rng: RandomStream, angleLo = -45, angleHi = 45): Float64Array {
  const src = Float64Array.from(u8);
  const out = motionBlur(src, h, w, c, radius, sigma, rng.uniform(angleLo, angleHi));
  for (let i = 0; i < out.length; i++) out[i] = (out[i] as number) / 255;
  return out;
}

/** Mean of the image and its clipped zooms by each factor. */
export function zoomBlur({ x, h, w, c }: Img, factors: readonly number[]): Float64Array {
  const out = Float64Array.from(x);
  for (const z of factors) {
    const zoomed = clippedZoom(x, h, w, c, z);
    for (let i = 0; i < out.length; i++) out[i] = (out[i] as number) + (zoomed[i] as number);
  }
  for (let i = 0; i < out.length; i++) out[i] = (out[i] as number) / (factors.length + 1);
  return out;
}

/** np.arange(start, stop, step) with numpy's length ceil((stop − start) / step). */
export function arange(start: number, stop: number, step: number): number[] {
  const n = Math.ceil((stop - start) / step);
  return Array.from({ length: n }, (_, i) => start + i * step);
}

/** x + a·plasma (top-left h x w of a `mapsize`² fractal), rescaled by max/(max + a). */
export function fog({ x, h, w, c }: Img, amount: number, decay: number, mapsize: number, rng: RandomStream): Float64Array {
  let max = 0;
  for (const v of x) max = Math.max(max, v);
  const plasma = plasmaFractal(mapsize, decay, rng);
  for (let y = 0; y < h; y++) {
    for (let xx = 0; xx < w; xx++) {
      const p = amount * (plasma[y * mapsize + xx] as number);
      for (let ch = 0; ch < c; ch++) {
        const i = (y * w + xx) * c + ch;
        x[i] = (((x[i] as number) + p) * max) / (max + amount);
      }
    }
  }
  return x;
}

/** (x − mean_c)·f + mean_c, mean per channel over the image. */
export function contrast({ x, h, w, c }: Img, factor: number): Float64Array {
  for (let ch = 0; ch < c; ch++) {
    let m = 0;
    for (let p = ch; p < x.length; p += c) m += x[p] as number;
    m /= h * w;
    for (let p = ch; p < x.length; p += c) x[p] = ((x[p] as number) - m) * factor + m;
  }
  return x;
}

/** HSV value + `amount` (clipped); on grey images that is x + amount. */
export function brightness({ x, c }: Img, amount: number): Float64Array {
  if (c === 1) {
    for (let i = 0; i < x.length; i++) x[i] = clip01((x[i] as number) + amount);
    return x;
  }
  return mapHsv(x, ([hh, s, v]) => [hh, s, clip01(v + amount)]);
}

/** HSV saturation·a + b (clipped), RGB only (grey images have no saturation: unchanged). */
export function saturate({ x, c }: Img, scale: number, shift: number): Float64Array {
  if (c !== 3) return x;
  return mapHsv(x, ([hh, s, v]) => [hh, clip01(s * scale + shift), v]);
}

/**
 * Encode as JPEG at `quality` and decode (jpeg-js baseline codec, 4:4:4, not libjpeg: not bit-exact
 * with PIL). The encoder codes 8x8 blocks independently and pads a partial block by repeating the
 * edge, so a batch is coded as one mosaic of edge-padded tiles (the codec's set-up costs more than
 * a small image): each tile decodes exactly as the image would alone. Returns all images, 0..1 scale.
 */
export function jpegCompressionBatch(images: Uint8Array, h: number, w: number, c: number, quality: number): Float64Array {
  const th = Math.ceil(h / 8) * 8;
  const tw = Math.ceil(w / 8) * 8;
  const size = h * w * c;
  const n = images.length / size;
  const out = new Float64Array(images.length);
  const perMosaic = 1024;
  for (let first = 0; first < n; first += perMosaic) {
    const count = Math.min(perMosaic, n - first);
    const cols = Math.min(16, count);
    const rows = Math.ceil(count / cols);
    const W = cols * tw;
    const H = rows * th;
    const rgba = Buffer.alloc(W * H * 4, 255);
    for (let k = 0; k < count; k++) {
      const off = (first + k) * size;
      const ox = (k % cols) * tw;
      const oy = Math.floor(k / cols) * th;
      for (let y = 0; y < th; y++) {
        const sy = Math.min(y, h - 1);
        for (let x = 0; x < tw; x++) {
          const sx = Math.min(x, w - 1);
          const d = ((oy + y) * W + ox + x) * 4;
          for (let ch = 0; ch < 3; ch++) rgba[d + ch] = images[off + (sy * w + sx) * c + (c === 3 ? ch : 0)] as number;
        }
      }
    }
    const encoded = jpeg.encode({ data: rgba, width: W, height: H }, quality);
    const decoded = jpeg.decode(encoded.data, { useTArray: true, formatAsRGBA: true }).data;
    for (let k = 0; k < count; k++) {
      const off = (first + k) * size;
      const ox = (k % cols) * tw;
      const oy = Math.floor(k / cols) * th;
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          const s = ((oy + y) * W + ox + x) * 4;
          const d = off + (y * w + x) * c;
          if (c === 3) for (let ch = 0; ch < 3; ch++) out[d + ch] = (decoded[s + ch] as number) / 255;
          else {
            // Grey: the luma of the decoded pixel (chroma is flat), as PIL's mode-L JPEG keeps only Y.
            const v = Math.round(0.299 * (decoded[s] as number) + 0.587 * (decoded[s + 1] as number) + 0.114 * (decoded[s + 2] as number)) / 255;
            for (let ch = 0; ch < c; ch++) out[d + ch] = v;
          }
        }
      }
    }
  }
  return out;
}

/** PIL BOX resize to int(side·f) and back. */
export function pixelate({ u8, h, w, c }: Img, factor: number): Float64Array {
  const sh = Math.trunc(h * factor + 1e-9);
  const sw = Math.trunc(w * factor + 1e-9);
  const small = boxResize(Float64Array.from(u8), h, w, c, sh, sw);
  const out = boxResize(small, sh, sw, c, h, w);
  for (let i = 0; i < out.length; i++) out[i] = (out[i] as number) / 255;
  return out;
}

/** Affine map of OpenCV `getAffineTransform`: the 2x3 M with M·src_i = dst_i for three points. */
export function affineFromPoints(src: readonly (readonly [number, number])[], dst: readonly (readonly [number, number])[]): number[] {
  const [[x0, y0], [x1, y1], [x2, y2]] = src as [[number, number], [number, number], [number, number]];
  const det = x0 * (y1 - y2) - y0 * (x1 - x2) + (x1 * y2 - x2 * y1);
  const solve = (v0: number, v1: number, v2: number): [number, number, number] => {
    const a = (v0 * (y1 - y2) - y0 * (v1 - v2) + (v1 * y2 - v2 * y1)) / det;
    const b = (x0 * (v1 - v2) - v0 * (x1 - x2) + (x1 * v2 - x2 * v1)) / det;
    const t = (x0 * (y1 * v2 - y2 * v1) - y0 * (x1 * v2 - x2 * v1) + v0 * (x1 * y2 - x2 * y1)) / det;
    return [a, b, t];
  };
  const [d0, d1, d2] = dst as [[number, number], [number, number], [number, number]];
  return [...solve(d0[0], d1[0], d2[0]), ...solve(d0[1], d1[1], d2[1])];
}

/** Inverse of a 2x3 affine map [a, b, tx, d, e, ty]. */
export function invertAffine(m: readonly number[]): number[] {
  const [a, b, tx, d, e, ty] = m as [number, number, number, number, number, number];
  const det = a * e - b * d;
  const ia = e / det;
  const ib = -b / det;
  const id = -d / det;
  const ie = a / det;
  return [ia, ib, -(ia * tx + ib * ty), id, ie, -(id * tx + ie * ty)];
}

/**
 * Elastic transform of the -C scripts: a random affine (the three points centre ± side//3 moved by
 * U(−jitter, jitter)), then displacement fields α·gaussian(U(−1, 1), σ, reflect, truncate 3) sampled
 * bilinearly. `border`: the warp's and the sampling's border (CIFAR-10-C: reflect-101 / reflect;
 * MNIST-C: zero / zero outside).
 */
export function elastic(
  { x, h, w, c }: Img,
  alpha: number,
  sigma: number,
  jitter: number,
  rng: RandomStream,
  border: { warp: BorderMode | "outside-zero"; sample: BorderMode | "outside-zero" },
): Float64Array {
  const cy = Math.floor(h / 2);
  const cx = Math.floor(w / 2);
  const s = Math.floor(Math.min(h, w) / 3);
  // pts1 as in the scripts, in (x, y) order: centre_square is (h//2, w//2) used as (x, y) by OpenCV.
  const pts1: [number, number][] = [
    [cy + s, cx + s],
    [cy + s, cx - s],
    [cy - s, cx - s],
  ];
  const pts2 = pts1.map(([a, b]) => [a + rng.uniform(-jitter, jitter), b + rng.uniform(-jitter, jitter)] as [number, number]);
  const m = affineFromPoints(pts1, pts2);
  const warped = warpAffineInverse(x, h, w, c, invertAffine(m), border.warp);
  const field = (): Float64Array => {
    const u = new Float64Array(h * w);
    for (let i = 0; i < u.length; i++) u[i] = rng.uniform(-1, 1);
    const g = gaussianFilter(u, h, w, 1, sigma, "reflect", 3);
    for (let i = 0; i < g.length; i++) g[i] = (g[i] as number) * alpha;
    return g;
  };
  const dx = field();
  const dy = field();
  const out = new Float64Array(x.length);
  for (let y = 0; y < h; y++) {
    for (let xx = 0; xx < w; xx++) {
      const p = y * w + xx;
      for (let ch = 0; ch < c; ch++) out[p * c + ch] = bilinear(warped, h, w, c, y + (dy[p] as number), xx + (dx[p] as number), ch, border.sample);
    }
  }
  return out;
}

/**
 * Mud spatter (the -C scripts' mode 1): liquid = gaussian(N(μ, s), σ1), kept where > t; mask =
 * gaussian(1[liquid > t], σ2), zeroed below 0.8; x·(1 − m) + colour·m.
 */
export function mudSpatter({ x, h, w, c }: Img, loc: number, scale: number, sigma1: number, threshold: number, sigma2: number, colour: readonly number[], rng: RandomStream): Float64Array {
  const liquid = new Float64Array(h * w);
  for (let i = 0; i < liquid.length; i++) liquid[i] = rng.normal(loc, scale);
  const smooth = gaussianFilter(liquid, h, w, 1, sigma1, "nearest");
  const ind = new Float64Array(h * w);
  for (let i = 0; i < ind.length; i++) ind[i] = (smooth[i] as number) > threshold ? 1 : 0;
  const m = gaussianFilter(ind, h, w, 1, sigma2, "nearest");
  for (let p = 0; p < h * w; p++) {
    const mv = (m[p] as number) < 0.8 ? 0 : (m[p] as number);
    for (let ch = 0; ch < c; ch++) {
      const i = p * c + ch;
      x[i] = (x[i] as number) * (1 - mv) + (colour[Math.min(ch, colour.length - 1)] as number) * mv;
    }
  }
  return x;
}

/**
 * Snow (CIFAR-10-C): a snow layer N(μ, s) zoomed by z, zeroed below t, quantised to uint8, motion
 * blurred (radius, σ, angle U(−135°, −45°)); x = k·x + (1−k)·max(x, grey(x)·1.5 + 0.5); x + snow + rot180(snow).
 */
export function snow(img: Img, p: readonly [number, number, number, number, number, number, number], rng: RandomStream): Float64Array {
  const { x, h, w, c } = img;
  const [loc, scale, zoom, threshold, radius, sigma, keep] = p;
  const layer = new Float64Array(h * w);
  for (let i = 0; i < layer.length; i++) layer[i] = rng.normal(loc, scale);
  const zoomed = clippedZoom(layer, h, w, 1, zoom);
  for (let i = 0; i < zoomed.length; i++) zoomed[i] = (zoomed[i] as number) < threshold ? 0 : Math.floor(clip01(zoomed[i] as number) * 255);
  const blurred = motionBlur(zoomed, h, w, 1, radius, sigma, rng.uniform(-135, -45));
  for (let q = 0; q < h * w; q++) {
    let grey: number;
    if (c === 3) grey = 0.299 * (x[q * 3] as number) + 0.587 * (x[q * 3 + 1] as number) + 0.114 * (x[q * 3 + 2] as number);
    else grey = x[q] as number;
    const sn = ((blurred[q] as number) + (blurred[h * w - 1 - q] as number)) / 255;
    for (let ch = 0; ch < c; ch++) {
      const i = q * c + ch;
      const v = x[i] as number;
      x[i] = keep * v + (1 - keep) * Math.max(v, grey * 1.5 + 0.5) + sn;
    }
  }
  return x;
}

/** Inverse-mapped affine about the centre ((w−1)/2, (h−1)/2) with matrix [[a, b], [d, e]] (skimage warp, zero fill). */
export function centredAffine({ x, h, w, c }: Img, a: number, b: number, d: number, e: number): Float64Array {
  const cx = (w - 1) / 2;
  const cy = (h - 1) / 2;
  return warpAffineInverse(x, h, w, c, [a, b, cx - a * cx - b * cy, d, e, cy - d * cx - e * cy], "constant");
}

export function translate({ x, h, w, c }: Img, dx: number, dy: number): Float64Array {
  return warpAffineInverse(x, h, w, c, [1, 0, dx, 0, 1, dy], "constant");
}

/** Invert the left and right quarter-width column bands (MNIST-C columns 0–6 and 21–27). */
export function stripe({ x, u8, w, c }: Img): Float64Array {
  const band = Math.round((7 * w) / 28);
  for (let i = 0; i < x.length; i++) {
    const col = Math.floor(i / c) % w;
    if (col < band || col >= w - band) x[i] = (255 - (u8[i] as number)) / 255;
  }
  return x;
}

/**
 * MNIST-C `line_from_points`: intensity log(1 − d/2.3) + 1 (clipped to [0, 1]) at vertical distance d
 * from the line through (c0, r0), (c1, r1), zero outside columns [floor(c0), ceil(c1)).
 */
export function lineLayer(h: number, w: number, c0: number, r0: number, c1: number, r1: number): Float64Array {
  const out = new Float64Array(h * w);
  if (c1 === c0) return out;
  const m = (r1 - r0) / (c1 - c0);
  const l = Math.floor(c0);
  const r = Math.ceil(c1);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (x < l || x >= r) continue;
      const d = Math.min(Math.abs(y - (m * (x - c0) + r0)), 2.3 - 1e-10);
      out[y * w + x] = clip01(Math.log(1 - d / 2.3) + 1);
    }
  }
  return out;
}

function addLayer(x: Float64Array, c: number, layer: Float64Array): Float64Array {
  for (let i = 0; i < x.length; i++) x[i] = clip01((x[i] as number) + (layer[Math.floor(i / c)] as number));
  return x;
}

/** A line from column 0 (row U{0..h−2}) to column w−1 (row U{0..h−2}) with every other 2-column block removed. */
export function dottedLine({ x, h, w, c }: Img, rng: RandomStream): Float64Array {
  const r0 = rng.int(h - 1);
  const r1 = rng.int(h - 1);
  const layer = lineLayer(h, w, 0, r0, w - 1, r1);
  for (let y = 0; y < h; y++) for (let col = 0; col < w; col++) if (Math.floor(col / 2) % 2 === 0) layer[y * w + col] = 0;
  return addLayer(x, c, layer);
}

/** MNIST-C zigzag: segments of a zigzag (a = b = 2) from column 2 to 25 at a random row and slope. */
export function zigzag({ x, h, w, c }: Img, rng: RandomStream): Float64Array {
  const a = 2;
  const b = 2;
  const c0 = 2;
  const c1 = w - 3;
  const r0 = rng.int(h - 1);
  const r1 = r0 + rng.intRange(-5, 4);
  const theta = Math.atan((r1 - r0) / (c1 - c0));
  const d = (c1 - c0) / Math.cos(theta);
  const pts: [number, number][] = [[0, 0]];
  let ri = 0;
  for (let i = 0; i < Math.floor((d - a) / (2 * a)) + 1; i++) {
    ri = (-1) ** i * b;
    pts.push([(2 * i + 1) * a, ri]);
  }
  const maxC = 2 * a * Math.floor(d / (2 * a));
  if (d !== maxC) pts.push([d, ri / (2 * (d - maxC))]);
  const rot = pts.map(([pc, pr]) => [Math.cos(theta) * pc - Math.sin(theta) * pr + c0, Math.sin(theta) * pc + Math.cos(theta) * pr + r0] as [number, number]);
  for (let i = 1; i < rot.length; i++) {
    const [ca, ra] = rot[i - 1] as [number, number];
    const [cb, rb] = rot[i] as [number, number];
    addLayer(x, c, lineLayer(h, w, ca, ra, cb, rb));
  }
  return x;
}

/**
 * Canny edges as binary 0/1 (skimage `feature.canny`, σ = 1, thresholds 0.1 / 0.2 on the Sobel
 * magnitude): mask-normalised Gaussian smoothing, Sobel, non-maximum suppression interpolated
 * along the gradient, hysteresis (8-connected), the 1-pixel border excluded. Grey images (channel 0).
 */
export function cannyEdges({ x, h, w, c }: Img, sigma = 1, low = 0.1, high = 0.2): Float64Array {
  const g = new Float64Array(h * w);
  for (let p = 0; p < h * w; p++) g[p] = x[p * c] as number;
  const ones = new Float64Array(h * w).fill(1);
  const num = gaussianFilter(g, h, w, 1, sigma, "constant");
  const den = gaussianFilter(ones, h, w, 1, sigma, "constant");
  const s = num.map((v, i) => v / (den[i] as number));
  const at = (y: number, xx: number): number => s[Math.min(Math.max(y, 0), h - 1) * w + Math.min(Math.max(xx, 0), w - 1)] as number;
  const gy = new Float64Array(h * w); // d/d row (isobel)
  const gx = new Float64Array(h * w); // d/d column (jsobel)
  const sobelAt = (y: number, xx: number, refl: (yy: number, xc: number) => number): [number, number] => {
    const iy = refl(y + 1, xx - 1) + 2 * refl(y + 1, xx) + refl(y + 1, xx + 1) - refl(y - 1, xx - 1) - 2 * refl(y - 1, xx) - refl(y - 1, xx + 1);
    const jx = refl(y - 1, xx + 1) + 2 * refl(y, xx + 1) + refl(y + 1, xx + 1) - refl(y - 1, xx - 1) - 2 * refl(y, xx - 1) - refl(y + 1, xx - 1);
    return [iy, jx];
  };
  for (let y = 0; y < h; y++) for (let xx = 0; xx < w; xx++) [gy[y * w + xx], gx[y * w + xx]] = sobelAt(y, xx, at);
  const mag = new Float64Array(h * w);
  for (let i = 0; i < mag.length; i++) mag[i] = Math.hypot(gy[i] as number, gx[i] as number);
  const M = (y: number, xx: number): number => mag[y * w + xx] as number;
  const local = new Uint8Array(h * w);
  for (let y = 1; y < h - 1; y++) {
    for (let xx = 1; xx < w - 1; xx++) {
      const i = y * w + xx;
      const m = mag[i] as number;
      if (m === 0) continue;
      const iy = gy[i] as number;
      const jx = gx[i] as number;
      const ay = Math.abs(iy);
      const ax = Math.abs(jx);
      let c1: number, c2: number, c3: number, c4: number, wgt: number;
      // Interpolate the magnitude at the two neighbours along the gradient (skimage's 4 octant cases).
      if (ay <= ax) {
        wgt = ax === 0 ? 0 : ay / ax;
        const sy = iy * jx >= 0 ? 1 : -1;
        c1 = M(y, xx + 1);
        c2 = M(y + sy, xx + 1);
        c3 = M(y, xx - 1);
        c4 = M(y - sy, xx - 1);
      } else {
        wgt = ax / ay;
        const sx = iy * jx >= 0 ? 1 : -1;
        c1 = M(y + 1, xx);
        c2 = M(y + 1, xx + sx);
        c3 = M(y - 1, xx);
        c4 = M(y - 1, xx - sx);
      }
      const n1 = c2 * wgt + c1 * (1 - wgt);
      const n2 = c4 * wgt + c3 * (1 - wgt);
      if (m >= n1 && m >= n2) local[i] = 1;
    }
  }
  const edge = new Uint8Array(h * w);
  const stack: number[] = [];
  for (let i = 0; i < h * w; i++) {
    if (local[i] && (mag[i] as number) >= high) {
      edge[i] = 1;
      stack.push(i);
    }
  }
  while (stack.length > 0) {
    const i = stack.pop() as number;
    const y = Math.floor(i / w);
    const xx = i % w;
    for (let dy = -1; dy <= 1; dy++) {
      for (let dx = -1; dx <= 1; dx++) {
        const yy = y + dy;
        const xc = xx + dx;
        if (yy < 0 || yy >= h || xc < 0 || xc >= w) continue;
        const j = yy * w + xc;
        if (!edge[j] && local[j] && (mag[j] as number) >= low) {
          edge[j] = 1;
          stack.push(j);
        }
      }
    }
  }
  const out = new Float64Array(h * w * c);
  for (let p = 0; p < h * w; p++) for (let ch = 0; ch < c; ch++) out[p * c + ch] = edge[p] as number;
  return out;
}

/** Quantise to `bits` bits (round), as MNIST-C `quantize`. */
export function quantize({ u8 }: Img, bits: number): Float64Array {
  const levels = 2 ** bits - 1;
  return Float64Array.from(u8, (v) => (Math.round((v * levels) / 255) * 255) / levels / 255);
}

export { gaussianKernel1d };
