/**
 * Writes docs/corruptions.svg: one row per corruption generator, a few corrupted samples each, so
 * a human can check them. MNIST-C rows show MNIST and Fashion-MNIST test images; CIFAR-10-C rows
 * show synthetic 32x32 colour scenes (no CIFAR-10 copy is available offline), all at the severity
 * the benchmark's release used ("published"). Each row is an embedded PNG strip (pixels scaled 2x).
 *
 *   node --conditions=@mnemo/source --import tsx tools/docs/corruptions-grid.ts [out.svg]
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { PNG } from "pngjs";
import { SeededRng, type RandomStream } from "@mnemo/core/rng";
import {
  corruptionNames,
  defaultSequence,
  getCorruption,
  hasSeverity,
  publishedSeverity,
  type CorruptionBenchmark,
  type ImageShape,
} from "../../packages/data/src/corruptions/index.js";
import { loadFashionMnist, loadMnist } from "../../packages/data/src/datasets/mnist.js";
import { ROOT } from "./make-docs.js";

const SCALE = 2;
const PER_ROW = 5;

/** Colour test scenes: sky gradient, ground, a sun, a house with a roof line, a checker patch. */
function scenes(n: number, rng: RandomStream): Uint8Array {
  const out = new Uint8Array(n * 32 * 32 * 3);
  for (let i = 0; i < n; i++) {
    const horizon = rng.intRange(16, 22);
    const sun = [rng.uniform(5, 27), rng.uniform(3, 10)] as const;
    const house = [rng.intRange(3, 18), rng.intRange(7, 11)] as const;
    const hue = rng.uniform(0, 1);
    for (let y = 0; y < 32; y++) {
      for (let x = 0; x < 32; x++) {
        let rgb: [number, number, number];
        if (y < horizon) rgb = [90 + 3 * y, 140 + 3 * y, 230];
        else rgb = [60 + 80 * hue, 130 - 40 * hue, 40];
        if (Math.hypot(x - sun[0], y - sun[1]) < 3.5) rgb = [250, 220, 60];
        const [hx, hw] = house;
        if (x >= hx && x < hx + hw && y >= horizon - 7 && y < horizon + 2) rgb = [200, 40, 40];
        if (x >= hx && x < hx + hw && y === horizon - 8) rgb = [40, 30, 30];
        if (x >= 24 && x < 30 && y >= 24 && y < 30) rgb = ((x + y) % 2 ? [255, 255, 255] : [0, 0, 0]);
        out.set(rgb.map((v) => Math.max(0, Math.min(255, Math.round(v)))), ((i * 32 + y) * 32 + x) * 3);
      }
    }
  }
  return out;
}

/**
 * A PNG strip of `n` images side by side (1 px white gap) at native size (the SVG scales it by
 * SCALE with pixelated rendering, which keeps the file small); grey strips stay grey.
 */
function strip(images: Uint8Array, [h, w, c]: ImageShape): { png: Buffer; width: number; height: number } {
  const n = images.length / (h * w * c);
  const gap = 1;
  const pw = n * (w + gap) - gap;
  const png = new PNG({ width: pw, height: h, colorType: c === 3 ? 2 : 0, inputColorType: 2, inputHasAlpha: false });
  const data = Buffer.alloc(pw * h * 3, 255);
  for (let i = 0; i < n; i++) {
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const src = ((i * h + y) * w + x) * c;
        const dst = (y * pw + i * (w + gap) + x) * 3;
        for (let ch = 0; ch < 3; ch++) data[dst + ch] = images[src + (c === 3 ? ch : 0)] as number;
      }
    }
  }
  png.data = data;
  return { png: PNG.sync.write(png, { colorType: c === 3 ? 2 : 0, inputColorType: 2, inputHasAlpha: false }), width: pw * SCALE, height: h * SCALE };
}

interface Panel {
  images: Uint8Array;
  shape: ImageShape;
}

function rows(benchmark: CorruptionBenchmark, panels: Panel[]): { label: string; strips: ReturnType<typeof strip>[] }[] {
  const inSequence = new Set(defaultSequence(benchmark));
  const names = ["clean", ...defaultSequence(benchmark), ...corruptionNames(benchmark).filter((n) => !inSequence.has(n) && n !== "identity")];
  return names.map((name) => {
    const sev = name === "clean" || !hasSeverity(benchmark, name) ? "" : ` s${publishedSeverity(benchmark, name)}`;
    const label = name === "clean" ? "clean" : `${inSequence.has(name) ? "" : "+ "}${name}${sev}`;
    const strips = panels.map((p) => {
      const out = name === "clean" ? p.images : getCorruption(benchmark, name)(p.images, p.shape, { rng: new SeededRng(0).stream(`grid/${benchmark}/${name}`) });
      return strip(out, p.shape);
    });
    return { label, strips };
  });
}

const mnist = await loadMnist({ download: false });
const fashion = await loadFashionMnist({ download: false });
const pick = (set: { images: Uint8Array }, first: number): Uint8Array => set.images.slice(first * 784, (first + PER_ROW) * 784);
const mnistRows = rows("mnist-c", [
  { images: pick(mnist.test, 0), shape: [28, 28, 1] },
  { images: pick(fashion.test, 0), shape: [28, 28, 1] },
]);
const cifarRows = rows("cifar10-c", [{ images: scenes(PER_ROW + 2, new SeededRng(1).stream("scenes")), shape: [32, 32, 3] }]);

const labelWidth = 170;
const rowGap = 6;
const parts: string[] = [];
let y = 0;
const title = (text: string): void => {
  y += 22;
  parts.push(`<text x="4" y="${y - 6}" font-size="15" font-weight="bold">${text}</text>`);
};
const emit = (list: typeof mnistRows): number => {
  let maxWidth = 0;
  for (const r of list) {
    const h = r.strips[0]?.height ?? 0;
    parts.push(`<text x="4" y="${y + h / 2 + 4}" font-size="12">${r.label}</text>`);
    let x = labelWidth;
    for (const s of r.strips) {
      parts.push(`<image x="${x}" y="${y}" width="${s.width}" height="${s.height}" style="image-rendering:pixelated" href="data:image/png;base64,${s.png.toString("base64")}"/>`);
      x += s.width + 16;
    }
    maxWidth = Math.max(maxWidth, x);
    y += h + rowGap;
  }
  return maxWidth;
};
title("MNIST-C style (mnist-c tables): MNIST test images | Fashion-MNIST test images");
const w1 = emit(mnistRows);
title("CIFAR-10-C style (cifar10-c tables, severity 5): synthetic colour scenes");
const w2 = emit(cifarRows);
y += 4;
parts.push(`<text x="4" y="${y + 10}" font-size="11">rows in the stream's default sequence first (in order), then extra generators (+); sN = severity used (the release's). Seed 0.</text>`);
y += 18;
const width = Math.max(w1, w2);
const svg = [
  `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y}" viewBox="0 0 ${width} ${y}" font-family="sans-serif">`,
  `<rect width="100%" height="100%" fill="white"/>`,
  ...parts,
  `</svg>`,
  "",
].join("\n");
const out = process.argv[2] ?? join(ROOT, "docs", "corruptions.svg");
writeFileSync(out, svg);
console.log(`wrote ${out} (${(svg.length / 1024).toFixed(0)} KiB, ${mnistRows.length + cifarRows.length} rows)`);
