import type { ImageSet } from "@mnemo/core";

/** Apply a pixel permutation (over H*W positions, channels kept together) in place. */
export function permutePixels(set: ImageSet, permutation: readonly number[]): ImageSet {
  const [h, w, c] = set.shape;
  const px = h * w;
  const size = px * c;
  const tmp = new Uint8Array(size);
  for (let i = 0; i < set.count; i++) {
    const img = set.images.subarray(i * size, (i + 1) * size);
    for (let p = 0; p < px; p++) {
      const q = permutation[p] as number;
      for (let ch = 0; ch < c; ch++) tmp[p * c + ch] = img[q * c + ch] as number;
    }
    img.set(tmp);
  }
  return set;
}

/**
 * Rotate every image by `degrees` (counter-clockwise) about its centre, bilinear, zero fill,
 * in place. Integer arithmetic on the result (round half up) keeps it identical on every machine.
 */
export function rotateImages(set: ImageSet, degrees: number): ImageSet {
  const [h, w, c] = set.shape;
  const size = h * w * c;
  const rad = (degrees * Math.PI) / 180;
  const cos = Math.cos(rad);
  const sin = Math.sin(rad);
  const cy = (h - 1) / 2;
  const cx = (w - 1) / 2;
  const tmp = new Uint8Array(size);
  for (let i = 0; i < set.count; i++) {
    const img = set.images.subarray(i * size, (i + 1) * size);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        // Inverse mapping: where in the source does output pixel (y, x) come from.
        const dx = x - cx;
        const dy = y - cy;
        const sx = cos * dx - sin * dy + cx;
        const sy = sin * dx + cos * dy + cy;
        const x0 = Math.floor(sx);
        const y0 = Math.floor(sy);
        const fx = sx - x0;
        const fy = sy - y0;
        for (let ch = 0; ch < c; ch++) {
          const at = (yy: number, xx: number): number => (yy < 0 || yy >= h || xx < 0 || xx >= w ? 0 : (img[(yy * w + xx) * c + ch] as number));
          const v =
            at(y0, x0) * (1 - fx) * (1 - fy) + at(y0, x0 + 1) * fx * (1 - fy) + at(y0 + 1, x0) * (1 - fx) * fy + at(y0 + 1, x0 + 1) * fx * fy;
          tmp[(y * w + x) * c + ch] = Math.min(255, Math.floor(v + 0.5));
        }
      }
    }
    img.set(tmp);
  }
  return set;
}
