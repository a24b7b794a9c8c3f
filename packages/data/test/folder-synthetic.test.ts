import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PNG } from "pngjs";
import jpeg from "jpeg-js";
import { describe, expect, it } from "vitest";
import { DataError } from "@mnemo/core/errors";
import { loadFolder, syntheticBlobs, syntheticImages } from "../src/index.js";
import { tempDir } from "./helpers.js";

function writePng(file: string, w: number, h: number, rgb: (x: number, y: number) => [number, number, number]): void {
  const png = new PNG({ width: w, height: h });
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const [r, g, b] = rgb(x, y);
      png.data.set([r, g, b, 255], (y * w + x) * 4);
    }
  writeFileSync(file, PNG.sync.write(png));
}

describe("folder dataset", () => {
  it("reads PNG and JPEG class folders with train/ and test/, labels by sorted folder name", () => {
    const root = tempDir();
    for (const split of ["train", "test"]) {
      for (const [ci, cls] of ["cat", "ant"].entries()) {
        mkdirSync(join(root, split, cls), { recursive: true });
        writePng(join(root, split, cls, "a.png"), 3, 2, (x, y) => [x * 10 + ci, y * 20, 7]);
      }
    }
    const rgba = Buffer.alloc(3 * 2 * 4, 128);
    writeFileSync(join(root, "train", "ant", "b.jpg"), jpeg.encode({ data: rgba, width: 3, height: 2 }, 100).data);
    const d = loadFolder({ path: root, channels: 3, testFraction: 0.2, seed: 0 });
    expect(d.classNames).toEqual(["ant", "cat"]);
    expect(d.shape).toEqual([2, 3, 3]);
    expect(d.train.count).toBe(3);
    expect(d.test.count).toBe(2);
    // train/ant/a.png: pixel (x=2, y=1) = [2*10+1, 20, 7]
    expect(Array.from(d.train.images.subarray((1 * 3 + 2) * 3, (1 * 3 + 2) * 3 + 3))).toEqual([21, 20, 7]);
    expect(Array.from(d.train.labels)).toEqual([0, 0, 1]);
    const jpegPixel = d.train.images[18] as number;
    expect(Math.abs(jpegPixel - 128)).toBeLessThanOrEqual(2);
  });

  it("carves a seeded test split without train/test folders; mixed sizes and bad files are DataErrors", () => {
    const root = tempDir();
    mkdirSync(join(root, "a"));
    for (let i = 0; i < 10; i++) writePng(join(root, "a", `${i}.png`), 2, 2, () => [i, i, i]);
    const d = loadFolder({ path: root, channels: 1, testFraction: 0.3, seed: 1 });
    expect(d.train.count).toBe(7);
    expect(d.test.count).toBe(3);
    expect(Array.from(loadFolder({ path: root, channels: 1, testFraction: 0.3, seed: 1 }).test.images)).toEqual(Array.from(d.test.images));
    writePng(join(root, "a", "big.png"), 3, 3, () => [0, 0, 0]);
    expect(() => loadFolder({ path: root, channels: 1, testFraction: 0, seed: 1 })).toThrow(/big\.png: image is 3x3, expected 2x2/);
    writeFileSync(join(root, "a", "big.png"), "not a png");
    expect(() => loadFolder({ path: root, channels: 1, testFraction: 0, seed: 1 })).toThrow(DataError);
  });
});

describe("synthetic datasets", () => {
  it("blobs and images are deterministic per data seed and class-balanced", () => {
    const a = syntheticBlobs({ numClasses: 3, dim: 4, trainPerClass: 5, testPerClass: 2, noise: 5, seed: 1 });
    const b = syntheticBlobs({ numClasses: 3, dim: 4, trainPerClass: 5, testPerClass: 2, noise: 5, seed: 1 });
    const c = syntheticBlobs({ numClasses: 3, dim: 4, trainPerClass: 5, testPerClass: 2, noise: 5, seed: 2 });
    expect(Array.from(a.train.images)).toEqual(Array.from(b.train.images));
    expect(Array.from(a.train.images)).not.toEqual(Array.from(c.train.images));
    expect(a.shape).toEqual([1, 1, 4]);
    expect(a.train.count).toBe(15);
    const im = syntheticImages({ numClasses: 4, shape: [8, 8, 3], trainPerClass: 3, testPerClass: 1, noise: 10, seed: 0 });
    expect(im.train.images.length).toBe(12 * 192);
    expect(Array.from(im.test.labels)).toEqual([0, 1, 2, 3]);
  });
});
