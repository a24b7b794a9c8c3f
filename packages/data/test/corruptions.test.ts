import { describe, expect, it } from "vitest";
import { SeededRng, type RandomStream } from "@mnemo/core/rng";
import {
  corrupt,
  corruptionNames,
  corruptionParameter,
  defaultSequence,
  getCorruption,
  plasmaFractal,
  toByte,
  CIFAR10_C_ORDER,
  MNIST_C_ORDER,
  type CorruptionBenchmark,
  type ImageShape,
} from "../src/index.js";
import * as op from "../src/corruptions/ops.js";
import { PixelPoisson } from "../src/corruptions/random.js";
import { diskKernel } from "../src/corruptions/ops.js";

const rng = (seed = 1, name = "t"): RandomStream => new SeededRng(seed).stream(name);

/** n smooth random-ish images (a blob plus a gradient), deterministic. */
function images(n: number, [h, w, c]: ImageShape, seed = 3): Uint8Array {
  const r = rng(seed, "images");
  const out = new Uint8Array(n * h * w * c);
  for (let i = 0; i < n; i++) {
    const cy = r.uniform(h * 0.3, h * 0.7);
    const cx = r.uniform(w * 0.3, w * 0.7);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        for (let ch = 0; ch < c; ch++) {
          const blob = Math.exp(-((y - cy) ** 2 + (x - cx) ** 2) / (2 * (h / 6) ** 2));
          out[((i * h + y) * w + x) * c + ch] = Math.round(255 * Math.min(1, 0.8 * blob + (0.2 * (x + ch)) / (w + c)));
        }
      }
    }
  }
  return out;
}

const constant = (n: number, [h, w, c]: ImageShape, v: number): Uint8Array => new Uint8Array(n * h * w * c).fill(v);
const img = (x: number[], [h, w, c]: ImageShape): op.Img => ({ x: Float64Array.from(x), u8: Uint8Array.from(x, (v) => Math.round(v * 255)), h, w, c });
const stats = (a: ArrayLike<number>): { mean: number; std: number } => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m += a[i] as number;
  m /= a.length;
  let v = 0;
  for (let i = 0; i < a.length; i++) v += ((a[i] as number) - m) ** 2;
  return { mean: m, std: Math.sqrt(v / a.length) };
};

const SHAPES: Record<CorruptionBenchmark, ImageShape> = { "mnist-c": [28, 28, 1], "cifar10-c": [32, 32, 3] };

