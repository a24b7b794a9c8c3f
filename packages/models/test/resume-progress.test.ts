/**
 * The progress line right after a resume shows the loss of the step just taken, not `loss NaN`
 * (the loss shown used to be refreshed only every 20th step, the tracker's logging cadence).
 */
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import type { Plugin, SeededRng } from "@mnemo/core";
import type { SupervisedLearner } from "../src/index.js";
import { interruptedAndResumed, learnerWith } from "../src/testing/learner-harness.js";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

describe("SupervisedLearner progress after a resume", () => {
  it("has a finite loss to show from the first resumed step on", async () => {
    const shown: number[] = [];
    let resumed: SupervisedLearner | undefined;
    const probe: Plugin = {
      name: "probe",
      // Runs after each step's loss is known; the bar shows lastLoss right after it.
      onStepEnd: () => {
        if (resumed) shown.push(resumed.lastLoss);
      },
    };
    let made = 0;
    const make = (rng: SeededRng, shouldStop?: () => boolean) => {
      made++;
      const l = learnerWith(rng, made === 2 ? [probe] : [], { shouldStop });
      if (made === 2) resumed = l;
      return l;
    };
    const { params } = await interruptedAndResumed(make, 5);
    Object.values(params).forEach((t) => t.dispose());
    expect(shown.length).toBeGreaterThan(3);
    // onStepEnd of resumed step k sees the loss of step k-1: from the second resumed step on, every value is a loss.
    expect(shown.slice(1).filter((v) => !Number.isFinite(v))).toEqual([]);
  });
});
