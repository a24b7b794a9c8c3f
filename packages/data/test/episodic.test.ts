import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError } from "@mnemo/core/errors";
import { anyStreamConfigSchema, buildStream, isEpisodicStream, type AnyStreamConfigInput, type EpisodicStream } from "../src/index.js";
import { writeIdxDataset } from "../src/testing/generators.js";
import { caught, tempDir } from "./helpers.js";

const build = async (c: AnyStreamConfigInput, seed: number, dataDir?: string): Promise<EpisodicStream> => {
  const s = await buildStream(anyStreamConfigSchema.parse(c), { seed, dataDir });
  if (!isEpisodicStream(s)) throw new Error("expected an episodic stream");
  return s;
};

const blobs = { name: "synthetic-blobs", num_classes: 12, train_per_class: 15, test_per_class: 5 } as const;

describe("meta-learning streams", () => {
  it("seeded counts: three disjoint class splits in consecutive label ranges, one pool per class, hash fixed by seed", async () => {
    const cfg = { kind: "meta-learning", dataset: { ...blobs, num_classes: 16 }, classes: { train: 6, validation: 5, test: 5 } } as const;
    const a = await build(cfg, 3);
    const b = await build(cfg, 3);
    const c = await build(cfg, 4);
    expect(a.scenario).toBe("meta-learning");
    expect(a.numTasks).toBe(1);
    expect(a.split).toEqual({ train: [0, 1, 2, 3, 4, 5], validation: [6, 7, 8, 9, 10], test: [11, 12, 13, 14, 15] });
    expect(a.hash).toBe(b.hash);
    expect(c.hash).not.toBe(a.hash);
    expect([...a.labelMap].sort((x, y) => x - y)).toEqual(Array.from({ length: 16 }, (_, i) => i));
    expect(c.labelMap).not.toEqual(a.labelMap);
    const task = await a.task(0);
    // Train and test images of a class form one pool: 20 images per class.
    expect(task.train.count).toBe(6 * 20);
    expect(task.validation?.count).toBe(5 * 20);
    expect(task.test.count).toBe(5 * 20);
    expect(new Set(task.train.labels)).toEqual(new Set(a.split.train));
    expect(new Set(task.test.labels)).toEqual(new Set(a.split.test));
    expect(a.episodes).toEqual({ ways: 5, shots: 1, queries: 15 });
    expect(a.testEpisodes.count).toBe(600);
  });

  it("explicit lists (MNIST digits 0-4 / 5-9) and dataset order; the seed does not enter the hash", async () => {
    const dir = tempDir();
    writeIdxDataset(join(dir, "mnist"), 200, 100);
    const cfg: AnyStreamConfigInput = { kind: "meta-learning", dataset: { name: "mnist" }, classes: { train: [0, 1, 2, 3, 4], test: [5, 6, 7, 8, 9] }, episodes: { queries: 5 }, test_episodes: { queries: 5 } };
    const s = await build(cfg, 1, dir);
    expect(s.labelMap).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(s.split.validation).toEqual([]);
    expect((await s.task(0)).validation).toBeUndefined();
    expect((await build(cfg, 2, dir)).hash).toBe(s.hash);
    const ordered = await build({ kind: "meta-learning", dataset: blobs, classes: { train: 8, test: 4, order: "dataset" }, episodes: { queries: 5 }, test_episodes: { ways: 4, queries: 5 } }, 0);
    expect(ordered.labelMap).toEqual(Array.from({ length: 12 }, (_, i) => i));
  });

  it("rotations: each rotated class is a class of its own in its source's split (180° reverses the pixels)", async () => {
    const dir = tempDir();
    const g = writeIdxDataset(join(dir, "mnist"), 200, 100);
    const s = await build({ kind: "meta-learning", dataset: { name: "mnist" }, classes: { train: [0, 1, 2], test: [7, 8] }, rotations: [0, 180], episodes: { queries: 3 }, test_episodes: { queries: 3, ways: 4 } }, 0, dir);
    expect(s.numClasses).toBe(10);
    expect(s.labelMap).toEqual([0, 0, 1, 1, 2, 2, 7, 7, 8, 8]);
    expect(s.classNames?.slice(0, 2)).toEqual(["0@0", "0@180"]);
    const t = await s.task(0);
    const first0 = g.train.labels.indexOf(0);
    const px = (set: typeof t.train, k: number) => set.images.subarray(k * 784, (k + 1) * 784);
    const upright = t.train.labels.indexOf(0);
    const rotated = t.train.labels.indexOf(1);
    expect(Buffer.from(px(t.train, upright)).equals(Buffer.from(g.train.images.subarray(first0 * 784, (first0 + 1) * 784)))).toBe(true);
    for (const p of [0, 100, 783]) expect(px(t.train, rotated)[p]).toBe(px(t.train, upright)[783 - p]);
  });

  it("errors name the key: overlapping splits, too many ways, too few images per class, too many classes", async () => {
    const overlap = await caught(() => build({ kind: "meta-learning", dataset: blobs, classes: { train: [0, 1, 2], test: [2, 3] } }, 0));
    expect(overlap).toBeInstanceOf(ConfigError);
    expect((overlap as ConfigError).path).toBe("stream.classes.test[0]");
    expect(overlap.message).toMatch(/already in the train classes/);
    const ways = (await caught(() => build({ kind: "meta-learning", dataset: blobs, classes: { train: 4, test: 6 }, episodes: { queries: 5 } }, 0))) as ConfigError;
    expect(ways.path).toBe("stream.episodes.ways");
    const shots = (await caught(() => build({ kind: "meta-learning", dataset: blobs, classes: { train: 6, test: 6 }, episodes: { shots: 10, queries: 15 } }, 0))) as ConfigError;
    expect(shots.path).toBe("stream.episodes.shots");
    expect(shots.message).toMatch(/only 20/);
    const many = (await caught(() => build({ kind: "meta-learning", dataset: blobs, classes: { train: 10, test: 5 } }, 0))) as ConfigError;
    expect(many.path).toBe("stream.classes");
    const cont = (await caught(() => build({ kind: "meta-learning", dataset: blobs, classes: { train: 6, test: 6 }, episodes: { queries: 5 }, test_episodes: { queries: 5 }, continual: { chunks: 2, ways: 5 } }, 0))) as ConfigError;
    expect(cont.path).toBe("stream.continual.chunks");
    const bad = (await caught(() => buildStream({ kind: "meta-learning", dataset: blobs, classes: { train: 6 } } as never, { seed: 0 }))) as ConfigError;
    expect(bad.path).toBe("stream.classes.test");
  });

  it("limit_per_class keeps a seeded sample of each class's pool", async () => {
    const s = await build({ kind: "meta-learning", dataset: blobs, classes: { train: 6, test: 6 }, limit_per_class: 8, episodes: { queries: 5 }, test_episodes: { queries: 5 } }, 0);
    expect((await s.task(0)).train.count).toBe(6 * 8);
  });
});