describe("every corruption", () => {
  for (const benchmark of ["mnist-c", "cifar10-c"] as const) {
    const shape = SHAPES[benchmark];
    const input = images(3, shape);
    for (const name of corruptionNames(benchmark)) {
      it(`${benchmark} ${name}: same seed same bytes, input untouched, length kept, changes the images`, () => {
        const before = Uint8Array.from(input);
        const fn = getCorruption(benchmark, name);
        const a = fn(input, shape, { rng: rng(7, name) });
        const b = fn(input, shape, { rng: rng(7, name) });
        expect(a).toBeInstanceOf(Uint8Array);
        expect(a.length).toBe(input.length);
        expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
        expect(Buffer.from(input).equals(Buffer.from(before))).toBe(true);
        if (name !== "identity") expect(Buffer.from(a).equals(Buffer.from(input))).toBe(false);
        else expect(Buffer.from(a).equals(Buffer.from(input))).toBe(true);
      });
    }
  }

  it("random corruptions differ between seeds; deterministic ones do not", () => {
    const shape = SHAPES["cifar10-c"];
    const input = images(2, shape);
    for (const name of ["gaussian_noise", "shot_noise", "impulse_noise", "glass_blur", "motion_blur", "snow", "fog", "elastic_transform", "spatter"]) {
      const a = corrupt("cifar10-c", name, input, shape, { rng: rng(1, name) });
      const b = corrupt("cifar10-c", name, input, shape, { rng: rng(2, name) });
      expect(Buffer.from(a).equals(Buffer.from(b)), name).toBe(false);
    }
    for (const name of ["contrast", "brightness", "pixelate", "jpeg_compression", "defocus_blur", "zoom_blur"]) {
      const a = corrupt("cifar10-c", name, input, shape, { rng: rng(1, name) });
      const b = corrupt("cifar10-c", name, input, shape, { rng: rng(2, name) });
      expect(Buffer.from(a).equals(Buffer.from(b)), name).toBe(true);
    }
  });

  it("every severity 1..5 runs (where the benchmark has it) and severity 0 / 6 are refused", () => {
    const shape = SHAPES["mnist-c"];
    const input = images(1, shape);
    for (const name of ["shot_noise", "glass_blur", "fog", "contrast", "rotate", "pixelate", "elastic_transform"]) {
      for (let s = 1; s <= 5; s++) expect(corrupt("mnist-c", name, input, shape, { severity: s, rng: rng() }).length).toBe(input.length);
    }
    expect(() => corrupt("mnist-c", "fog", input, shape, { severity: 6, rng: rng() })).toThrow(/severity must be an integer 1..5/);
    expect(() => corrupt("mnist-c", "fog", input, shape, { severity: 0, rng: rng() })).toThrow(/1..5/);
    expect(() => corrupt("cifar10-c", "spatter", input, shape, { severity: 2, rng: rng() })).toThrow(/water spatter/);
    expect(() => getCorruption("cifar10-c", "frost")).toThrow(/frost photographs/);
    expect(() => getCorruption("mnist-c", "nope")).toThrow(/unknown mnist-c corruption "nope"; known: identity/);
    expect(() => corrupt("mnist-c", "fog", new Uint8Array(100), shape, { rng: rng() })).toThrow(/not a whole number of 28x28x1 images/);
  });

  it("the published sequences: MNIST-C's 15 in its order, CoTTA's CIFAR-10-C order without frost", () => {
    expect(defaultSequence("mnist-c")).toEqual([...MNIST_C_ORDER]);
    expect(MNIST_C_ORDER).toHaveLength(15);
    expect(defaultSequence("cifar10-c")).toEqual(CIFAR10_C_ORDER.filter((n) => n !== "frost"));
    expect(defaultSequence("cifar10-c")).toHaveLength(14);
    expect(defaultSequence("cifar10-c")[0]).toBe("gaussian_noise");
    expect(defaultSequence("cifar10-c").at(-1)).toBe("jpeg_compression");
  });

  it("severity-5 parameters of CIFAR-10-C are the reference table's (§6.2)", () => {
    const p = (n: string): unknown => corruptionParameter("cifar10-c", n, 5);
    expect(p("gaussian_noise")).toBe(0.1);
    expect(p("shot_noise")).toBe(50);
    expect(p("impulse_noise")).toBe(0.07);
    expect(p("defocus_blur")).toEqual([1.5, 0.1]);
    expect(p("glass_blur")).toEqual([0.4, 1, 2]);
    expect(p("motion_blur")).toEqual([9, 2.5]);
    expect(p("snow")).toEqual([0.3, 0.3, 1.25, 0.65, 14, 12, 0.8]);
    expect(p("fog")).toEqual([1.5, 1.75]);
    expect(p("brightness")).toBe(0.3);
    expect(p("saturate")).toEqual([2.5, 0.2]);
    expect(p("contrast")).toBe(0.15);
    expect((p("elastic_transform") as number[]).map((v) => +v.toFixed(6))).toEqual([3.2, 0.96, 0.96]);
    expect(p("pixelate")).toBe(0.65);
    expect(p("jpeg_compression")).toBe(40);
    // MNIST-C at its published (function-default) severities, §6.1
    const m = (n: string, s: number): unknown => corruptionParameter("mnist-c", n, s);
    expect(m("shot_noise", 5)).toBe(3);
    expect(m("impulse_noise", 4)).toBe(0.17);
    expect(m("glass_blur", 1)).toEqual([0.7, 1, 2]);
    expect(m("motion_blur", 1)).toEqual([10, 3]);
    expect(m("shear", 2)).toBe(0.4);
    expect(m("rotate", 2)).toBe(0.4);
    expect(m("scale", 3)).toBe(0.7);
    expect(m("translate", 3)).toBe(3);
    expect(m("fog", 5)).toEqual([3, 1.4]);
    expect(m("spatter", 4)).toEqual([0.65, 0.3, 1, 0.65, 1.5]);
    expect(m("gaussian_noise", 5)).toBe(0.38);
  });
});

