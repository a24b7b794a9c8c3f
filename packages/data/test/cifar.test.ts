import { appendFileSync, existsSync, readFileSync, truncateSync, writeFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { create } from "tar";
import { DataError } from "@mnemo/core/errors";
import { loadCifar10, loadCifar100, CIFAR100_FINE_CLASSES, CIFAR100_COARSE_CLASSES } from "../src/index.js";
import { generateCifarRecords, writeCifar100Folder, writeCifar10Folder, fineToCoarse } from "../src/testing/generators.js";
import { caught, tempDir } from "./helpers.js";

describe("CIFAR-100 binary", () => {
  it("round-trips a generated extracted folder exactly (planar RGB -> NHWC, fine labels)", async () => {
    const dir = tempDir();
    const g = writeCifar100Folder(dir, 300, 120);
    const d = await loadCifar100({ dataDir: dir });
    expect(d.name).toBe("cifar100");
    expect(d.shape).toEqual([32, 32, 3]);
    expect(d.train.count).toBe(300);
    expect(d.test.count).toBe(120);
    expect(Buffer.from(d.train.images).equals(Buffer.from(g.train.images))).toBe(true);
    expect(Buffer.from(d.test.images).equals(Buffer.from(g.test.images))).toBe(true);
    expect(Array.from(d.train.labels)).toEqual(Array.from(g.train.labels));
    expect(d.classNames).toHaveLength(100);
    expect(d.classNames[0]).toBe("apple");
    expect(d.classNames[99]).toBe("worm");
    expect(new Set(CIFAR100_FINE_CLASSES).size).toBe(100);
  });

  it("serves coarse labels when asked", async () => {
    const dir = tempDir();
    const g = writeCifar100Folder(dir, 200, 50);
    const d = await loadCifar100({ dataDir: dir, labels: "coarse" });
    expect(d.numClasses).toBe(20);
    expect(d.classNames).toEqual(CIFAR100_COARSE_CLASSES);
    expect(Array.from(d.train.labels)).toEqual(Array.from(g.train.labels, fineToCoarse));
  });

  it("reads the .tar.gz in one streaming pass", async () => {
    const dir = tempDir();
    const src = tempDir();
    const g = writeCifar100Folder(src, 150, 40);
    await create({ gzip: true, file: join(dir, "cifar-100-binary.tar.gz"), cwd: src }, ["cifar-100-binary"]);
    const d = await loadCifar100({ dataDir: dir, verifyChecksum: false });
    expect(d.source).toContain("cifar-100-binary.tar.gz");
    expect(Buffer.from(d.train.images).equals(Buffer.from(g.train.images))).toBe(true);
    expect(Array.from(d.test.labels)).toEqual(Array.from(g.test.labels));
  });

  it("rejects a local archive whose md5 is not the official one", async () => {
    const dir = tempDir();
    const src = tempDir();
    writeCifar100Folder(src, 10, 10);
    await create({ gzip: true, file: join(dir, "cifar-100-binary.tar.gz"), cwd: src }, ["cifar-100-binary"]);
    const err = await caught(() => loadCifar100({ dataDir: dir }));
    expect(err).toBeInstanceOf(DataError);
    expect(err.message).toContain("cifar-100-binary.tar.gz");
    expect(err.message).toContain("03b5dce01913d631647c71ecec9e9cb8");
  });

  it("reports a truncated archive with its file name", async () => {
    const dir = tempDir();
    const src = tempDir();
    writeCifar100Folder(src, 100, 10);
    const file = join(dir, "cifar-100-binary.tar.gz");
    await create({ gzip: true, file, cwd: src }, ["cifar-100-binary"]);
    const bytes = readFileSync(file);
    writeFileSync(file, bytes.subarray(0, Math.floor(bytes.length / 2)));
    const err = await caught(() => loadCifar100({ dataDir: dir, verifyChecksum: false }));
    expect(err).toBeInstanceOf(DataError);
    expect(err.message).toContain("cifar-100-binary.tar.gz");
  });

  it("reports a truncated .bin with file, offset and expected size", async () => {
    const dir = tempDir();
    writeCifar100Folder(dir, 20, 5);
    const file = join(dir, "cifar-100-binary", "train.bin");
    truncateSync(file, 20 * 3074 - 100);
    const err = (await caught(() => loadCifar100({ dataDir: dir }))) as DataError;
    expect(err).toBeInstanceOf(DataError);
    expect(err.message).toContain(file);
    expect(err.details.offset).toBe(19 * 3074);
    expect(err.details.expectedBytes).toBe(20 * 3074);
    expect(err.message).toContain(String(19 * 3074));
  });

  it("reports an out-of-range label with its offset", async () => {
    const dir = tempDir();
    writeCifar100Folder(dir, 20, 5);
    const file = join(dir, "cifar-100-binary", "train.bin");
    const bytes = readFileSync(file);
    bytes[7 * 3074 + 1] = 140; // fine label of record 7
    writeFileSync(file, bytes);
    const err = (await caught(() => loadCifar100({ dataDir: dir }))) as DataError;
    expect(err).toBeInstanceOf(DataError);
    expect(err.details.offset).toBe(7 * 3074 + 1);
    expect(err.message).toContain("fine label 140");
  });

  it("reports a fine label paired with two coarse labels (mislabelled file)", async () => {
    const dir = tempDir();
    const g = writeCifar100Folder(dir, 300, 5);
    const file = join(dir, "cifar-100-binary", "train.bin");
    const bytes = readFileSync(file);
    const fine = g.train.labels[0] as number;
    const second = Array.from(g.train.labels).indexOf(fine, 1);
    expect(second).toBeGreaterThan(0);
    bytes[second * 3074] = (fineToCoarse(fine) + 1) % 20;
    writeFileSync(file, bytes);
    const err = (await caught(() => loadCifar100({ dataDir: dir }))) as DataError;
    expect(err).toBeInstanceOf(DataError);
    expect(err.details.offset).toBe(second * 3074);
  });

  it("a CIFAR-10 file read as CIFAR-100 fails on size, not with garbage", async () => {
    const dir = tempDir();
    mkdirSync(join(dir, "cifar-100-binary"));
    writeFileSync(join(dir, "cifar-100-binary", "train.bin"), generateCifarRecords(10, 10, 3).bytes);
    writeFileSync(join(dir, "cifar-100-binary", "test.bin"), generateCifarRecords(100, 2, 3).bytes);
    const err = await caught(() => loadCifar100({ dataDir: dir }));
    expect(err).toBeInstanceOf(DataError);
    expect(err.message).toContain("not a multiple of the 3074-byte");
  });

  it("an incomplete extracted folder names the missing file and how to fix it", async () => {
    const dir = tempDir();
    mkdirSync(join(dir, "cifar-100-binary"));
    writeFileSync(join(dir, "cifar-100-binary", "train.bin"), generateCifarRecords(100, 2, 3).bytes);
    const err = await caught(() => loadCifar100({ dataDir: dir }));
    expect(err).toBeInstanceOf(DataError);
    expect(err.message).toContain("test.bin");
    expect(err.message).toContain("MNEMO_DATA_DIR");
  });

  it("with no local copy and download disabled, says what to put where", async () => {
    const dir = tempDir();
    const err = await caught(() => loadCifar100({ dataDir: dir, download: false }));
    expect(err).toBeInstanceOf(DataError);
    expect(err.message).toContain("cifar-100-binary.tar.gz");
    expect(err.message).toContain("https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz");
    expect(err.message).toContain("$MNEMO_DATA_DIR");
    expect(err.message).toContain(dir);
  });

  it("rejects trailing data after the last record", async () => {
    const dir = tempDir();
    writeCifar100Folder(dir, 4, 2);
    appendFileSync(join(dir, "cifar-100-binary", "test.bin"), Buffer.alloc(10));
    const err = (await caught(() => loadCifar100({ dataDir: dir }))) as DataError;
    expect(err).toBeInstanceOf(DataError);
    expect(err.details.file).toContain("test.bin");
  });
});

describe("CIFAR-10 binary", () => {
  it("round-trips five train batches and the test batch", async () => {
    const dir = tempDir();
    const g = writeCifar10Folder(dir, 30, 25);
    const d = await loadCifar10({ dataDir: dir });
    expect(d.train.count).toBe(150);
    expect(d.numClasses).toBe(10);
    expect(Buffer.from(d.train.images).equals(Buffer.from(g.train.images))).toBe(true);
    expect(Array.from(d.train.labels)).toEqual(Array.from(g.train.labels));
    expect(Buffer.from(d.test.images).equals(Buffer.from(g.test.images))).toBe(true);
  });

  it("reads the five members of the .tar.gz in order", async () => {
    const dir = tempDir();
    const src = tempDir();
    const g = writeCifar10Folder(src, 12, 7);
    await create({ gzip: true, file: join(dir, "cifar-10-binary.tar.gz"), cwd: src }, ["cifar-10-batches-bin"]);
    const d = await loadCifar10({ dataDir: dir, verifyChecksum: false });
    expect(Buffer.from(d.train.images).equals(Buffer.from(g.train.images))).toBe(true);
    expect(Array.from(d.train.labels)).toEqual(Array.from(g.train.labels));
    expect(existsSync(join(dir, "cifar-10-batches-bin"))).toBe(false); // nothing extracted to disk
  });
});
