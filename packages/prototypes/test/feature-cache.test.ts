import { describe, expect, it } from "vitest";
import { FeatureCache, type CachedFeatures } from "../src/index.js";

function entry(rows: number, cols = 4, withLabels = true): CachedFeatures {
  return {
    features: { data: new Float32Array(rows * cols).fill(rows), rows, cols },
    ...(withLabels ? { labels: new Int32Array(rows) } : {}),
  };
}

describe("FeatureCache", () => {
  it("counts bytes of features and labels", () => {
    const c = new FeatureCache({ maxBytes: 10_000 });
    c.set("t0", entry(10)); // 10·4·4 + 10·4 = 200 bytes
    c.set("t1", entry(5, 4, false)); // 80 bytes
    expect(c.bytes).toBe(280);
    c.set("t0", entry(1)); // replacing an entry releases its old bytes
    expect(c.bytes).toBe(80 + 20);
  });

  it("evicts least-recently-used entries until the new one fits; get() refreshes recency", () => {
    const c = new FeatureCache<number>({ maxBytes: 600 }); // each entry(10) = 200 bytes
    c.set(0, entry(10));
    c.set(1, entry(10));
    c.set(2, entry(10));
    expect(c.get(0)).toBeDefined(); // 1 is now the least recently used
    c.set(3, entry(10));
    expect(c.keys()).toEqual([2, 0, 3]);
    c.set(4, entry(20)); // 400 bytes: evicts 2 and 0
    expect(c.keys()).toEqual([3, 4]);
    expect(c.bytes).toBeLessThanOrEqual(600);
    expect(c.stats()).toMatchObject({ entries: 2, bytes: 600, evictions: 3, hits: 1, misses: 0 });
  });

  it("refuses (without evicting anything) an entry larger than the whole budget", () => {
    const c = new FeatureCache({ maxBytes: 300 });
    c.set("a", entry(10));
    expect(c.set("big", entry(100))).toBe(false);
    expect(c.keys()).toEqual(["a"]);
    expect(c.stats().rejected).toBe(1);
  });

  it("getOrCompute runs the backbone only on a miss", async () => {
    const c = new FeatureCache({ maxBytes: 1_000 });
    let calls = 0;
    const compute = async () => {
      calls++;
      return entry(3);
    };
    const a = await c.getOrCompute("task-1", compute);
    const b = await c.getOrCompute("task-1", compute);
    expect(calls).toBe(1);
    expect(b).toBe(a);
    expect(c.stats()).toMatchObject({ hits: 1, misses: 1 });
  });

  it("concurrent getOrCompute calls for one key share one computation; a failed compute is not cached", async () => {
    const c = new FeatureCache({ maxBytes: 1_000 });
    let calls = 0;
    const slow = () =>
      new Promise<CachedFeatures>((resolve) => {
        calls++;
        setTimeout(() => resolve(entry(2)), 5);
      });
    const [a, b] = await Promise.all([c.getOrCompute("t", slow), c.getOrCompute("t", slow)]);
    expect(calls).toBe(1);
    expect(b).toBe(a);
    await expect(c.getOrCompute("bad", () => Promise.reject(new Error("backbone failed")))).rejects.toThrow("backbone failed");
    expect(c.has("bad")).toBe(false);
    expect(await c.getOrCompute("bad", () => entry(1))).toBeDefined();
  });

  it("validates its budget and entries", () => {
    expect(() => new FeatureCache({ maxBytes: -1 })).toThrow(/maxBytes/);
    const c = new FeatureCache({ maxBytes: 1_000 });
    expect(() => c.set("x", { features: { data: new Float32Array(8), rows: 2, cols: 4 }, labels: new Int32Array(3) })).toThrow(/3 labels for 2 feature rows/);
  });
});
