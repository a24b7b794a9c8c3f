import { describe, expect, it } from "vitest";
import { RandomStream } from "@mnemo/core/rng";
import { ConfigError } from "@mnemo/core/errors";
import {
  buildStream,
  firstComponentProjections,
  labelledCount,
  splitLabels,
  ssbWeights,
  streamConfigSchema,
  unlabelledTruth,
  weightedSampleWithoutReplacement,
  type StreamConfigInput,
} from "../src/index.js";
import { caught } from "./helpers.js";

const parse = (c: StreamConfigInput) => streamConfigSchema.parse(c);
const blobs = { name: "synthetic-blobs" as const, num_classes: 4, dim: 8, train_per_class: 40, test_per_class: 5 };

/** Every object reachable from `root` (own properties, also non-enumerable, and getters' values). */
function reachable(root: unknown): unknown[] {
  const seen = new Set<unknown>();
  const stack = [root];
  while (stack.length) {
    const v = stack.pop();
    if (v === null || (typeof v !== "object" && typeof v !== "function") || seen.has(v)) continue;
    seen.add(v);
    if (ArrayBuffer.isView(v)) continue;
    for (let o: object | null = v as object; o && o !== Object.prototype && o !== Function.prototype; o = Object.getPrototypeOf(o)) {
      for (const key of Reflect.ownKeys(o)) {
        if (key === "constructor" || key === "caller" || key === "callee" || key === "arguments") continue;
        let child: unknown;
        try {
          child = Reflect.get(v as object, key);
        } catch {
          continue; // a getter that throws exposes nothing
        }
        if (child instanceof Map || child instanceof Set) for (const e of (child as Map<unknown, unknown>).entries()) stack.push(e);
        stack.push(child);
      }
    }
  }
  return [...seen];
}

