/** RGB <-> HSV with skimage.color semantics (hue in [0, 1); ties of the max: blue, then green, then red). */

export function rgbToHsv(r: number, g: number, b: number): [number, number, number] {
  const v = Math.max(r, g, b);
  const delta = v - Math.min(r, g, b);
  const s = v === 0 ? 0 : delta / v;
  if (delta === 0) return [0, s, v];
  let h: number;
  if (b === v) h = 4 + (r - g) / delta;
  else if (g === v) h = 2 + (b - r) / delta;
  else h = (g - b) / delta;
  h = (((h / 6) % 1) + 1) % 1;
  return [h, s, v];
}

export function hsvToRgb(h: number, s: number, v: number): [number, number, number] {
  const h6 = h * 6;
  const i = Math.floor(h6);
  const f = h6 - i;
  const p = v * (1 - s);
  const q = v * (1 - f * s);
  const t = v * (1 - (1 - f) * s);
  switch (((i % 6) + 6) % 6) {
    case 0:
      return [v, t, p];
    case 1:
      return [q, v, p];
    case 2:
      return [p, v, t];
    case 3:
      return [p, q, v];
    case 4:
      return [t, p, v];
    default:
      return [v, p, q];
  }
}

/** Apply `f` to the HSV triple of every pixel of an RGB image (in place, values 0..1). */
export function mapHsv(x: Float64Array, f: (hsv: [number, number, number]) => [number, number, number]): Float64Array {
  for (let p = 0; p < x.length; p += 3) {
    const [h, s, v] = f(rgbToHsv(x[p] as number, x[p + 1] as number, x[p + 2] as number));
    const [r, g, b] = hsvToRgb(h, s, v);
    x[p] = r;
    x[p + 1] = g;
    x[p + 2] = b;
  }
  return x;
}
