import { describe, expect, it } from "vitest";
import { ShapeError } from "@mnemo/core";
import { ClassBalancedBuffer, classQuotas, GDumbBuffer, policyCapacity, type MemoryPolicy } from "../src/index.js";
import { idOf, image, images, SHAPE, shuffledLabels } from "./helpers.js";

const spread = (total: number): MemoryPolicy => ({ kind: "fixed-total", total, rounding: "floor-spread" });

function counts(buf: { countOf(label: number): number }, numClasses: number): number[] {
  return Array.from({ length: numClasses }, (_, c) => buf.countOf(c));
}

describe("memory policies", () => {
  it("floor-spread gives ⌊M/k⌋ plus one to the first M mod k classes, summing to M", () => {
    expect(classQuotas(spread(10), 3)).toEqual([4, 3, 3]);
    expect(classQuotas(spread(10), 4)).toEqual([3, 3, 2, 2]);
    expect(classQuotas(spread(2000), 100)).toEqual(new Array(100).fill(20));
    expect(classQuotas(spread(3), 5)).toEqual([1, 1, 1, 0, 0]);
  });

  it("floor leaves the remainder unused; ceil (iCaRL original) may exceed M; per-class grows", () => {
    expect(classQuotas({ kind: "fixed-total", total: 10, rounding: "floor" }, 3)).toEqual([3, 3, 3]);
    expect(classQuotas({ kind: "fixed-total", total: 10, rounding: "ceil" }, 3)).toEqual([4, 4, 4]);
    expect(classQuotas({ kind: "per-class", perClass: 20 }, 3)).toEqual([20, 20, 20]);
    expect(policyCapacity({ kind: "fixed-total", total: 10, rounding: "ceil" }, 4)).toBe(12); // k=3 → 12, k=4 → 12
    expect(policyCapacity({ kind: "per-class", perClass: 20 }, 100)).toBe(2000);
    expect(policyCapacity(spread(2000), 100)).toBe(2000);
  });

  it("never grows a class's quota as classes arrive (what lets shrinking work without lost samples)", () => {
    const policies: MemoryPolicy[] = [
      spread(37),
      { kind: "fixed-total", total: 37, rounding: "floor" },
      { kind: "fixed-total", total: 37, rounding: "ceil" },
      { kind: "per-class", perClass: 5 },
    ];
    for (const p of policies) {
      for (let k = 1; k < 60; k++) {
        const now = classQuotas(p, k);
        const next = classQuotas(p, k + 1);
        now.forEach((q, i) => expect(next[i]).toBeLessThanOrEqual(q));
      }
    }
  });
});

