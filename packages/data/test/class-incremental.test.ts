import { existsSync, readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ConfigError, DataError } from "@mnemo/core/errors";
import { buildStream, CIFAR100_FINE_CLASSES, ICARL_ORDER, PYCIL_ORDER, partitionClasses, streamConfigSchema, type StreamConfigInput } from "../src/index.js";
import { writeCifar100Folder } from "../src/testing/generators.js";
import { caught, tempDir } from "./helpers.js";

const parse = (c: StreamConfigInput) => streamConfigSchema.parse(c);

describe("named CIFAR-100 orders", () => {
  it("icarl begins 87, 0, 52, 58 and pycil begins 68, 56, 78, 8; both are permutations of 0..99", () => {
    expect(ICARL_ORDER.slice(0, 4)).toEqual([87, 0, 52, 58]);
    expect(PYCIL_ORDER.slice(0, 4)).toEqual([68, 56, 78, 8]);
    for (const o of [ICARL_ORDER, PYCIL_ORDER]) expect([...o].sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i));
  });
});

describe("partitionClasses", () => {
  it("splits evenly, honours initial_increment and lists", () => {
    expect(partitionClasses(100, 10, undefined, "error")).toEqual(Array(10).fill(10));
    expect(partitionClasses(100, 10, 50, "error")).toEqual([50, 10, 10, 10, 10, 10]);
    expect(partitionClasses(10, [4, 3, 3], undefined, "error")).toEqual([4, 3, 3]);
  });
  it("puts the remainder where the config says, and refuses otherwise naming the key", () => {
    expect(partitionClasses(10, 3, undefined, "first")).toEqual([4, 3, 3]);
    expect(partitionClasses(10, 3, undefined, "last")).toEqual([3, 3, 4]);
    expect(partitionClasses(10, 3, undefined, "extra-task")).toEqual([3, 3, 3, 1]);
    const e = (() => {
      try {
        partitionClasses(10, 3, undefined, "error");
      } catch (err) {
        return err as ConfigError;
      }
      throw new Error("no error");
    })();
    expect(e).toBeInstanceOf(ConfigError);
    expect(e.path).toBe("stream.increment");
    expect(e.message).toContain("remainder");
    expect(() => partitionClasses(10, [4, 4], undefined, "error")).toThrow(/sum to 8/);
  });
});

