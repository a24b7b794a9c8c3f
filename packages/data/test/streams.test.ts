import { cpSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, DataError } from "@mnemo/core/errors";
import { RandomStream, streamKey } from "@mnemo/core/rng";
import { buildStream, CIFAR100_TOPIC_DIR, EpisodeSampler, loadMnist, streamConfigSchema, taskPermutation, type StreamConfigInput } from "../src/index.js";
import { generateCifarRecords, fineToCoarse, writeIdxDataset } from "../src/testing/generators.js";
import { mkdirSync } from "node:fs";
import { caught, tempDir } from "./helpers.js";

const parse = (c: StreamConfigInput) => streamConfigSchema.parse(c);

describe("domain-incremental", () => {
  it("permuted MNIST: one permutation per task, different per task, identical across runs", async () => {
    const dir = tempDir();
    const g = writeIdxDataset(join(dir, "mnist"), 40, 20);
    const cfg = parse({ kind: "domain-incremental", dataset: { name: "mnist" }, transform: { type: "permuted", tasks: 3 } });
    const a = await buildStream(cfg, { seed: 11, dataDir: dir });
    const b = await buildStream(cfg, { seed: 11, dataDir: dir });
    expect(a.scenario).toBe("domain-incremental");
    expect(a.numTasks).toBe(3);
    expect(a.taskClasses[2]).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(a.hash).toBe(b.hash);
    const perms = [0, 1, 2].map((t) => taskPermutation(11, t, 784));
    expect(perms[0]).not.toEqual(perms[1]);
    expect(perms[1]).not.toEqual(perms[2]);
    for (let t = 0; t < 3; t++) {
      const ta = await a.task(t);
      const tb = await b.task(t);
      expect(Buffer.from(ta.train.images).equals(Buffer.from(tb.train.images))).toBe(true);
      // Pixel p of the task image is pixel perm[p] of the original.
      const perm = perms[t] as number[];
      for (const p of [0, 100, 783]) expect(ta.train.images[5 * 784 + p]).toBe(g.train.images[5 * 784 + (perm[p] as number)]);
      expect(Array.from(ta.test.labels)).toEqual(Array.from(g.test.labels));
    }
    const other = await buildStream(cfg, { seed: 12, dataDir: dir });
    expect(other.hash).not.toBe(a.hash);
  });

  it("rotated MNIST: 0 degrees is the identity, 180 degrees reverses the pixels", async () => {
    const dir = tempDir();
    const g = writeIdxDataset(join(dir, "mnist"), 12, 12);
    const s = await buildStream(parse({ kind: "domain-incremental", dataset: { name: "mnist" }, transform: { type: "rotated", angles: [0, 180] } }), { seed: 0, dataDir: dir });
    const t0 = await s.task(0);
    const t1 = await s.task(1);
    expect(Buffer.from(t0.train.images).equals(Buffer.from(g.train.images))).toBe(true);
    const img = g.train.images.subarray(3 * 784, 4 * 784);
    const rot = t1.train.images.subarray(3 * 784, 4 * 784);
    for (const p of [0, 29, 400, 783]) expect(rot[p]).toBe(img[783 - p]);
  });
});

describe("task-incremental", () => {
  it("is a class split with the task-incremental scenario (task id known at test time)", async () => {
    const s = await buildStream(parse({ kind: "task-incremental", dataset: { name: "synthetic-blobs", num_classes: 6 }, increment: 2, order: "dataset" }), { seed: 0 });
    expect(s.scenario).toBe("task-incremental");
    expect(s.taskClasses).toEqual([[0, 1], [2, 3], [4, 5]]);
    const t = await s.task(2);
    expect(new Set(t.test.labels)).toEqual(new Set([4, 5]));
  });
});

