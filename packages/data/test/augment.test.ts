import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { ShapeError } from "@mnemo/core/errors";
import { RandomStream, streamKey } from "@mnemo/core/rng";
import { augmentationConfigSchema, batchIndices, createAugmentation, labelBatch, toFloatBatch } from "../src/index.js";

beforeAll(async () => {
  tf.enableProdMode();
  await tf.setBackend("cpu");
});

const set = (() => {
  const n = 6;
  const images = new Uint8Array(n * 4 * 4 * 3);
  for (let i = 0; i < images.length; i++) images[i] = (i * 37) % 256;
  return { images, labels: Int32Array.from([0, 1, 2, 0, 1, 2]), count: n, shape: [4, 4, 3] as const };
})();

describe("batching", () => {
  it("toFloatBatch scales uint8 to [0,1] for the selected indices, without leaks", () => {
    const before = tf.memory().numTensors;
    const x = toFloatBatch(set, [4, 1]);
    expect(x.shape).toEqual([2, 4, 4, 3]);
    const v = x.dataSync();
    expect(v[0]).toBeCloseTo((set.images[4 * 48] as number) / 255, 7);
    expect(v[48 + 5]).toBeCloseTo((set.images[48 + 5] as number) / 255, 7);
    const y = labelBatch(set, [4, 1]);
    expect(Array.from(y.dataSync())).toEqual([1, 1]);
    x.dispose();
    y.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(() => toFloatBatch(set, [6])).toThrow(ShapeError);
  });

  it("batchIndices covers every index once per epoch, seeded, with dropLast", () => {
    const epoch = (seed: number, dropLast = false) => [...batchIndices(10, { batchSize: 4, dropLast }, new RandomStream(streamKey(seed, "batching")))].map((b) => Array.from(b));
    const a = epoch(1);
    expect(a.map((b) => b.length)).toEqual([4, 4, 2]);
    expect(a.flat().sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(epoch(1)).toEqual(a);
    expect(epoch(2)).not.toEqual(a);
    expect(epoch(1, true).map((b) => b.length)).toEqual([4, 4]);
  });
});

describe("augmentation", () => {
  it("flip and crop are exact pixel moves, reproducible from the stream, no leaks", () => {
    const before = tf.memory().numTensors;
    const cfg = augmentationConfigSchema.parse({ crop: { padding: 1 }, flip: true, normalize: false });
    const x = toFloatBatch(set, [0, 1, 2, 3, 4, 5]);
    const run = (seed: number) => {
      const aug = createAugmentation(cfg, new RandomStream(streamKey(seed, "augment")));
      const y = aug(x);
      const out = y.dataSync().slice();
      y.dispose();
      return out;
    };
    const a = run(5);
    expect(Array.from(run(5))).toEqual(Array.from(a));
    expect(Array.from(run(6))).not.toEqual(Array.from(a));
    // Every output value is an input value of the same image/channel or padding zero.
    const xs = x.dataSync();
    for (let i = 0; i < 6; i++) {
      const src = new Set(Array.from(xs.slice(i * 48, (i + 1) * 48)).concat([0]));
      for (const v of a.slice(i * 48, (i + 1) * 48)) expect(src.has(v)).toBe(true);
    }
    x.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it("flip only (no crop) mirrors exactly the images the stream picked", () => {
    const x = toFloatBatch(set, [0, 1, 2, 3, 4, 5]);
    const cfg = augmentationConfigSchema.parse({ flip: true, normalize: false });
    const probe = new RandomStream(streamKey(9, "augment"));
    const flips = Array.from({ length: 6 }, () => probe.bernoulli(0.5));
    const y = createAugmentation(cfg, new RandomStream(streamKey(9, "augment")))(x);
    const xs = x.dataSync();
    const ys = y.dataSync();
    for (let i = 0; i < 6; i++)
      for (let r = 0; r < 4; r++)
        for (let c = 0; c < 4; c++)
          for (let ch = 0; ch < 3; ch++) {
            const sc = flips[i] ? 3 - c : c;
            expect(ys[i * 48 + (r * 4 + c) * 3 + ch]).toBe(xs[i * 48 + (r * 4 + sc) * 3 + ch]);
          }
    expect(flips.some((f) => f) && flips.some((f) => !f)).toBe(true);
    tf.dispose([x, y]);
  });

  it("normalizes with the dataset mean/std and applies colour jitter within [0,1] before it", () => {
    const x = toFloatBatch(set, [0, 1]);
    const norm = { mean: [0.5, 0.4, 0.3], std: [0.2, 0.25, 0.5] };
    const y = createAugmentation(augmentationConfigSchema.parse({}), new RandomStream(1), norm)(x);
    const xs = x.dataSync();
    const ys = y.dataSync();
    expect(ys[4]).toBeCloseTo(((xs[4] as number) - 0.4) / 0.25, 5);
    const j = createAugmentation(augmentationConfigSchema.parse({ color_jitter: { brightness: 0.4, contrast: 0.4 }, normalize: false }), new RandomStream(2))(x);
    const js = j.dataSync();
    expect(Math.min(...js)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...js)).toBeLessThanOrEqual(1);
    expect(Array.from(js)).not.toEqual(Array.from(xs));
    expect(() => createAugmentation(augmentationConfigSchema.parse({}), new RandomStream(1))).toThrow(/mean\/std/);
    tf.dispose([x, y, j]);
  });
});
