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
  accuracyCurveSampleWeighted,
  accuracyCurveTaskMacro,
  aiaSampleWeighted,
  aiaTaskMacro,
  averageIntransigence,
  finalAccuracySampleWeighted,
  finalAccuracyTaskMacro,
  forgettingPerTask,
  intransigencePerTask,
  jointReferenceFrom,
  METRIC_DEFINITIONS,
  metricRecord,
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

describe("metrics: named variants", () => {
  // 60 base classes (6000 test images), then one 5-class session (500 images): the FSCIL shape
  // where the two families disagree.
  const F = [
    [80, null],
    [80, 20],
  ];
  const sizes = [6000, 500];
  it("ACC task-macro vs sample-weighted", () => {
    expect(finalAccuracyTaskMacro(F)).toBe(50);
    expect(finalAccuracySampleWeighted(F, sizes)).toBeCloseTo((6000 * 80 + 500 * 20) / 6500, 12);
  });
  it("AIA: iCaRL (sample-weighted) vs task-macro", () => {
    expect(accuracyCurveSampleWeighted(F, sizes)).toEqual([80, (6000 * 80 + 500 * 20) / 6500]);
    expect(accuracyCurveTaskMacro(F)).toEqual([80, 50]);
    expect(aiaSampleWeighted(F, sizes)).toBeCloseTo((80 + 490000 / 6500) / 2, 12);
    expect(aiaTaskMacro(F)).toBe(65);
  });
  it("equal test sizes make both families agree (worked example)", () => {
    expect(aiaSampleWeighted(R, [100, 100, 100])).toBeCloseTo(75.2777777778, 9);
    expect(aiaTaskMacro(R)).toBeCloseTo(75.2777777778, 9);
    expect(finalAccuracySampleWeighted(R, [100, 100, 100])).toBeCloseTo(63.3333333333, 9);
  });
  it("per-task forgetting of the worked example is [50, 15]", () => {
    expect(forgettingPerTask(R)).toEqual([50, 15]);
    expect(forgettingPerTask(R, 1)).toEqual([30]);
    expect(forgettingPerTask(R, 0)).toEqual([]);
  });
  it("intransigence I_k = a*_k - R[k][k] (RWalk)", () => {
    const joint = [
      [95, 0, 0],
      [92, 90, 0],
      [91, 89, 88],
    ];
    const ref = jointReferenceFrom(joint);
    expect(ref).toEqual([95, 90, 88]);
    expect(intransigencePerTask(R, ref)).toEqual([5, 5, 8]);
    expect(averageIntransigence(R, ref)).toBe(6);
    // a joint learner is its own reference: zero intransigence
    expect(averageIntransigence(joint, ref)).toBe(0);
    expect(() => intransigencePerTask(R, [1, 2])).toThrow(/joint reference/);
  });
  it("summary carries every variant under its own name, and the old aliases agree", () => {
    const s = summarize(F, { testSizes: sizes });
    expect(s.accuracyTaskMacro).toBe(50);
    expect(s.accuracySampleWeighted).toBeCloseTo(490000 / 6500, 12);
    expect(s.aiaTaskMacro).toBe(65);
    expect(s.finalAverageAccuracy).toBe(s.accuracyTaskMacro);
    expect(s.averageIncrementalAccuracy).toBe(s.aiaSampleWeighted);
    expect(s.accuracyCurve).toEqual(s.accuracyCurveSampleWeighted);
    expect(s.forwardTransfer).toBeUndefined();
    expect(s.intransigence).toBeUndefined();
  });
  it("metricRecord writes the documented keys and leaves undefined metrics out", () => {
    const rec = metricRecord(summarize(R, { baseline: b, jointReference: [95, 90, 88] }));
    expect(rec).toMatchObject({ acc_task_macro: expect.closeTo(63.3333333333, 9), bwt: -32.5, fwt: expect.closeTo(1.5, 12), forgetting: 32.5, intransigence: 6 });
    expect(rec["forgetting_task0"]).toBe(50);
    expect(rec["intransigence_task2"]).toBe(8);
    const documented = new Set(METRIC_DEFINITIONS.map((d) => d.key));
    for (const k of Object.keys(rec)) expect(documented.has(k.replace(/_task\d+$/, ""))).toBe(true);
    const single = metricRecord(summarize([[70]]));
    expect(single).toEqual({ acc_task_macro: 70, acc_sample_weighted: 70, aia_sample_weighted: 70, aia_task_macro: 70 });
  });
  it("FWT needs the future-task entries R[i-1][i]", () => {
    const noFuture = [
      [90, null, null],
      [60, 85, null],
      [40, 70, 80],
    ];
    expect(() => forwardTransfer(noFuture, b)).toThrow(/R\[0\]\[1\]/);
  });
});

describe("metrics: validation matrix", () => {
  it("ranks on the tasks that have a split, sample-weighted and task-macro", async () => {
    const { validationSummary } = await import("../src/index.js");
    const V = [
      [90, null, null],
      [70, 80, null],
      [60, 50, null], // task 2 (a few-shot session) has no validation split
    ];
    const s = validationSummary(V, [100, 300, 0]);
    expect(s?.accTaskMacro).toBe(55);
    expect(s?.accSampleWeighted).toBe((100 * 60 + 300 * 50) / 400);
    expect(s?.curve).toEqual([90, (100 * 70 + 300 * 80) / 400, 52.5]);
    expect(s?.aiaSampleWeighted).toBeCloseTo((90 + 77.5 + 52.5) / 3, 12);
    expect(validationSummary([[null]], [0])).toBeUndefined();
  });
});
