import { describe, expect, it } from "vitest";
import { SeededRng, ShapeError } from "@mnemo/core";
import { ReservoirBuffer } from "../src/index.js";
import { BYTES, idOf, image, images, SHAPE } from "./helpers.js";

function storedIds(buf: ReservoirBuffer): number[] {
  const out: number[] = [];
  for (let s = 0; s < buf.size; s++) out.push(idOf(buf.imageAt(s)));
  return out;
}

function reservoir(capacity: number, seed: number, numClasses?: number): ReservoirBuffer {
  return new ReservoirBuffer({ sampleShape: SHAPE, capacity, seed, numClasses });
}

describe("ReservoirBuffer (Algorithm R, §3.1)", () => {
  it("stores the first M items in arrival order, slot i = item i", () => {
    const buf = reservoir(10, 1);
    for (let i = 0; i < 10; i++) expect(buf.add(image(i), i % 3)).toBe(i);
    expect(storedIds(buf)).toEqual([...Array(10).keys()]);
    expect([...Array(10).keys()].map((s) => buf.labelAt(s))).toEqual([...Array(10).keys()].map((i) => i % 3));
  });

  it("has size min(n, M) after every offer, and reports the slot or -1 consistently", () => {
    const buf = reservoir(7, 2);
    for (let n = 1; n <= 300; n++) {
      const slot = buf.add(image(n - 1), 0);
      expect(buf.size).toBe(Math.min(n, 7));
      expect(buf.seen).toBe(n);
      if (slot >= 0) expect(idOf(buf.imageAt(slot))).toBe(n - 1);
    }
  });

  it("keeps everything, in order, when M ≥ N", () => {
    for (const [m, n] of [
      [20, 20],
      [50, 13],
    ] as const) {
      const buf = reservoir(m, 3);
      buf.addBatch({ images: images([...Array(n).keys()]), labels: new Array(n).fill(0) });
      expect(storedIds(buf)).toEqual([...Array(n).keys()]);
    }
  });

  // Trials share one stream (a RandomStream is a valid `seed`), so the trials are one long seeded experiment.
  function inclusionFrequencies(M: number, N: number, trials: number, seed: number): number[] {
    const rng = new SeededRng(seed).stream("trials");
    const hits = new Array<number>(N).fill(0);
    const stream = images([...Array(N).keys()]);
    const labels = new Array<number>(N).fill(0);
    for (let t = 0; t < trials; t++) {
      const buf = new ReservoirBuffer({ sampleShape: SHAPE, capacity: M, seed: rng });
      buf.addBatch({ images: stream, labels });
      for (const id of storedIds(buf)) hits[id] = (hits[id] as number) + 1;
    }
    return hits.map((h) => h / trials);
  }

  it("includes each item with frequency M/N within 3 standard errors (M=5, N=20, 20k trials)", () => {
    const trials = 20_000;
    const freq = inclusionFrequencies(5, 20, trials, 11);
    const se = Math.sqrt((0.25 * 0.75) / trials);
    for (const f of freq) expect(Math.abs(f - 0.25)).toBeLessThan(3 * se);
    // Aggregate check: Σz² over the 20 items is ≈ χ²(19); 43.8 is its 99.9th percentile.
    const chi2 = freq.reduce((a, f) => a + ((f - 0.25) / se) ** 2, 0);
    expect(chi2).toBeLessThan(43.8);
  });

  it("passes the literal §3.1 check (every item in [0.244, 0.256]) for the documented seed", () => {
    // The band is only ±1.96 SE per item, so with 20 items a correct sampler misses it for roughly half
    // of all seeds (measured: 5 of 8 seeds per trial, 2 of 8 shared streams). It is therefore pinned to
    // seed 0 as a golden value; the 3-SE and χ² checks above are the seed-independent statement.
    const freq = inclusionFrequencies(5, 20, 20_000, 0);
    for (const f of freq) {
      expect(f).toBeGreaterThan(0.244);
      expect(f).toBeLessThan(0.256);
    }
  });

  it("includes each item with frequency M/N within 3 standard errors for a longer stream (M=8, N=64)", () => {
    const M = 8;
    const N = 64;
    const trials = 6000;
    const hits = new Array<number>(N).fill(0);
    const stream = images([...Array(N).keys()]);
    const labels = new Array<number>(N).fill(0);
    for (let t = 0; t < trials; t++) {
      const buf = reservoir(M, 77_000 + t);
      buf.addBatch({ images: stream, labels });
      for (const id of storedIds(buf)) hits[id] = (hits[id] as number) + 1;
    }
    const p = M / N;
    const se = Math.sqrt((p * (1 - p)) / trials);
    // Early items must not be favoured: first and last quarter have the same mean inclusion.
    const quarter = (a: number) => hits.slice(a, a + N / 4).reduce((x, y) => x + y, 0) / (trials * (N / 4));
    for (const h of hits) expect(Math.abs(h / trials - p)).toBeLessThan(3.5 * se); // 64 items: 3.5 SE keeps family-wise false alarms < 3%
    expect(Math.abs(quarter(0) - quarter((3 * N) / 4))).toBeLessThan(3 * Math.SQRT2 * (se / Math.sqrt(N / 4)));
  });

  it("gives identical contents for the same seed and different contents for another seed", () => {
    const run = (seed: number) => {
      const buf = reservoir(10, seed);
      buf.addBatch({ images: images([...Array(500).keys()]), labels: new Array(500).fill(0) });
      return storedIds(buf);
    };
    expect(run(42)).toEqual(run(42));
    expect(run(42)).not.toEqual(run(43));
  });

  it("addBatch makes the same decisions as the same sequence of add calls", () => {
    const a = reservoir(16, 9);
    const b = reservoir(16, 9);
    const ids = [...Array(200).keys()];
    a.addBatch({ images: images(ids), labels: ids.map((i) => i % 5) });
    for (const i of ids) b.add(image(i), i % 5);
    expect(storedIds(a)).toEqual(storedIds(b));
  });

  it("rejects bad input with typed, actionable errors and leaves the buffer unchanged", () => {
    expect(() => reservoir(0, 1)).toThrow(ShapeError);
    expect(() => reservoir(-3, 1)).toThrow(/capacity must be a positive integer/);
    expect(() => reservoir(2.5, 1)).toThrow(ShapeError);
    expect(() => new ReservoirBuffer({ sampleShape: [], capacity: 4, seed: 1 })).toThrow(/sampleShape/);
    const buf = reservoir(4, 1, 10);
    expect(() => buf.add(new Uint8Array(BYTES + 1), 0)).toThrow(/9 bytes, expected 8/);
    expect(() => buf.add(image(0), 10)).toThrow(/label 10 is out of range \[0, 10\)/);
    expect(() => buf.add(image(0), -1)).toThrow(ShapeError);
    expect(() => buf.add(image(0), 1.5)).toThrow(ShapeError);
    expect(() => buf.add(image(0), 0, { logits: [1] })).toThrow(/unknown field "logits"/);
    // One bad label in a batch: nothing from the batch is stored.
    expect(() => buf.addBatch({ images: images([0, 1, 2]), labels: [0, 1, 12] })).toThrow(/out of range/);
    expect(() => buf.addBatch({ images: images([0, 1]), labels: [0, 1, 2] })).toThrow(/16 bytes but 3 labels/);
    expect(buf.size).toBe(0);
    expect(buf.seen).toBe(0);
  });
});
