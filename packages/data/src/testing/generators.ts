/**
 * Writers for small files in the exact official binary formats, so loaders are tested
 * byte-for-byte without the real datasets (which cannot be downloaded on CI machines).
 */
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create as createTar } from "tar";
import { gzipSync } from "node:zlib";
import { RandomStream, streamKey } from "@mnemo/core/rng";

export interface GeneratedCifar {
  /** NHWC pixels as the loader must return them. */
  images: Uint8Array;
  labels: Int32Array;
  coarse?: Int32Array;
  count: number;
}

/** Deterministic fine->coarse map (every fine class has one superclass, as in CIFAR-100). */
export const fineToCoarse = (fine: number): number => fine % 20;

/**
 * Random CIFAR records. Returns the file bytes (planar R, G, B) and the NHWC arrays the parser
 * must reproduce. `variant` 10 writes 1 label byte, 100 writes coarse + fine.
 */
export function generateCifarRecords(
  variant: 10 | 100,
  count: number,
  seed: number,
  classes: number = variant,
  pixels: "random" | "pattern" = "random",
): { bytes: Uint8Array; expected: GeneratedCifar } {
  const rng = new RandomStream(streamKey(seed, "cifar-generator"));
  const lb = variant === 100 ? 2 : 1;
  const rec = lb + 3072;
  const bytes = new Uint8Array(count * rec);
  const images = new Uint8Array(count * 3072);
  const labels = new Int32Array(count);
  const coarse = variant === 100 ? new Int32Array(count) : undefined;
  for (let i = 0; i < count; i++) {
    const y = i < classes ? i : rng.int(classes); // every class present at least once
    labels[i] = y;
    if (coarse) {
      coarse[i] = fineToCoarse(y);
      bytes[i * rec] = coarse[i] as number;
      bytes[i * rec + 1] = y;
    } else bytes[i * rec] = y;
    for (let p = 0; p < 1024; p++) {
      for (let c = 0; c < 3; c++) {
        // "pattern" is a cheap, still position- and image-dependent fill for full-size files.
        const v = pixels === "random" ? rng.nextUint32() & 0xff : (i * 31 + p * 7 + c * 101) & 0xff;
        bytes[i * rec + lb + c * 1024 + p] = v;
        images[i * 3072 + p * 3 + c] = v;
      }
    }
  }
  return { bytes, expected: { images, labels, coarse, count } };
}

/** Write cifar-100-binary/{train,test}.bin under `dir`. */
export function writeCifar100Folder(dir: string, trainCount: number, testCount: number, seed = 1): { train: GeneratedCifar; test: GeneratedCifar } {
  const folder = join(dir, "cifar-100-binary");
  mkdirSync(folder, { recursive: true });
  const train = generateCifarRecords(100, trainCount, seed);
  const test = generateCifarRecords(100, testCount, seed + 1);
  writeFileSync(join(folder, "train.bin"), train.bytes);
  writeFileSync(join(folder, "test.bin"), test.bytes);
  return { train: train.expected, test: test.expected };
}

/** Write cifar-10-batches-bin/{data_batch_1..5,test_batch}.bin under `dir`. */
export function writeCifar10Folder(dir: string, perBatch: number, testCount: number, seed = 1): { train: GeneratedCifar; test: GeneratedCifar } {
  const folder = join(dir, "cifar-10-batches-bin");
  mkdirSync(folder, { recursive: true });
  const parts = [1, 2, 3, 4, 5].map((b) => {
    const g = generateCifarRecords(10, perBatch, seed + b);
    writeFileSync(join(folder, `data_batch_${b}.bin`), g.bytes);
    return g.expected;
  });
  const test = generateCifarRecords(10, testCount, seed + 10);
  writeFileSync(join(folder, "test_batch.bin"), test.bytes);
  const count = perBatch * 5;
  const images = new Uint8Array(count * 3072);
  const labels = new Int32Array(count);
  parts.forEach((p, b) => {
    images.set(p.images, b * perBatch * 3072);
    labels.set(p.labels, b * perBatch);
  });
  return { train: { images, labels, count }, test: test.expected };
}

/** Bytes of an idx file: images (rank 3) or labels (rank 1). */
export function idxBytes(dims: number[], data: Uint8Array): Uint8Array {
  const header = new Uint8Array(4 + 4 * dims.length);
  const view = new DataView(header.buffer);
  header[2] = 0x08;
  header[3] = dims.length;
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  const out = new Uint8Array(header.length + data.length);
  out.set(header);
  out.set(data, header.length);
  return out;
}

export interface GeneratedIdx {
  images: Uint8Array;
  labels: Int32Array;
  count: number;
}

/** Write the four MNIST-style idx files into `folder` (gzipped if asked). */
export function writeIdxDataset(folder: string, trainCount: number, testCount: number, opts: { gzip?: boolean; seed?: number; size?: number } = {}): { train: GeneratedIdx; test: GeneratedIdx } {
  mkdirSync(folder, { recursive: true });
  const rng = new RandomStream(streamKey(opts.seed ?? 1, "idx-generator"));
  const size = opts.size ?? 28;
  const make = (prefix: string, n: number): GeneratedIdx => {
    const images = new Uint8Array(n * size * size);
    for (let i = 0; i < images.length; i++) images[i] = rng.nextUint32() & 0xff;
    const labels = Int32Array.from({ length: n }, (_, i) => (i < 10 ? i : rng.int(10)));
    const write = (name: string, bytes: Uint8Array) =>
      writeFileSync(join(folder, opts.gzip ? `${name}.gz` : name), opts.gzip ? gzipSync(bytes) : bytes);
    write(`${prefix}-images-idx3-ubyte`, idxBytes([n, size, size], images));
    write(`${prefix}-labels-idx1-ubyte`, idxBytes([n], Uint8Array.from(labels)));
    return { images, labels, count: n };
  };
  return { train: make("train", trainCount), test: make("t10k", testCount) };
}

/**
 * `cifar-10-binary.tar.gz` in the layout of the official release (`cifar-10-batches-bin/...`),
 * generated as writeCifar10Folder does, written to `file`; returns its md5 (a mirror serving it
 * needs `checksums`, the official md5 being that of the real release).
 */
export async function writeCifar10Archive(file: string, perBatch: number, testCount: number, seed = 1): Promise<string> {
  const src = mkdtempSync(join(tmpdir(), "mnemo-cifar10-archive-"));
  try {
    writeCifar10Folder(src, perBatch, testCount, seed);
    await createTar({ gzip: true, file, cwd: src, portable: true }, ["cifar-10-batches-bin"]);
  } finally {
    rmSync(src, { recursive: true, force: true });
  }
  return createHash("md5").update(readFileSync(file)).digest("hex");
}
