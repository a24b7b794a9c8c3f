import { readdirSync, readFileSync } from "node:fs";
import { extname, join } from "node:path";
import { PNG } from "pngjs";
import jpeg from "jpeg-js";
import { DataError } from "@mnemo/core/errors";
import { RandomStream, streamKey } from "@mnemo/core/rng";
import type { ImageSet } from "@mnemo/core";
import { isDir } from "./paths.js";
import type { Dataset } from "./types.js";

export interface FolderOptions {
  /** Root directory: either `train/<class>/*` and `test/<class>/*`, or `<class>/*` (test carved out). */
  path: string;
  /** Output channels: 1 (grey) or 3 (RGB); alpha is dropped. */
  channels: 1 | 3;
  /** Without train/ and test/ sub-folders: fraction of each class held out as test. */
  testFraction: number;
  /** Seed for the held-out test selection. */
  seed: number;
}

const IMAGE_EXT = new Set([".png", ".jpg", ".jpeg"]);

interface Decoded {
  width: number;
  height: number;
  /** RGBA, 4 bytes per pixel. */
  rgba: Uint8Array;
}

function decode(file: string): Decoded {
  const bytes = readFileSync(file);
  try {
    if (extname(file).toLowerCase() === ".png") {
      const png = PNG.sync.read(bytes);
      return { width: png.width, height: png.height, rgba: png.data };
    }
    const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true });
    return { width: img.width, height: img.height, rgba: img.data };
  } catch (err) {
    throw new DataError(`${file}: cannot decode image (${(err as Error).message}); ${bytes.length} bytes`, { file, actualBytes: bytes.length }, { cause: err });
  }
}

function listClasses(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
}

function listImages(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => IMAGE_EXT.has(extname(f).toLowerCase()))
    .sort()
    .map((f) => join(dir, f));
}

/**
 * User images in class sub-folders. Class ids follow the sorted folder names, so the same
 * folder always gives the same labels. All images must share one size (no silent resizing).
 */
export function loadFolder(o: FolderOptions): Dataset {
  if (!isDir(o.path)) throw new DataError(`${o.path}: folder dataset directory does not exist`, { file: o.path });
  const split = isDir(join(o.path, "train")) && isDir(join(o.path, "test"));
  const classRoot = split ? join(o.path, "train") : o.path;
  const classNames = listClasses(classRoot);
  if (classNames.length === 0) throw new DataError(`${classRoot}: no class sub-folders found`, { file: classRoot });
  const trainFiles: [string, number][] = [];
  const testFiles: [string, number][] = [];
  const rng = new RandomStream(streamKey(o.seed, "folder-test-split"));
  classNames.forEach((name, c) => {
    if (split) {
      for (const f of listImages(join(o.path, "train", name))) trainFiles.push([f, c]);
      const testDir = join(o.path, "test", name);
      if (isDir(testDir)) for (const f of listImages(testDir)) testFiles.push([f, c]);
    } else {
      const files = listImages(join(o.path, name));
      const nTest = Math.round(files.length * o.testFraction);
      const held = new Set(rng.sampleIndices(files.length, nTest));
      files.forEach((f, i) => (held.has(i) ? testFiles : trainFiles).push([f, c]));
    }
  });
  if (trainFiles.length === 0) throw new DataError(`${classRoot}: no .png/.jpg images in the class folders`, { file: classRoot });
  let shape: readonly [number, number, number] | undefined;
  const build = (files: [string, number][]): ImageSet => {
    const first = files.length > 0 ? decode((files[0] as [string, number])[0]) : undefined;
    if (!shape && first) shape = [first.height, first.width, o.channels] as const;
    const s = shape ?? ([0, 0, o.channels] as const);
    const size = s[0] * s[1] * s[2];
    const images = new Uint8Array(files.length * size);
    const labels = new Int32Array(files.length);
    files.forEach(([file, c], i) => {
      const img = i === 0 && first ? first : decode(file);
      if (img.height !== s[0] || img.width !== s[1]) {
        throw new DataError(`${file}: image is ${img.width}x${img.height}, expected ${s[1]}x${s[0]} like the first image (resize your images to one size)`, { file });
      }
      const px = s[0] * s[1];
      for (let p = 0; p < px; p++) {
        const r = img.rgba[4 * p] as number;
        const g = img.rgba[4 * p + 1] as number;
        const b = img.rgba[4 * p + 2] as number;
        if (o.channels === 3) {
          images[i * size + 3 * p] = r;
          images[i * size + 3 * p + 1] = g;
          images[i * size + 3 * p + 2] = b;
        } else images[i * size + p] = Math.round(0.299 * r + 0.587 * g + 0.114 * b);
      }
      labels[i] = c;
    });
    return { images, labels, count: files.length, shape: s };
  };
  const train = build(trainFiles);
  const test = build(testFiles);
  return { name: "folder", classNames, numClasses: classNames.length, shape: train.shape, train, test, source: o.path };
}