describe("semi-supervised streams (labels:)", () => {
  it("fraction and per_class: counts per class and task, labelled + unlabelled = the task's train set", async () => {
    const full = await buildStream(parse({ kind: "class-incremental", dataset: blobs, increment: 2, order: "dataset" }), { seed: 3 });
    const frac = await buildStream(parse({ kind: "class-incremental", dataset: blobs, increment: 2, order: "dataset", labels: { fraction: 0.1 } }), { seed: 3 });
    const k = await buildStream(parse({ kind: "class-incremental", dataset: blobs, increment: 2, order: "dataset", labels: { per_class: 3 } }), { seed: 3 });
    for (let t = 0; t < 2; t++) {
      const f = await full.task(t);
      const a = await frac.task(t);
      const b = await k.task(t);
      for (const c of f.classes) {
        expect(Array.from(a.train.labels).filter((y) => y === c).length).toBe(4); // round(0.1 * 40)
        expect(Array.from(b.train.labels).filter((y) => y === c).length).toBe(3);
      }
      expect(a.train.count + (a.unlabelled?.count ?? 0)).toBe(f.train.count);
      expect(b.unlabelled?.count).toBe(f.train.count - 6);
      // The hidden labels match the images' real classes.
      const truth = unlabelledTruth(frac, t);
      expect(truth.length).toBe(a.unlabelled?.count);
      expect(new Set(truth)).toEqual(new Set(f.classes));
      // Test sets are untouched.
      expect(a.test.count).toBe(f.test.count);
    }
    expect(frac.hash).not.toBe(full.hash);
    expect(labelledCount(5, { fraction: 0.01 })).toBe(1);
    expect(labelledCount(5, { per_class: 10 })).toBe(5);
  });

  it("is seeded: the same seed gives the same split, another seed another one", async () => {
    const cfg = parse({ kind: "class-incremental", dataset: blobs, increment: 2, order: "dataset", labels: { per_class: 5 } });
    const a = await (await buildStream(cfg, { seed: 1 })).task(0);
    const b = await (await buildStream(cfg, { seed: 1 })).task(0);
    const c = await (await buildStream(cfg, { seed: 2 })).task(0);
    expect(Buffer.from(a.train.images).equals(Buffer.from(b.train.images))).toBe(true);
    expect(Buffer.from(a.train.images).equals(Buffer.from(c.train.images))).toBe(false);
  });

  it("a learner cannot reach the hidden labels from the task or the stream", async () => {
    const stream = await buildStream(parse({ kind: "class-incremental", dataset: blobs, increment: 2, order: "dataset", labels: { per_class: 2, selection: "ssb" } }), { seed: 5 });
    const task = await stream.task(1);
    const truth = unlabelledTruth(stream, 1);
    expect(task.unlabelled).toBeDefined();
    expect("labels" in (task.unlabelled as object)).toBe(false);
    const found = reachable({ task, stream }).filter((v) => v === truth || (v instanceof Int32Array && v.buffer === truth.buffer));
    expect(found).toEqual([]);
    // The walk does find what it should: the labelled part's labels are reachable.
    expect(reachable({ task }).includes(task.train.labels)).toBe(true);
  });

  it("SSB weights are exp(r|PC1|) normalised (F12) and the sampler follows them", () => {
    const p = ssbWeights([-2, -1, 0, 1, 3], 1 / 3);
    [0.230304, 0.16502, 0.118242, 0.16502, 0.321415].forEach((v, i) => expect(p[i]).toBeCloseTo(v, 6));
    const q = ssbWeights([-2, -1, 0, 1, 3], 2);
    [0.115233, 0.015595, 0.002111, 0.015595, 0.851466].forEach((v, i) => expect(q[i]).toBeCloseTo(v, 6));
    // Single draws: frequency of each position ≈ its weight.
    const rng = new RandomStream(9);
    const hits = new Array(5).fill(0);
    for (let r = 0; r < 20000; r++) hits[weightedSampleWithoutReplacement(q, 1, rng)[0] as number]++;
    hits.forEach((h, i) => expect(Math.abs(h / 20000 - (q[i] as number))).toBeLessThan(0.012));
    expect(new Set(weightedSampleWithoutReplacement(q, 5, rng)).size).toBe(5);
  });

  it("SSB biases the labelled images towards large |PC1| within each class; IID does not", () => {
    // One class whose pixels share a latent factor (they stay correlated after standardisation), so PC1 follows it.
    const n = 400;
    const rng = new RandomStream(4);
    const images = new Uint8Array(n * 4);
    for (let i = 0; i < n; i++) {
      const z = rng.normal(0, 30);
      for (let d = 0; d < 4; d++) images[i * 4 + d] = Math.max(0, Math.min(255, Math.round(128 + z + rng.normal(0, 4))));
    }
    const set = { images, labels: new Int32Array(n), count: n, shape: [1, 1, 4] as const };
    const pool = Int32Array.from({ length: n }, (_, i) => i);
    const meanDev = (ix: Int32Array) => Array.from(ix).reduce((a, i) => a + Math.abs((images[i * 4] as number) - 128), 0) / ix.length;
    const pick = (selection: "iid" | "ssb") =>
      splitLabels(set, [pool], { per_class: 40, selection, ssb_ratio: 2, stream: "labels" }, () => new RandomStream(1)).labelled;
    const ssb = pick("ssb");
    expect(ssb.length).toBe(40);
    const proj = firstComponentProjections(set, pool, { mean: new Float64Array(4).fill(128), std: new Float64Array(4).fill(1) });
    // PC1 found by power iteration is the first pixel: |corr| ≈ 1.
    const corr = Math.abs(Array.from(pool).reduce((a, i) => a + (proj[i] as number) * ((images[i * 4] as number) - 128), 0)) /
      Math.sqrt(Array.from(proj).reduce((a, v) => a + v * v, 0) * Array.from(pool).reduce((a, i) => a + ((images[i * 4] as number) - 128) ** 2, 0));
    expect(corr).toBeGreaterThan(0.99);
    expect(meanDev(ssb)).toBeGreaterThan(1.8 * meanDev(pool));
    expect(meanDev(pick("iid"))).toBeLessThan(1.3 * meanDev(pool));
  });

  it("rejects both or neither of fraction / per_class, naming the key", async () => {
    for (const labels of [{ fraction: 0.1, per_class: 2 }, {}]) {
      const err = await caught(() => buildStream({ kind: "class-incremental", dataset: blobs, increment: 2, labels } as never, { seed: 0 }));
      expect(err).toBeInstanceOf(ConfigError);
      expect(err.message).toMatch(/exactly one of labels.fraction or labels.per_class/);
    }
  });
});
