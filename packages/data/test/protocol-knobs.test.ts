import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, DataError } from "@mnemo/core/errors";
import { buildStream, loadCifar10, streamConfigSchema, type StreamConfigInput } from "../src/index.js";
import { writeCifar10Folder } from "../src/testing/generators.js";
import { caught, tempDir } from "./helpers.js";

const parse = (c: StreamConfigInput) => streamConfigSchema.parse(c);
const blobs = { name: "synthetic-blobs" as const, num_classes: 4, dim: 3, train_per_class: 20, test_per_class: 5 };
const base = { kind: "class-incremental" as const, dataset: blobs, order: "dataset" as const, increment: 2 };

describe("stream.normalize", () => {
  it("dataset (default) keeps the published statistics, none drops them, [mean, std] sets them", async () => {
    const dir = tempDir();
    writeCifar10Folder(dir, 4, 10);
    const cifar = { kind: "class-incremental" as const, dataset: { name: "cifar10" as const }, increment: 5, order: "dataset" as const };
    const byDefault = await buildStream(parse(cifar), { seed: 0, dataDir: dir });
    expect(byDefault.normalization?.mean).toEqual([0.4914, 0.4822, 0.4465]);
    const explicitDataset = await buildStream(parse({ ...cifar, normalize: "dataset" }), { seed: 0, dataDir: dir });
    expect(explicitDataset.normalization).toEqual(byDefault.normalization);
    const none = await buildStream(parse({ ...cifar, normalize: "none" }), { seed: 0, dataDir: dir });
    expect(none.normalization).toBeUndefined();
    const own = await buildStream(parse({ ...cifar, normalize: [0.5, [0.25, 0.5, 1]] }), { seed: 0, dataDir: dir });
    expect(own.normalization).toEqual({ mean: [0.5, 0.5, 0.5], std: [0.25, 0.5, 1] });
    // The normalisation is part of what defines the stream.
    expect(new Set([byDefault.hash, none.hash, own.hash]).size).toBe(3);
  });

  it("leaving normalize out does not change existing stream hashes", async () => {
    const a = await buildStream(parse(base), { seed: 0 });
    const b = await buildStream(parse({ ...base, normalize: "dataset" }), { seed: 0 });
    expect(a.hash).not.toBe(b.hash); // the key is recorded when written...
    expect(a.descriptor["config"]).not.toHaveProperty("normalize"); // ...and absent when not
  });

  it("wrong channel counts and non-positive std are ConfigErrors naming stream.normalize", async () => {
    const dir = tempDir();
    writeCifar10Folder(dir, 2, 4);
    const cifar = { kind: "class-incremental" as const, dataset: { name: "cifar10" as const }, increment: 5 };
    const e1 = await caught(() => buildStream(parse({ ...cifar, normalize: [[0.5, 0.5], 0.2] }), { seed: 0, dataDir: dir }));
    expect(e1).toBeInstanceOf(ConfigError);
    expect((e1 as ConfigError).path).toBe("stream.normalize");
    expect(e1.message).toMatch(/2 values but cifar10 images have 3 channels/);
    const e2 = await caught(() => buildStream(parse({ ...cifar, normalize: [0.5, 0] }), { seed: 0, dataDir: dir }));
    expect(e2.message).toMatch(/std must be positive/);
    expect(streamConfigSchema.safeParse({ ...cifar, normalize: "zscore" }).success).toBe(false);
  });
});

describe("stream.validation sizes", () => {
  it("per_class holds out exactly that many images of every class; 0 (either form) is explicitly none", async () => {
    const s = await buildStream(parse({ ...base, validation: { per_class: 3 } }), { seed: 4 });
    const t = await s.task(1);
    expect(t.validation?.count).toBe(2 * 3);
    expect(t.train.count).toBe(2 * 17);
    for (const v of [{ per_class: 0 }, { fraction: 0 }]) {
      const off = await buildStream(parse({ ...base, validation: v }), { seed: 4 });
      const t0 = await off.task(0);
      expect(t0.validation).toBeUndefined();
      expect(t0.train.count).toBe(40);
    }
  });

  it("needs exactly one of fraction and per_class, and refuses to hold out a whole class", async () => {
    expect(streamConfigSchema.safeParse({ ...base, validation: {} }).success).toBe(false);
    expect(streamConfigSchema.safeParse({ ...base, validation: { fraction: 0.1, per_class: 2 } }).success).toBe(false);
    const err = await caught(() => buildStream(parse({ ...base, validation: { per_class: 20 } }), { seed: 0 }));
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).path).toBe("stream.validation.per_class");
  });

  it("per_class and the equivalent fraction hold out the same images (one seeded stream per class)", async () => {
    const a = await (await buildStream(parse({ ...base, validation: { per_class: 5 } }), { seed: 2 })).task(0);
    const b = await (await buildStream(parse({ ...base, validation: { fraction: 0.25 } }), { seed: 2 })).task(0);
    expect(Buffer.from(a.validation?.images ?? []).equals(Buffer.from(b.validation?.images ?? []))).toBe(true);
  });
});

