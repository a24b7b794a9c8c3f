import { describe, expect, it } from "vitest";
import { onlineErrorSummary, ShapeError } from "../src/index.js";

describe("onlineErrorSummary (test-time adaptation)", () => {
  it("errors per cell, their mean, and the mean of each pass", () => {
    // 2 domains x 2 passes: 90/100, 50/100, 80/100, 60/200 correct.
    const s = onlineErrorSummary([90, 50, 80, 60], [100, 100, 100, 200], 2);
    expect(s.errors).toEqual([10, 50, 20, 70]);
    expect(s.meanError).toBe(37.5);
    expect(s.passMeanErrors).toEqual([30, 45]);
  });

  it("refuses mismatched counts", () => {
    expect(() => onlineErrorSummary([1], [1, 2], 1)).toThrow(ShapeError);
    expect(() => onlineErrorSummary([1], [1], 0)).toThrow(ShapeError);
  });
});
