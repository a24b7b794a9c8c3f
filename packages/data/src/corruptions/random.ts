/** Random fields the corruptions draw: Poisson counts, the plasma fractal. */
import type { RandomStream } from "@mnemo/core/rng";

/**
 * Poisson(λ) sampler for the 256 means λ = (v / 255)·scale a uint8 pixel v can have: one uniform
 * and a search in a precomputed CDF per draw (inversion; exact up to the CDF's float rounding).
 */
export class PixelPoisson {
  private readonly cdfs: Float64Array[] = [];
  constructor(scale: number) {
    for (let v = 0; v < 256; v++) {
      const lambda = (v / 255) * scale;
      const kmax = Math.ceil(lambda + 12 * Math.sqrt(lambda) + 12);
      const cdf = new Float64Array(kmax + 1);
      let p = Math.exp(-lambda);
      let s = p;
      cdf[0] = s;
      for (let k = 1; k <= kmax; k++) {
        p *= lambda / k;
        s += p;
        cdf[k] = s;
      }
      this.cdfs.push(cdf);
    }
  }

  /** A Poisson count for pixel value v (0..255). */
  sample(v: number, rng: RandomStream): number {
    const cdf = this.cdfs[v] as Float64Array;
    const u = rng.next();
    let lo = 0;
    let hi = cdf.length - 1;
    if (u >= (cdf[hi] as number)) return hi;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((cdf[mid] as number) > u) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
}

/**
 * Diamond-square height map of side `mapsize` (a power of two), normalised to [0, 1]: the
 * `plasma_fractal` of the -C benchmarks. Each new point is the mean of its 4 neighbours (torus
 * wrap) plus wibble·U(−wibble, wibble); wibble starts at 100 and is divided by `wibbleDecay` per level.
 * Uniforms are drawn row-major per filled sub-grid, squares then the two diamond grids.
 */
export function plasmaFractal(mapsize: number, wibbleDecay: number, rng: RandomStream): Float64Array {
  if (mapsize < 2 || (mapsize & (mapsize - 1)) !== 0) throw new RangeError(`plasmaFractal: mapsize must be a power of two >= 2, got ${mapsize}`);
  const n = mapsize;
  const mask = n - 1;
  const map = new Float64Array(n * n);
  const at = (y: number, x: number): number => map[(y & mask) * n + (x & mask)] as number;
  let step = n;
  let wibble = 100;
  while (step >= 2) {
    const half = step / 2;
    // wibble·U(−wibble, wibble) from one 32-bit draw (a 256² map takes 65k draws per image)
    const jitter = (): number => wibble * wibble * (2 * (rng.nextUint32() / 4294967296) - 1);
    // squares: centre of each square = mean of its 4 corners
    for (let y = half; y < n; y += step) {
      for (let x = half; x < n; x += step) {
        const s = at(y - half, x - half) + at(y + half, x - half) + at(y - half, x + half) + at(y + half, x + half);
        map[y * n + x] = s / 4 + jitter();
      }
    }
    // diamonds on the corner rows: (y, x+half) from left/right corners and the centres above/below
    for (let y = 0; y < n; y += step) {
      for (let x = half; x < n; x += step) {
        const s = at(y + half, x) + at(y - half, x) + at(y, x - half) + at(y, x + half);
        map[y * n + x] = s / 4 + jitter();
      }
    }
    // diamonds on the centre rows: (y+half, x) from top/bottom corners and the centres left/right
    for (let y = half; y < n; y += step) {
      for (let x = 0; x < n; x += step) {
        const s = at(y, x + half) + at(y, x - half) + at(y - half, x) + at(y + half, x);
        map[y * n + x] = s / 4 + jitter();
      }
    }
    step = half;
    wibble /= wibbleDecay;
  }
  let min = Infinity;
  let max = -Infinity;
  for (const v of map) {
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  const range = max - min || 1;
  for (let i = 0; i < map.length; i++) map[i] = ((map[i] as number) - min) / range;
  return map;
}