describe("worked examples (self-training-tta.md F16)", () => {
  it("contrast of the 2x2 grey [[0,64],[128,255]] at c = 0.15", () => {
    const out = corrupt("cifar10-c", "contrast", Uint8Array.from([0, 64, 128, 255]), [2, 2, 1], { rng: rng() });
    expect(Array.from(out)).toEqual([94, 104, 114, 133]);
    const y = op.contrast(img([0, 64 / 255, 128 / 255, 1], [2, 2, 1]), 0.15);
    expect(Array.from(y, (v) => +(v * 255).toFixed(4))).toEqual([94.9875, 104.5875, 114.1875, 133.2375]);
  });

  it("brightness (+0.3 on HSV value) and saturate (S·2.5 + 0.2)", () => {
    const b = (rgb: number[]): number[] => Array.from(op.brightness(img(rgb, [1, 1, 3]), 0.3), toByte);
    expect(b([0.2, 0.4, 0.6])).toEqual([76, 153, 229]);
    expect(b([0, 0, 0])).toEqual([76, 76, 76]);
    expect(b([0.9, 0.8, 0.1])).toEqual([255, 226, 28]);
    const s = (rgb: number[]): number[] => Array.from(op.saturate(img(rgb, [1, 1, 3]), 2.5, 0.2), toByte);
    expect(s([0.2, 0.4, 0.6])).toEqual([0, 76, 153]);
    expect(s([0.9, 0.8, 0.1])).toEqual([229, 200, 0]);
    // through the registry on uint8 (0.2, 0.4, 0.6 are 51, 102, 153 exactly)
    expect(Array.from(corrupt("cifar10-c", "brightness", Uint8Array.from([51, 102, 153]), [1, 1, 3], { rng: rng() }))).toEqual([76, 153, 229]);
  });

  it("MNIST brightness x + 0.5, clipped", () => {
    const y = op.brightness(img([0, 0.3, 0.6, 1], [2, 2, 1]), 0.5);
    expect(Array.from(y, (v) => +v.toFixed(12))).toEqual([0.5, 0.8, 1, 1]);
  });

  it("zoom factors: CIFAR severity 5 has 26 (1.00..1.25), MNIST severity 5 has 11 (1.00..1.30)", () => {
    const c = op.arange(...(corruptionParameter("cifar10-c", "zoom_blur", 5) as [number, number, number]));
    expect(c).toHaveLength(26);
    expect(c.at(-1)).toBeCloseTo(1.25, 12);
    const m = op.arange(...(corruptionParameter("mnist-c", "zoom_blur", 5) as [number, number, number]));
    expect(m).toHaveLength(11);
    expect(m.at(-1)).toBeCloseTo(1.3, 12);
  });

  it("defocus (r 1.5, alias 0.1 = 3x3 box, reflect-101) on the 4x4 example", () => {
    const x = Uint8Array.from([0, 0, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9]);
    const out = corrupt("cifar10-c", "defocus_blur", x, [4, 4, 1], { rng: rng() });
    expect(Array.from(out)).toEqual([4, 2, 2, 0, 2, 1, 1, 0, 2, 1, 2, 1, 0, 0, 1, 1]);
    const { size } = diskKernel(1.5, 0.1);
    expect(size).toBe(3);
  });

  it("stripe inverts columns 0-6 and 21-27 of a 28-wide row", () => {
    const row = Uint8Array.from({ length: 28 }, (_, i) => 9 * i);
    const out = Array.from(corrupt("mnist-c", "stripe", row, [1, 28, 1], { rng: rng() }));
    expect(out.slice(0, 7)).toEqual([255, 246, 237, 228, 219, 210, 201]);
    expect(out.slice(7, 21)).toEqual(Array.from({ length: 14 }, (_, i) => 9 * (i + 7)));
    expect(out.slice(21)).toEqual([66, 57, 48, 39, 30, 21, 12]);
  });
});

