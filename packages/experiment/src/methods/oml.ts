/**
 * OML (Javed & White 2019; algorithms.md §9.2): the head (PLN) learns a trajectory one example
 * per SGD step, the body (RLN) only in the outer loop; second-order meta-gradient. Defaults from
 * the mrcl README command (update_lr 0.03, meta_lr 1e-4).
 */
import { z } from "zod";
import { defineMethod } from "../registry.js";
import { buildContinualMetaLearner } from "./meta-continual.js";

const positiveInt = () => z.number().int().min(1);

export const omlSchema = z.strictObject({
  name: z.literal("oml").describe("OML: online-aware meta-learning, one-example inner steps on the head (stream.kind: meta-learning with continual:)"),
  inner_lr: z.number().min(0).default(0.03).describe("Inner SGD learning rate of the head (mrcl update_lr)"),
  iterations: positiveInt().default(200000).describe("Outer steps, one trajectory each (mrcl parser default; README: 700000)"),
  meta_lr: z.number().positive().default(1e-4).describe("Outer Adam learning rate (mrcl meta_lr)"),
  checkpoint_every: positiveInt().default(100).describe("Mid-meta-training checkpoint every this many iterations"),
  log_every: positiveInt().default(10).describe("Log the meta-train loss every this many iterations"),
});

export const omlMethod = defineMethod({
  name: "oml",
  description: "OML: meta-learned representation for online, one-example-at-a-time learning of the head",
  schema: omlSchema,
  build: (c, ctx) =>
    buildContinualMetaLearner(
      {
        method: "oml",
        innerLr: c.inner_lr,
        initialSteps: 0,
        updateSteps: 0,
        startClasses: 1,
        classesPerAddition: 1,
        quickAdapt: false,
        metaBatch: 1,
        iterations: c.iterations,
        metaLr: c.meta_lr,
        checkpointEvery: c.checkpoint_every,
        logEvery: c.log_every,
      },
      ctx,
    ),
});