describe("class-incremental stream", () => {
  it("cifar100 + icarl order: labels remapped in order of appearance, test sets in sync", async () => {
    const dir = tempDir();
    const g = writeCifar100Folder(dir, 1000, 300);
    const s = await buildStream(parse({ kind: "class-incremental", dataset: { name: "cifar100" }, increment: 10, order: "icarl" }), { seed: 0, dataDir: dir });
    expect(s.numTasks).toBe(10);
    expect(s.scenario).toBe("class-incremental");
    expect(s.labelMap).toEqual(ICARL_ORDER);
    expect(s.taskClasses[1]).toEqual([10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
    expect(s.classNames?.[0]).toBe(CIFAR100_FINE_CLASSES[87]);
    const t0 = await s.task(0);
    const original = new Set(ICARL_ORDER.slice(0, 10));
    const expectedCount = Array.from(g.train.labels).filter((y) => original.has(y)).length;
    expect(t0.train.count).toBe(expectedCount);
    for (const y of t0.train.labels) expect(y).toBeLessThan(10);
    // Every remapped label points back to an image of the right original class.
    const test3 = await s.testSet(3);
    let k = 0;
    for (let i = 0; i < g.test.count; i++) {
      const orig = g.test.labels[i] as number;
      const pos = ICARL_ORDER.indexOf(orig);
      if (pos >= 30 && pos < 40) {
        expect(test3.labels[k]).toBe(pos);
        expect(Buffer.from(test3.images.subarray(k * 3072, (k + 1) * 3072)).equals(Buffer.from(g.test.images.subarray(i * 3072, (i + 1) * 3072)))).toBe(true);
        k++;
      }
    }
    expect(k).toBe(test3.count);
  });

  it("random order is seeded: same seed same order and hash, other seed differs", async () => {
    const cfg = parse({ kind: "class-incremental", dataset: { name: "synthetic-blobs", num_classes: 10 }, increment: 2 });
    const a = await buildStream(cfg, { seed: 7 });
    const b = await buildStream(cfg, { seed: 7 });
    const c = await buildStream(cfg, { seed: 8 });
    expect(a.labelMap).toEqual(b.labelMap);
    expect(a.hash).toBe(b.hash);
    expect(a.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(c.labelMap).not.toEqual(a.labelMap);
    expect(c.hash).not.toBe(a.hash);
    const seeded = parse({ kind: "class-incremental", dataset: { name: "synthetic-blobs", num_classes: 10 }, increment: 2, order_seed: 3 });
    expect((await buildStream(seeded, { seed: 1 })).labelMap).toEqual((await buildStream(seeded, { seed: 2 })).labelMap);
  });

  it("a fixed order without other randomness gives a seed-independent hash; any config change changes it", async () => {
    const base = { kind: "class-incremental", dataset: { name: "synthetic-blobs", num_classes: 10 }, increment: 2, order: "dataset" } as const;
    const h1 = (await buildStream(parse(base), { seed: 1 })).hash;
    expect((await buildStream(parse(base), { seed: 2 })).hash).toBe(h1);
    expect((await buildStream(parse({ ...base, increment: 5 }), { seed: 1 })).hash).not.toBe(h1);
    expect((await buildStream(parse({ ...base, validation: { fraction: 0.2 } }), { seed: 1 })).hash).not.toBe(h1);
  });

  it("explicit orders, increments lists and remainders; errors name the key", async () => {
    const ds = { name: "synthetic-blobs", num_classes: 7 } as const;
    const s = await buildStream(parse({ kind: "class-incremental", dataset: ds, increment: [3, 4], order: [6, 5, 4, 3, 2, 1, 0] }), { seed: 0 });
    expect(s.labelMap).toEqual([6, 5, 4, 3, 2, 1, 0]);
    expect(s.taskClasses).toEqual([[0, 1, 2], [3, 4, 5, 6]]);
    const r = await buildStream(parse({ kind: "class-incremental", dataset: ds, increment: 2, remainder: "last" }), { seed: 0 });
    expect(r.taskClasses.map((c) => c.length)).toEqual([2, 2, 3]);
    const e1 = (await caught(() => buildStream(parse({ kind: "class-incremental", dataset: ds, increment: 2 }), { seed: 0 }))) as ConfigError;
    expect(e1).toBeInstanceOf(ConfigError);
    expect(e1.path).toBe("stream.increment");
    const e2 = (await caught(() => buildStream(parse({ kind: "class-incremental", dataset: ds, increment: 1, order: "icarl" }), { seed: 0 }))) as ConfigError;
    expect(e2.path).toBe("stream.order");
    const e3 = (await caught(() => buildStream(parse({ kind: "class-incremental", dataset: ds, increment: 1, order: [0, 0] }), { seed: 0 }))) as ConfigError;
    expect(e3.path).toBe("stream.order[1]");
  });

  it("the schema rejects unknown keys and fills defaults", () => {
    expect(() => parse({ kind: "class-incremental", dataset: { name: "mnist" }, increment: 2, incremnet: 3 } as never)).toThrow();
    expect(() => parse({ kind: "class-incremental", dataset: { name: "mnist", labels: "fine" }, increment: 2 } as never)).toThrow();
    const c = parse({ kind: "class-incremental", dataset: { name: "cifar100" }, increment: 10 });
    expect(c.kind === "class-incremental" && c.order).toBe("random");
    expect(c.kind === "class-incremental" && c.remainder).toBe("error");
    expect(c.dataset.name === "cifar100" && c.dataset.labels).toBe("fine");
  });

  it("buildStream validates raw configs too, naming the key", async () => {
    const err = (await caught(() => buildStream({ kind: "class-incremental", dataset: { name: "mnist" }, increment: 0 } as never, { seed: 0 }))) as ConfigError;
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.path).toBe("stream.increment");
  });

  it("validation split is carved per class from train, disjoint, seeded, and limit_per_class caps counts", async () => {
    const cfg = parse({
      kind: "class-incremental",
      dataset: { name: "synthetic-blobs", num_classes: 4, train_per_class: 40, test_per_class: 20 },
      increment: 2,
      order: "dataset",
      validation: { fraction: 0.25 },
      limit_per_class: { train: 20, test: 10 },
    });
    const s = await buildStream(cfg, { seed: 3 });
    const t = await s.task(0);
    expect(t.train.count).toBe(2 * 15);
    expect(t.validation?.count).toBe(2 * 5);
    expect(t.test.count).toBe(2 * 10);
    const again = await (await buildStream(cfg, { seed: 3 })).task(0);
    expect(Buffer.from(again.validation?.images ?? []).equals(Buffer.from(t.validation?.images ?? []))).toBe(true);
    // No validation image is also a training image (images are unique with this noise level).
    const key = (set: typeof t.train, i: number) => Buffer.from(set.images.subarray(i * 16, (i + 1) * 16)).toString("hex");
    const trainKeys = new Set(Array.from({ length: t.train.count }, (_, i) => key(t.train, i)));
    for (let i = 0; i < (t.validation?.count ?? 0); i++) expect(trainKeys.has(key(t.validation as typeof t.train, i))).toBe(false);
  });

  it("offline: cifar100 with download enabled fails fast with file, URL and MNEMO_DATA_DIR, caching nothing", async () => {
    const dir = tempDir();
    const started = Date.now();
    const err = await caught(() =>
      buildStream(parse({ kind: "class-incremental", dataset: { name: "cifar100" }, increment: 10, order: "icarl" }), {
        seed: 0,
        dataDir: dir,
        download: true,
        downloadTimeoutMs: 3000,
        onProgress: () => undefined,
      }),
    );
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(err).toBeInstanceOf(DataError);
    expect(err.message).toContain("cifar-100-binary.tar.gz");
    expect(err.message).toContain("https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz");
    expect(err.message).toContain("MNEMO_DATA_DIR");
    expect(existsSync(`${dir}/cifar-100-binary.tar.gz`)).toBe(false);
    expect(readdirSync(dir).filter((f) => !f.endsWith(".part"))).toEqual([]);
  });
});
