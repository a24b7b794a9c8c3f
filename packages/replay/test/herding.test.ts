import { describe, expect, it } from "vitest";
import { SeededRng, ShapeError } from "@mnemo/core";
import { herdingSelection, HerdingMemory, type HerdingOptions, type MemoryPolicy } from "../src/index.js";
import { idOf, images, SHAPE } from "./helpers.js";

const deg = (a: number) => Float32Array.of(Math.cos((a * Math.PI) / 180), Math.sin((a * Math.PI) / 180));
/** §3.3 worked example: unit vectors at 0°, 30°, 50°, 80°, 90°. */
const EXAMPLE = [0, 30, 50, 80, 90].map(deg);

function randomFeatures(n: number, d: number, seed: number): Float32Array[] {
  const rng = new SeededRng(seed).stream("features");
  return Array.from({ length: n }, () => rng.fillNormal(new Float32Array(d)));
}

function normalised(f: Float32Array): number[] {
  const norm = Math.hypot(...f);
  return [...f].map((v) => v / norm);
}

function mean(rows: number[][]): number[] {
  return rows[0]!.map((_, j) => rows.reduce((a, r) => a + r[j]!, 0) / rows.length);
}

describe("herdingSelection (§3.3)", () => {
  it("reproduces the worked example: PyCIL order [2,1,3,0,4] with its running errors", () => {
    const order = herdingSelection(EXAMPLE, 5);
    expect(order).toEqual([2, 1, 3, 0, 4]);
    const rows = EXAMPLE.map(normalised);
    const mu = mean(rows);
    expect(mu[0]).toBeCloseTo(0.536492, 5);
    expect(mu[1]).toBeCloseTo(0.65017, 5);
    const errors = order.map((_, k) => Math.hypot(...mean(order.slice(0, k + 1).map((i) => rows[i]!)).map((v, j) => mu[j]! - v)));
    const expected = [0.157243, 0.218588, 0.103027, 0.160118, 0];
    errors.forEach((e, k) => expect(e).toBeCloseTo(expected[k]!, 5)); // not monotone: 0.157 → 0.219
  });

  it("reproduces the iCaRL-Theano order [2,4,0,3,1]", () => {
    expect(herdingSelection(EXAMPLE, 5, { rule: "icarl-theano" })).toEqual([2, 4, 0, 3, 1]);
    expect(herdingSelection(EXAMPLE, 5, { rule: "icarl-theano", maxIterations: 10 })).toHaveLength(4); // 11 iterations needed
  });

  it("picks first the sample nearest the class mean, under both rules", () => {
    for (let trial = 0; trial < 50; trial++) {
      const feats = randomFeatures(20 + trial, 6, trial);
      const rows = feats.map(normalised);
      const mu = mean(rows);
      const dist = rows.map((r) => Math.hypot(...r.map((v, j) => v - mu[j]!)));
      const nearest = dist.indexOf(Math.min(...dist));
      expect(herdingSelection(feats, 3)[0]).toBe(nearest);
      expect(herdingSelection(feats, 3, { rule: "icarl-theano" })[0]).toBe(nearest);
    }
  });

  it("m = n selects every sample once and the mean error ends at 0", () => {
    const feats = randomFeatures(40, 8, 7);
    const order = herdingSelection(feats, 40);
    expect([...order].sort((a, b) => a - b)).toEqual([...Array(40).keys()]);
    const rows = feats.map(normalised);
    const err = Math.hypot(...mean(order.map((i) => rows[i]!)).map((v, j) => v - mean(rows)[j]!));
    expect(err).toBeLessThan(1e-9);
  });

  it("has the prefix property: selecting m' gives the first m' of selecting m", () => {
    const feats = randomFeatures(60, 5, 3);
    const full = herdingSelection(feats, 30);
    for (const m of [1, 5, 17, 29]) expect(herdingSelection(feats, m)).toEqual(full.slice(0, m));
  });

  it("normalises rows by default (scaling a row changes nothing) and can use raw features", () => {
    const feats = randomFeatures(25, 4, 9);
    const scaled = feats.map((f, i) => f.map((v) => v * (1 + i)));
    expect(herdingSelection(scaled, 10)).toEqual(herdingSelection(feats, 10));
    expect(herdingSelection(scaled, 10, { normalize: false })).not.toEqual(herdingSelection(feats, 10));
  });

  it("rejects ragged rows, empty input and m outside [0, n]", () => {
    expect(() => herdingSelection([], 0)).toThrow(ShapeError);
    expect(() => herdingSelection([new Float32Array(3), new Float32Array(2)], 1)).toThrow(/row 1 has length 2/);
    expect(() => herdingSelection(EXAMPLE, 6)).toThrow(/m must be an integer in \[0, 5\]/);
  });
});

describe("HerdingMemory", () => {
  const policy: MemoryPolicy = { kind: "fixed-total", total: 12, rounding: "floor" };

  function classData(label: number, n: number) {
    const ids = Array.from({ length: n }, (_, i) => label * 1000 + i);
    return { images: images(ids), features: randomFeatures(n, 6, 100 + label) };
  }

  it("stores the herding order and keeps its prefix when new classes shrink the quota", () => {
    const mem = new HerdingMemory({ sampleShape: SHAPE, numClasses: 4, policy, seed: 1 });
    const data = [0, 1, 2, 3].map((c) => classData(c, 20));
    const picks: number[][] = [];
    for (let c = 0; c < 4; c++) {
      picks.push(mem.addClass(c, data[c]!));
      const quota = Math.floor(12 / (c + 1));
      for (let old = 0; old <= c; old++) {
        expect(mem.exemplarOrder(old)).toEqual(picks[old]!.slice(0, quota));
        // The stored images are the picked samples, in order.
        expect(mem.exemplarSlots(old).map((s) => idOf(mem.imageAt(s)))).toEqual(picks[old]!.slice(0, quota).map((i) => old * 1000 + i));
        expect(mem.exemplarSlots(old).every((s) => mem.labelAt(s) === old)).toBe(true);
      }
      expect(mem.size).toBe(quota * (c + 1));
    }
    expect(picks[0]).toEqual(herdingSelection(data[0]!.features, 12));
  });

  it("keeps all samples of a class smaller than its quota, and grows under a per-class policy", () => {
    const mem = new HerdingMemory({ sampleShape: SHAPE, numClasses: 3, policy: { kind: "per-class", perClass: 5 }, seed: 1 });
    expect(mem.capacity).toBe(15);
    expect(mem.addClass(0, classData(0, 3))).toHaveLength(3);
    mem.addClass(2, classData(2, 9));
    expect(mem.exemplarSlots(2)).toHaveLength(5);
    expect(mem.size).toBe(8);
    expect(mem.classes()).toEqual([0, 2]);
  });

  it("refuses a class twice and mismatched images/features", () => {
    const mem = new HerdingMemory({ sampleShape: SHAPE, numClasses: 3, policy, seed: 1 });
    mem.addClass(0, classData(0, 5));
    expect(() => mem.addClass(0, classData(0, 5))).toThrow(/already added/);
    const d = classData(1, 5);
    expect(() => mem.addClass(1, { images: d.images.subarray(8), features: d.features })).toThrow(/32 bytes but 5 labels/);
    expect(() => mem.addClass(5, d)).toThrow(/out of range/);
    expect(mem.classes()).toEqual([0]);
    const badRule = { rule: "lucir" } as unknown as HerdingOptions;
    expect(() => new HerdingMemory({ sampleShape: SHAPE, numClasses: 3, policy, seed: 1, herding: badRule })).toThrow(/herding rule/);
  });
});