describe("stream.split_files", () => {
  it("re-splits train+test by index files (test indices continue after the train images)", async () => {
    const dir = tempDir();
    // 4 classes x (20 train + 5 test) blobs = indices 0..79 (train) and 80..99 (test).
    const train = Array.from({ length: 60 }, (_, i) => i + 20); // train images 20..79
    const test = [...Array.from({ length: 20 }, (_, i) => i), ...Array.from({ length: 20 }, (_, i) => 80 + i)]; // train 0..19 + all test
    writeFileSync(join(dir, "train.txt"), `# my split\n${train.join("\n")}\n`);
    writeFileSync(join(dir, "test.txt"), test.join(", "));
    const s = await buildStream(parse({ ...base, split_files: { train: join(dir, "train.txt"), test: join(dir, "test.txt") } }), { seed: 0 });
    const plain = await buildStream(parse(base), { seed: 0 });
    let nTrain = 0;
    let nTest = 0;
    for (let j = 0; j < s.numTasks; j++) {
      nTrain += (await s.task(j)).train.count;
      nTest += (await s.testSet(j)).count;
    }
    expect([nTrain, nTest]).toEqual([60, 40]);
    expect(s.hash).not.toBe(plain.hash);
    expect(s.descriptor).toHaveProperty("splitFilesSha256");
  });

  it("overlapping lists, bad tokens and out-of-range indices are named errors with file and line", async () => {
    const dir = tempDir();
    const f = (name: string, text: string) => {
      writeFileSync(join(dir, name), text);
      return join(dir, name);
    };
    const overlap = await caught(() => buildStream(parse({ ...base, split_files: { train: f("a.txt", "0 1 2"), test: f("b.txt", "2 3") } }), { seed: 0 }));
    expect(overlap).toBeInstanceOf(ConfigError);
    expect(overlap.message).toMatch(/both split files \(first: index 2\)/);
    const bad = await caught(() => buildStream(parse({ ...base, split_files: { train: f("c.txt", "0\n1\nx2"), test: f("d.txt", "5") } }), { seed: 0 }));
    expect(bad).toBeInstanceOf(DataError);
    expect(bad.message).toContain("c.txt:3");
    const range = await caught(() => buildStream(parse({ ...base, split_files: { train: f("e.txt", "0 100"), test: f("g.txt", "5") } }), { seed: 0 }));
    expect(range.message).toMatch(/e\.txt:1: index 100 is outside 0\.\.99/);
    const dup = await caught(() => buildStream(parse({ ...base, split_files: { train: f("h.txt", "1\n1"), test: f("i.txt", "5") } }), { seed: 0 }));
    expect(dup.message).toMatch(/h\.txt:2: index 1 is listed twice/);
  });
});

describe("CIFAR train_files / test_files", () => {
  it("reads the named batch files instead of the official ones (folder or absolute paths)", async () => {
    const dir = tempDir();
    const g = writeCifar10Folder(dir, 6, 8);
    const d = await loadCifar10({ dataDir: dir, trainFiles: ["data_batch_1.bin", "data_batch_2.bin"], testFiles: ["data_batch_5.bin"] });
    expect(d.train.count).toBe(12);
    expect(d.test.count).toBe(6);
    expect(Buffer.from(d.train.images).equals(Buffer.from(g.train.images.subarray(0, 12 * 3072)))).toBe(true);
    expect(Buffer.from(d.test.images).equals(Buffer.from(g.train.images.subarray(24 * 3072, 30 * 3072)))).toBe(true);
    const folder = join(dir, "cifar-10-batches-bin");
    const abs = await loadCifar10({ dataDir: tempDir(), trainFiles: [join(folder, "data_batch_3.bin")], testFiles: [join(folder, "test_batch.bin")] });
    expect(abs.train.count).toBe(6);
    expect(Buffer.from(abs.test.images).equals(Buffer.from(g.test.images))).toBe(true);
  });

  it("through the stream config, with a missing file named", async () => {
    const dir = tempDir();
    writeCifar10Folder(dir, 4, 10);
    const cfg = { kind: "class-incremental" as const, increment: 5, dataset: { name: "cifar10" as const, train_files: ["data_batch_1.bin"] } };
    const s = await buildStream(parse(cfg), { seed: 0, dataDir: dir });
    expect(s.descriptor["dataset"]).toMatchObject({ trainCount: 4, testCount: 10 });
    const err = await caught(() => buildStream(parse({ ...cfg, dataset: { name: "cifar10", train_files: ["mine.bin"] } }), { seed: 0, dataDir: dir }));
    expect(err).toBeInstanceOf(DataError);
    expect(err.message).toContain("mine.bin");
  });
});