/** A CIFAR-100 train set in which the TOPIC index lists point at the right classes. */
function writeTopicCompatibleCifar(dir: string): void {
  const count = 50000;
  const lists = Array.from({ length: 8 }, (_, s) =>
    readFileSync(join(CIFAR100_TOPIC_DIR, `session_${s + 2}.txt`), "utf8").trim().split(/\s+/).map(Number),
  );
  const g = generateCifarRecords(100, count, 5, 100, "pattern");
  const bytes = g.bytes;
  lists.forEach((list, s) =>
    list.forEach((idx, j) => {
      const fine = 60 + 5 * s + Math.floor(j / 5);
      bytes[idx * 3074] = fineToCoarse(fine);
      bytes[idx * 3074 + 1] = fine;
    }),
  );
  // The generator pairs fine f with coarse f % 20 everywhere, so overwriting keeps it consistent.
  mkdirSync(join(dir, "cifar-100-binary"), { recursive: true });
  writeFileSync(join(dir, "cifar-100-binary", "train.bin"), bytes);
  writeFileSync(join(dir, "cifar-100-binary", "test.bin"), generateCifarRecords(100, 500, 6).bytes);
}

describe("few-shot class-incremental", () => {
  it("the shipped TOPIC index lists: are sorted by class in groups of 5 shots (sanity of the copy)", () => {
    for (let s = 2; s <= 9; s++) {
      const list = readFileSync(join(CIFAR100_TOPIC_DIR, `session_${s}.txt`), "utf8").trim().split(/\s+/);
      expect(list).toHaveLength(25);
    }
  });

  it("cifar100-topic: 60 base classes then 8 sessions of exactly 5 classes x 5 shots", async () => {
    const dir = tempDir();
    writeTopicCompatibleCifar(dir);
    const s = await buildStream(parse({ kind: "few-shot-class-incremental", dataset: { name: "cifar100" }, split: "cifar100-topic" }), { seed: 0, dataDir: dir });
    expect(s.numTasks).toBe(9);
    expect(s.taskClasses[0]).toHaveLength(60);
    expect(s.labelMap.slice(0, 3)).toEqual([0, 1, 2]);
    for (let t = 1; t < 9; t++) {
      const task = await s.task(t);
      expect(task.train.count).toBe(25);
      const counts = new Map<number, number>();
      for (const y of task.train.labels) counts.set(y, (counts.get(y) ?? 0) + 1);
      expect([...counts.keys()].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4].map((j) => 60 + 5 * (t - 1) + j));
      expect([...counts.values()]).toEqual([5, 5, 5, 5, 5]);
    }
  });

  it("index lists that do not match the train set fail, naming the session file", async () => {
    const dir = tempDir();
    const idx = tempDir();
    cpSync(CIFAR100_TOPIC_DIR, idx, { recursive: true });
    writeTopicCompatibleCifar(dir);
    const file = join(idx, "session_4.txt");
    const lines = readFileSync(file, "utf8").trim().split(/\s+/);
    lines[0] = lines[24] as string; // one class now has 6 shots, another 4
    writeFileSync(file, lines.join("\n"));
    const err = await caught(() => buildStream(parse({ kind: "few-shot-class-incremental", dataset: { name: "cifar100" }, split: { index_dir: idx } }), { seed: 0, dataDir: dir }));
    expect(err).toBeInstanceOf(DataError);
    expect(err.message).toContain("session_4.txt");
  });

  it("seeded split: N-way K-shot sessions, reproducible, leftover classes are an error", async () => {
    const ds = { name: "synthetic-blobs", num_classes: 20, train_per_class: 30 } as const;
    const cfg = parse({ kind: "few-shot-class-incremental", dataset: ds, base_classes: 10, ways: 5, shots: 3 });
    const s = await buildStream(cfg, { seed: 4 });
    expect(s.numTasks).toBe(3);
    const t2 = await s.task(2);
    expect(t2.train.count).toBe(15);
    expect(new Set(t2.train.labels)).toEqual(new Set([15, 16, 17, 18, 19]));
    expect((await buildStream(cfg, { seed: 4 })).hash).toBe(s.hash);
    const err = (await caught(() => buildStream(parse({ kind: "few-shot-class-incremental", dataset: ds, base_classes: 10, ways: 3 }), { seed: 4 }))) as ConfigError;
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.path).toBe("stream.ways");
    const ok = await buildStream(parse({ kind: "few-shot-class-incremental", dataset: ds, base_classes: 10, ways: 3, sessions: 3 }), { seed: 4 });
    expect(ok.numClasses).toBe(19);
  });

  it("cifar100-topic on another dataset is a config error", async () => {
    const err = (await caught(() => buildStream(parse({ kind: "few-shot-class-incremental", dataset: { name: "synthetic-blobs" }, split: "cifar100-topic" }), { seed: 0 }))) as ConfigError;
    expect(err.path).toBe("stream.split");
  });
});

