import { expect, it } from "vitest";
import { expectedCalibrationError, softmaxMax, tSimilarity } from "../src/confidence.js";

it("README example", () => {
  const heads = [[Math.log(0.7), Math.log(0.2), Math.log(0.1)], [Math.log(0.6), Math.log(0.3), Math.log(0.1)], [Math.log(0.8), Math.log(0.1), Math.log(0.1)]];
  expect(tSimilarity(heads, 3)[0]).toBeCloseTo(8 / 15, 12);
  expect(softmaxMax(heads[0] as number[], 3)[0]).toBeCloseTo(0.7, 12);
  expect(expectedCalibrationError([0.9, 0.9], [1, 0]).ece).toBeCloseTo(0.4, 12);
});