describe("per-type properties", () => {
  const grey: ImageShape = [32, 32, 1];
  const flat = constant(8, grey, 128);

  it("gaussian noise: per-pixel std matches σ (CIFAR 0.10, MNIST severity 2 0.12) on mid-grey", () => {
    for (const [benchmark, severity, sigma] of [["cifar10-c", 5, 0.1], ["mnist-c", 2, 0.12]] as const) {
      const out = corrupt(benchmark, "gaussian_noise", flat, grey, { severity, rng: rng(5) });
      const d = Float64Array.from(out, (v) => v / 255);
      const { mean, std } = stats(d);
      expect(std).toBeGreaterThan(sigma * 0.95);
      expect(std).toBeLessThan(sigma * 1.05);
      expect(Math.abs(mean - (128 / 255 - 0.5 / 255))).toBeLessThan(0.01);
    }
  });

  it("shot noise: Poisson(x·c)/c has mean x and variance x/c (c = 50)", () => {
    const out = corrupt("cifar10-c", "shot_noise", flat, grey, { rng: rng(6) });
    const { mean, std } = stats(Float64Array.from(out, (v) => v / 255));
    const x = 128 / 255;
    expect(Math.abs(mean - x)).toBeLessThan(0.01);
    expect(std).toBeGreaterThan(Math.sqrt(x / 50) * 0.95);
    expect(std).toBeLessThan(Math.sqrt(x / 50) * 1.05);
    const p = new PixelPoisson(3);
    const r = rng(9);
    const draws = Array.from({ length: 20000 }, () => p.sample(255, r));
    const s = stats(draws);
    expect(s.mean).toBeCloseTo(3, 1);
    expect(s.std ** 2).toBeGreaterThan(2.8);
    expect(s.std ** 2).toBeLessThan(3.2);
  });

  it("impulse noise flips the given fraction, half to 0 and half to 255", () => {
    const out = corrupt("mnist-c", "impulse_noise", flat, grey, { severity: 4, rng: rng(2) });
    let salt = 0;
    let pepper = 0;
    for (const v of out) {
      if (v === 255) salt++;
      else if (v === 0) pepper++;
      else expect(v).toBe(128);
    }
    const n = out.length;
    expect((salt + pepper) / n).toBeGreaterThan(0.17 - 0.015);
    expect((salt + pepper) / n).toBeLessThan(0.17 + 0.015);
    expect(Math.abs(salt - pepper) / (salt + pepper)).toBeLessThan(0.1);
  });

  it("blurs keep the mean of an image whose content is away from the border", () => {
    const x = new Float64Array(32 * 32);
    for (let y = 12; y < 20; y++) for (let c = 10; c < 22; c++) x[y * 32 + c] = ((y * 7 + c * 3) % 10) / 10;
    const base = stats(x).mean;
    const im = (): op.Img => ({ x: Float64Array.from(x), u8: Uint8Array.from(x, (v) => Math.round(v * 255)), h: 32, w: 32, c: 1 });
    expect(stats(op.gaussianBlur(im(), 1.5)).mean).toBeCloseTo(base, 10);
    expect(stats(op.defocusBlur(im(), 3, 0.5)).mean).toBeCloseTo(base, 10);
  });

  it("contrast scales each channel's std by c and keeps its mean (no clipping)", () => {
    const x = Float64Array.from({ length: 16 * 16 * 3 }, (_, i) => 0.3 + 0.4 * (((i * 37) % 101) / 101));
    const y = op.contrast({ x: Float64Array.from(x), u8: new Uint8Array(x.length), h: 16, w: 16, c: 3 }, 0.3);
    for (let ch = 0; ch < 3; ch++) {
      const a = stats(x.filter((_, i) => i % 3 === ch));
      const b = stats(y.filter((_, i) => i % 3 === ch));
      expect(b.mean).toBeCloseTo(a.mean, 12);
      expect(b.std / a.std).toBeCloseTo(0.3, 12);
    }
  });

  it("affine corruptions: identity matrix is the identity, translate moves a pixel by 3, rotate about the centre", () => {
    const x = Array.from({ length: 28 * 28 }, (_, i) => (i % 7) / 7);
    const id = op.centredAffine(img(x, [28, 28, 1]), 1, 0, 0, 1);
    expect(Array.from(id)).toEqual(x);
    const dot = new Array(28 * 28).fill(0);
    dot[10 * 28 + 10] = 1;
    const moved = op.translate(img(dot, [28, 28, 1]), 3, -3);
    expect(moved[(10 + 3) * 28 + (10 - 3)]).toBe(1);
    expect(stats(moved).mean).toBeCloseTo(1 / 784, 12);
    // rotating by ±π keeps the centre pixel pair (13.5 is between pixels: (13,13) <-> (14,14))
    const rot = op.centredAffine(img(dot, [28, 28, 1]), -1, 0, 0, -1);
    expect(rot[17 * 28 + 17]).toBeCloseTo(1, 12);
    // MNIST-C rotate is ±0.4 rad: a centred disk is (nearly) unchanged
    const disk = Array.from({ length: 784 }, (_, i) => (Math.hypot(Math.floor(i / 28) - 13.5, (i % 28) - 13.5) < 6 ? 1 : 0));
    const r = corrupt("mnist-c", "rotate", Uint8Array.from(disk, (v) => v * 255), [28, 28, 1], { rng: rng() });
    let diff = 0;
    for (let i = 0; i < 784; i++) diff += Math.abs((r[i] as number) / 255 - (disk[i] as number));
    expect(diff / disk.reduce((a: number, b) => a + b, 0)).toBeLessThan(0.15);
  });

  it("scale shrinks the digit to 70% about the centre (inverse map 1/0.7)", () => {
    const bar = Array.from({ length: 784 }, (_, i) => (i % 28 >= 4 && i % 28 <= 23 && Math.floor(i / 28) === 14 ? 1 : 0));
    const out = corrupt("mnist-c", "scale", Uint8Array.from(bar, (v) => v * 255), [28, 28, 1], { rng: rng() });
    const row = Array.from(out.subarray(14 * 28, 15 * 28), (v) => (v > 127 ? 1 : 0));
    const width = row.reduce((a: number, b) => a + b, 0);
    expect(width).toBeGreaterThanOrEqual(13);
    expect(width).toBeLessThanOrEqual(15); // 20 px · 0.7 = 14
  });

  it("plasma fractal is in [0, 1] with both ends reached, and fog brightens a dark image", () => {
    const p = plasmaFractal(32, 1.75, rng(4));
    expect(Math.min(...p)).toBe(0);
    expect(Math.max(...p)).toBe(1);
    const dark = images(2, [32, 32, 3]);
    const out = corrupt("cifar10-c", "fog", dark, [32, 32, 3], { rng: rng() });
    expect(stats(Array.from(out)).std).toBeLessThan(stats(Array.from(dark)).std);
  });

  it("jpeg: a batch coded as a mosaic gives each image the bytes it gets alone", () => {
    for (const shape of [SHAPES["mnist-c"], SHAPES["cifar10-c"]]) {
      const x = images(3, shape);
      const size = shape[0] * shape[1] * shape[2];
      const all = op.jpegCompressionBatch(x, ...shape, 40);
      for (let i = 0; i < 3; i++) {
        const one = op.jpegCompressionBatch(x.subarray(i * size, (i + 1) * size), ...shape, 40);
        expect(Array.from(all.subarray(i * size, (i + 1) * size))).toEqual(Array.from(one));
      }
      const err = stats(Array.from(all, (v, i) => v * 255 - (x[i] as number))).std;
      expect(err).toBeGreaterThan(0.1);
      expect(err).toBeLessThan(20);
    }
  });

  it("pixelate keeps a constant image and turns 32 px into 20 blocks", () => {
    const shape: ImageShape = [32, 32, 3];
    const c = constant(1, shape, 77);
    expect(Array.from(new Set(corrupt("cifar10-c", "pixelate", c, shape, { rng: rng() })))).toEqual([77]);
    const stripes = Uint8Array.from({ length: 32 * 32 * 3 }, (_, i) => (Math.floor(i / 3) % 2 ? 255 : 0));
    const out = corrupt("cifar10-c", "pixelate", stripes, shape, { rng: rng() });
    const row = Array.from({ length: 32 }, (_, x) => out[x * 3] as number);
    const runs = row.filter((v, i) => i === 0 || v !== row[i - 1]).length;
    expect(runs).toBeLessThanOrEqual(20);
  });

  it("motion blur keeps a constant image and smears a dot along one line", () => {
    const shape: ImageShape = [28, 28, 1];
    expect(Array.from(new Set(corrupt("mnist-c", "motion_blur", constant(1, shape, 90), shape, { rng: rng() })))).toEqual([90]);
    const dot = new Uint8Array(784);
    dot[14 * 28 + 14] = 255;
    const out = corrupt("mnist-c", "motion_blur", dot, shape, { rng: rng() });
    const lit = Array.from(out).filter((v) => v > 0).length;
    expect(lit).toBeGreaterThan(3);
    expect(lit).toBeLessThan(30);
  });

  it("canny edges of a square are binary and lie on its outline", () => {
    const shape: ImageShape = [28, 28, 1];
    const sq = Uint8Array.from({ length: 784 }, (_, i) => {
      const y = Math.floor(i / 28);
      const x = i % 28;
      return y >= 8 && y < 20 && x >= 8 && x < 20 ? 255 : 0;
    });
    const out = corrupt("mnist-c", "canny_edges", sq, shape, { rng: rng() });
    let n = 0;
    for (let i = 0; i < 784; i++) {
      const v = out[i] as number;
      expect([0, 255]).toContain(v);
      if (v) {
        n++;
        const y = Math.floor(i / 28);
        const x = i % 28;
        const nearEdge = Math.min(Math.abs(y - 7.5), Math.abs(y - 19.5), Math.abs(x - 7.5), Math.abs(x - 19.5)) <= 1;
        expect(nearEdge).toBe(true);
      }
    }
    expect(n).toBeGreaterThan(30);
  });

  it("glass blur moves pixels beyond what its Gaussian blur alone does", () => {
    const shape: ImageShape = [28, 28, 1];
    const x = images(1, shape);
    const blurOnly = Array.from(op.gaussianBlur({ x: Float64Array.from(x, (v) => v / 255), u8: x, h: 28, w: 28, c: 1 }, 0.7), toByte);
    const m = corrupt("mnist-c", "glass_blur", x, shape, { rng: rng() });
    const changed = Array.from(m).filter((v, i) => Math.abs(v - (blurOnly[i] as number)) > 2).length;
    expect(changed).toBeGreaterThan(50);
  });
});