describe("episode sampler", () => {
  it("N distinct classes, K support and Q query each, no overlap, seeded", async () => {
    const mnist = await loadMnist({ dataDir: tempDir() });
    const sampler = new EpisodeSampler(mnist.test, { ways: 5, shots: 1, queries: 15 }, new RandomStream(streamKey(3, "episodes")));
    const again = new EpisodeSampler(mnist.test, { ways: 5, shots: 1, queries: 15 }, new RandomStream(streamKey(3, "episodes")));
    for (let e = 0; e < 20; e++) {
      const ep = sampler.next();
      expect(new Set(ep.classes).size).toBe(5);
      expect(ep.support.count).toBe(5);
      expect(ep.query.count).toBe(75);
      for (let k = 0; k < 5; k++) {
        expect(Array.from(ep.support.labels).filter((y) => y === k)).toHaveLength(1);
        expect(Array.from(ep.query.labels).filter((y) => y === k)).toHaveLength(15);
      }
      const support = new Set(ep.supportIndices);
      for (const q of ep.queryIndices) expect(support.has(q)).toBe(false);
      expect(new Set(ep.queryIndices).size).toBe(75);
      ep.supportIndices.forEach((i, j) => expect(mnist.test.labels[i]).toBe(ep.classes[ep.support.labels[j] as number]));
      expect(Array.from(again.next().supportIndices)).toEqual(Array.from(ep.supportIndices));
    }
  });

  it("too few classes with enough images is a config error", () => {
    const set = { images: new Uint8Array(4), labels: Int32Array.from([0, 0, 1, 1]), count: 4, shape: [1, 1, 1] as const };
    expect(() => new EpisodeSampler(set, { ways: 2, shots: 2, queries: 1 }, new RandomStream(1))).toThrow(ConfigError);
  });
});

describe("online / blurry", () => {
  it("blurry: a fraction of samples crosses task boundaries, test sets stay clean, no sample lost", async () => {
    const ds = { name: "synthetic-blobs", num_classes: 6, train_per_class: 100 } as const;
    const s = await buildStream(parse({ kind: "class-incremental", dataset: ds, increment: 2, order: "dataset", online: { blurry: 0.1 } }), { seed: 1 });
    expect(s.online).toBe(true);
    let total = 0;
    let foreign = 0;
    for (let t = 0; t < 3; t++) {
      const task = await s.task(t);
      total += task.train.count;
      const own = new Set(s.taskClasses[t]);
      foreign += Array.from(task.train.labels).filter((y) => !own.has(y)).length;
      for (const y of task.test.labels) expect(own.has(y)).toBe(true);
    }
    expect(total).toBe(600);
    expect(foreign / total).toBeGreaterThan(0.05);
    expect(foreign / total).toBeLessThan(0.15);
    const crisp = await buildStream(parse({ kind: "class-incremental", dataset: ds, increment: 2, order: "dataset", online: {} }), { seed: 1 });
    const t0 = await crisp.task(0);
    expect(new Set(t0.train.labels)).toEqual(new Set([0, 1]));
  });
});