describe("ClassBalancedBuffer (quota + per-class reservoir, §3.2)", () => {
  it("ends with exactly the quota per class, counts within 1, total ≤ M at every step (many shuffled streams)", () => {
    for (let trial = 0; trial < 40; trial++) {
      const C = 2 + (trial % 9);
      const M = 10 + ((trial * 7) % 41);
      const policy = spread(M);
      const quotas = classQuotas(policy, C);
      // At least ⌈M/C⌉ per class (whichever class ends up with the +1); more for some, so reservoir replacement is exercised.
      const perClass = quotas.map((_, c) => Math.ceil(M / C) + ((c * 5 + trial) % 13));
      const labels = shuffledLabels(perClass, trial);
      const buf = new ClassBalancedBuffer({ sampleShape: SHAPE, numClasses: C, policy, seed: trial });
      const offered = new Array<number>(C).fill(0);
      labels.forEach((y, i) => {
        buf.add(image(i), y);
        offered[y] = (offered[y] as number) + 1;
        expect(buf.size).toBeLessThanOrEqual(M);
        // count(c) = min(offered(c), quota(c)) holds after every single offer.
        for (const c of buf.classes()) expect(buf.countOf(c)).toBe(Math.min(offered[c] as number, buf.quotaOf(c)));
      });
      const order = buf.classes();
      const final = order.map((c) => buf.countOf(c));
      expect(final).toEqual(quotas);
      expect(Math.max(...final) - Math.min(...final)).toBeLessThanOrEqual(1);
      expect(buf.size).toBe(M);
      // Stored labels agree with the per-class bookkeeping.
      for (const slot of buf.slots()) expect(labels[idOf(buf.imageAt(slot))]).toBe(buf.labelAt(slot));
    }
  });

  it("gives the remainder to the first classes in order of first appearance, not by label", () => {
    const buf = new ClassBalancedBuffer({ sampleShape: SHAPE, numClasses: 5, policy: spread(7), seed: 1 });
    const labels = [4, 2, 0, ...new Array(30).fill(0).map((_, i) => [4, 2, 0][i % 3] as number)];
    labels.forEach((y, i) => buf.add(image(i), y));
    expect(buf.classes()).toEqual([4, 2, 0]);
    expect(counts(buf, 5)).toEqual([2, 0, 2, 0, 3]);
  });

  it("shrinks old classes when a class-incremental stream brings new ones", () => {
    const M = 60;
    const buf = new ClassBalancedBuffer({ sampleShape: SHAPE, numClasses: 6, policy: spread(M), seed: 5 });
    let id = 0;
    for (let task = 0; task < 3; task++) {
      for (const y of [2 * task, 2 * task + 1]) for (let i = 0; i < 50; i++) buf.add(image(id++), y);
      const k = 2 * task + 2;
      expect(buf.classes().map((c) => buf.countOf(c))).toEqual(classQuotas(spread(M), k));
    }
  });

  it("keeps a uniform sample within each class: inclusion ≈ quota / n_c", () => {
    const trials = 3000;
    const n0 = 30;
    const hits = new Array<number>(n0).fill(0);
    for (let t = 0; t < trials; t++) {
      const buf = new ClassBalancedBuffer({ sampleShape: SHAPE, numClasses: 2, policy: spread(12), seed: 500 + t });
      // Class 0 alone fills 12 slots, then class 1 arrives and class 0 is cut to 6: the cut must stay uniform.
      for (let i = 0; i < n0; i++) buf.add(image(i), 0);
      for (let i = 0; i < 10; i++) buf.add(image(1000 + i), 1);
      for (const slot of buf.slots()) if (buf.labelAt(slot) === 0) hits[idOf(buf.imageAt(slot))]! += 1;
    }
    const p = 6 / n0;
    const se = Math.sqrt((p * (1 - p)) / trials);
    for (const h of hits) expect(Math.abs(h / trials - p)).toBeLessThan(3.5 * se);
  });

  it("per-class and ceil policies size the slab for numClasses and follow their quotas", () => {
    const per = new ClassBalancedBuffer({ sampleShape: SHAPE, numClasses: 4, policy: { kind: "per-class", perClass: 3 }, seed: 1 });
    expect(per.capacity).toBe(12);
    shuffledLabels([5, 5, 5, 5], 3).forEach((y, i) => per.add(image(i), y));
    expect(counts(per, 4)).toEqual([3, 3, 3, 3]);
    const ceil = new ClassBalancedBuffer({
      sampleShape: SHAPE,
      numClasses: 3,
      policy: { kind: "fixed-total", total: 10, rounding: "ceil" },
      seed: 1,
    });
    shuffledLabels([9, 9, 9], 4).forEach((y, i) => ceil.add(image(i), y));
    expect(counts(ceil, 3)).toEqual([4, 4, 4]);
    expect(ceil.size).toBe(12);
  });

  it("rejects bad options and labels", () => {
    expect(() => new ClassBalancedBuffer({ sampleShape: SHAPE, numClasses: 0, policy: spread(10), seed: 1 })).toThrow(ShapeError);
    expect(() => new ClassBalancedBuffer({ sampleShape: SHAPE, numClasses: 3, policy: spread(0), seed: 1 })).toThrow(
      /total must be a positive integer/,
    );
    const bad = { kind: "fixed-total", total: 10, rounding: "round" } as unknown as MemoryPolicy;
    expect(() => new ClassBalancedBuffer({ sampleShape: SHAPE, numClasses: 3, policy: bad, seed: 1 })).toThrow(/rounding/);
    const buf = new ClassBalancedBuffer({ sampleShape: SHAPE, numClasses: 3, policy: spread(10), seed: 1 });
    expect(() => buf.add(image(0), 3)).toThrow(/out of range \[0, 3\)/);
  });
});

describe("GDumbBuffer (greedy class balancer, §3.2)", () => {
  it("never evicts from a class below the maximum, never exceeds M, and ends balanced within 1", () => {
    for (let trial = 0; trial < 60; trial++) {
      const C = 2 + (trial % 8);
      const M = 8 + ((trial * 13) % 50);
      const perClass = Array.from({ length: C }, (_, c) => Math.ceil(M / C) + ((c * 3 + trial) % 11));
      const labels = shuffledLabels(perClass, 100 + trial);
      const buf = new GDumbBuffer({ sampleShape: SHAPE, capacity: M, numClasses: C, seed: trial });
      let before = counts(buf, C);
      labels.forEach((y, i) => {
        buf.add(image(i), y);
        const after = counts(buf, C);
        const max = Math.max(...before);
        for (let c = 0; c < C; c++) {
          if ((after[c] as number) < (before[c] as number)) {
            expect(before[c]).toBe(max); // only a largest class loses an item
            expect(c).not.toBe(y);
          }
        }
        expect(buf.size).toBe(Math.min(i + 1, M));
        before = after;
      });
      expect(Math.max(...before) - Math.min(...before)).toBeLessThanOrEqual(1);
      for (const slot of buf.slots()) expect(labels[idOf(buf.imageAt(slot))]).toBe(buf.labelAt(slot));
    }
  });

  it("balances a class-incremental stream (all of class 0 first, then class 1, ...)", () => {
    const buf = new GDumbBuffer({ sampleShape: SHAPE, capacity: 30, numClasses: 3, seed: 2 });
    let id = 0;
    for (let c = 0; c < 3; c++) for (let i = 0; i < 40; i++) buf.add(image(id++), c);
    expect(counts(buf, 3)).toEqual([10, 10, 10]);
  });

  it("breaks ties between largest classes with its seeded stream (both tied classes can be hit)", () => {
    const victims = new Set<number>();
    for (let seed = 0; seed < 20; seed++) {
      const buf = new GDumbBuffer({ sampleShape: SHAPE, capacity: 4, numClasses: 3, seed });
      buf.addBatch({ images: images([0, 1, 2, 3]), labels: [0, 0, 1, 1] });
      buf.add(image(4), 2);
      victims.add(counts(buf, 3).findIndex((n) => n === 1));
    }
    expect([...victims].sort()).toEqual([0, 1]);
  });
});
