import { describe, expect, it } from "vitest";
import {
  accuracyCurve,
  averageForgetting,
  averageIncrementalAccuracy,
  backwardTransfer,
  finalAverageAccuracy,
  forgettingOfTask,
  forwardTransfer,
  fscilSessionMetrics,
  fscilSummary,
  sampleWeightedAccuracyAt,
  summarize,
  ShapeError,
} from "../src/index.js";

// algorithms.md §1 worked example.
const R = [
  [90, 12, 9],
  [60, 85, 11],
  [40, 70, 80],
];
const b = [10, 10, 10];

describe("metrics: worked example (algorithms.md §1)", () => {
  it("ACC = 63.333...", () => expect(finalAverageAccuracy(R)).toBeCloseTo(63.3333333333, 9));
  it("BWT = -32.5", () => expect(backwardTransfer(R)).toBeCloseTo(-32.5, 12));
  it("FWT = +1.5", () => expect(forwardTransfer(R, b)).toBeCloseTo(1.5, 12));
  it("forgetting after task 3 = 32.5", () => {
    expect(forgettingOfTask(R, 0, 2)).toBe(50);
    expect(forgettingOfTask(R, 1, 2)).toBe(15);
    expect(averageForgetting(R)).toBeCloseTo(32.5, 12);
  });
  it("A_t = [90, 72.5, 63.333...] and AIA = 75.2777...", () => {
    const curve = accuracyCurve(R);
    expect(curve[0]).toBe(90);
    expect(curve[1]).toBe(72.5);
    expect(curve[2]).toBeCloseTo(63.3333333333, 9);
    expect(averageIncrementalAccuracy(R)).toBeCloseTo(75.2777777778, 9);
  });
  it("forgetting uses the best earlier row, not the diagonal", () => {
    const M = [
      [50, 0, 0],
      [80, 60, 0],
      [30, 60, 70],
    ];
    expect(forgettingOfTask(M, 0, 2)).toBe(50); // max(50, 80) - 30
  });
  it("summary bundles the same numbers", () => {
    const s = summarize(R, { baseline: b });
    expect(s.finalAverageAccuracy).toBeCloseTo(63.3333333333, 9);
    expect(s.forwardTransfer).toBeCloseTo(1.5, 12);
    expect(s.forgettingCurve).toEqual([30, 32.5]);
  });
});

describe("metrics: degenerate cases", () => {
  it("a perfect learner forgets nothing", () => {
    const P = [
      [100, 100, 100],
      [100, 100, 100],
      [100, 100, 100],
    ];
    expect(averageForgetting(P)).toBe(0);
    expect(backwardTransfer(P)).toBe(0);
    expect(finalAverageAccuracy(P)).toBe(100);
  });
  it("total forgetting gives ACC = 100/T, BWT = -100, F = 100", () => {
    const T = 4;
    const Z = Array.from({ length: T }, (_, i) => Array.from({ length: T }, (_, j) => (i === j ? 100 : 0)));
    expect(finalAverageAccuracy(Z)).toBe(100 / T);
    expect(backwardTransfer(Z)).toBe(-100);
    expect(averageForgetting(Z)).toBe(100);
  });
  it("a single task has no BWT, FWT or forgetting", () => {
    expect(backwardTransfer([[70]])).toBeNaN();
    expect(forwardTransfer([[70]], [10])).toBeNaN();
    expect(averageForgetting([[70]])).toBeNaN();
    expect(finalAverageAccuracy([[70]])).toBe(70);
  });
  it("sample weighting changes A_t when test sets differ in size", () => {
    // 60 base classes (6000 test images) at 80%, one 5-class session (500) at 20%.
    const F = [
      [80, null],
      [80, 20],
    ];
    expect(sampleWeightedAccuracyAt(F, 1, [6000, 500])).toBeCloseTo((6000 * 80 + 500 * 20) / 6500, 12);
    expect(sampleWeightedAccuracyAt(F, 1)).toBe(50);
  });
  it("missing entries and ragged matrices are named errors", () => {
    expect(() => finalAverageAccuracy([[1, 2], [3]])).toThrow(ShapeError);
    expect(() => backwardTransfer([[1, null], [null, 2]])).toThrow(/R\[1\]\[0\]/);
    expect(() => finalAverageAccuracy([])).toThrow(ShapeError);
    expect(() => forwardTransfer(R, [1, 2])).toThrow(/baseline/);
  });
});

describe("metrics: FSCIL sessions", () => {
  it("base/novel per-class accuracy and harmonic mean", () => {
    // 2 base classes, 2 novel classes
    const m = fscilSessionMetrics([90, 70, 3, 1], [100, 100, 5, 5], 2);
    expect(m.accuracy).toBeCloseTo((100 * 164) / 210, 12);
    expect(m.base).toBeCloseTo(80, 12);
    expect(m.novel).toBeCloseTo(40, 12);
    expect(m.harmonicMean).toBeCloseTo((2 * 80 * 40) / 120, 12);
  });
  it("session 0 has no novel classes", () => {
    const m = fscilSessionMetrics([50, 50], [100, 100], 2);
    expect(m.novel).toBeNaN();
    expect(m.harmonicMean).toBeNaN();
    expect(m.base).toBe(50);
  });
  it("AVG and PD", () => {
    expect(fscilSummary([74.92, 60, 52.64])).toEqual({ average: (74.92 + 60 + 52.64) / 3, performanceDrop: 74.92 - 52.64 });
  });
});
