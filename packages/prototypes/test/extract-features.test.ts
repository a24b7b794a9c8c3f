import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { ShapeError } from "@mnemo/core";
import { extractFeatures, type ImageSet } from "../src/extract-features.js";
import { NearestMeanClassifier } from "../src/index.js";

const H = 4;
const W = 3;
const C = 2;
const PER = H * W * C;

function images(count: number): ImageSet {
  const data = new Uint8Array(count * PER);
  for (let k = 0; k < data.length; k++) data[k] = (k * 37 + 11) % 256;
  return { images: data, count, shape: [H, W, C] };
}

/** Expected output of `forward` below, computed without tfjs: per-channel spatial mean, then [sum, diff]. */
function expected(set: ImageSet, scale = 1): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < set.count; i++) {
    const m = [0, 0];
    for (let p = 0; p < H * W; p++) for (let ch = 0; ch < C; ch++) m[ch] += (set.images[i * PER + p * C + ch] * scale) / (H * W);
    out.push([m[0] + m[1], m[0] - m[1], m[0]]);
  }
  return out;
}

describe("extractFeatures", () => {
  let kernel: tf.Tensor2D;
  beforeAll(async () => {
    await tf.setBackend("cpu");
    kernel = tf.tensor2d([[1, 1, 1], [1, -1, 0]]);
  });
  afterAll(() => kernel.dispose());

  // A tiny "backbone": global average pool (→ [b, 2]) then a fixed linear map (→ [b, 3]).
  const forward = (x: tf.Tensor4D): tf.Tensor2D => x.mean([1, 2]).matMul(kernel) as tf.Tensor2D;

  it("returns row-major float32 features equal to the backbone output, over uneven batches, without leaking tensors", async () => {
    const set = images(10);
    const before = tf.memory().numTensors;
    const seen: number[] = [];
    const out = await extractFeatures(forward, set, { batchSize: 4, onBatch: (done) => seen.push(done) });
    expect(tf.memory().numTensors).toBe(before);
    expect(out.data).toBeInstanceOf(Float32Array);
    expect([out.rows, out.cols]).toEqual([10, 3]);
    expect(seen).toEqual([4, 8, 10]);
    expected(set).forEach((row, i) => row.forEach((v, j) => expect(out.data[i * 3 + j]).toBeCloseTo(v, 3)));
  });

  it("applies preprocess per batch, still without leaks", async () => {
    const set = images(5);
    const before = tf.memory().numTensors;
    const out = await extractFeatures(forward, set, { batchSize: 2, preprocess: (x) => x.div(255) });
    expect(tf.memory().numTensors).toBe(before);
    expected(set, 1 / 255).forEach((row, i) => row.forEach((v, j) => expect(out.data[i * 3 + j]).toBeCloseTo(v, 5)));
  });

  it("feeds the classifiers directly", async () => {
    const set = images(6);
    const feats = await extractFeatures(forward, set);
    const nmc = new NearestMeanClassifier({ normalizeFeatures: false, renormalizeMean: false });
    nmc.update(feats, [0, 0, 0, 1, 1, 1]);
    expect(nmc.predict(feats)).toHaveLength(6);
  });

  it("rejects wrong byte counts and bad forward outputs with ShapeError, leaking nothing", async () => {
    const before = tf.memory().numTensors;
    await expect(extractFeatures(forward, { ...images(3), count: 4 })).rejects.toThrow(/got 72 bytes but count × h × w × c = 4 × 4 × 3 × 2 = 96/);
    await expect(extractFeatures((x) => x.reshape([-1]) as unknown as tf.Tensor2D, images(2))).rejects.toThrow(ShapeError);
    await expect(extractFeatures(forward, images(2), { batchSize: 0 })).rejects.toThrow(/batchSize/);
    expect(tf.memory().numTensors).toBe(before);
  });

  it("handles an empty image set", async () => {
    const out = await extractFeatures(forward, images(0));
    expect([out.rows, out.data.length]).toEqual([0, 0]);
  });
});
