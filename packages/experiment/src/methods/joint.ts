/** Joint training (upper bound): a fresh model trained on the union of all tasks so far, after each task. */
import { JointLearner } from "@mnemo/replay/plugins";
import { z } from "zod";
import { defineMethod } from "../registry.js";
import type { MethodBuild, MethodContext } from "./types.js";

export const jointSchema = z.strictObject({
  name: z.literal("joint").describe("Upper bound: at task i, train a freshly initialised model on the union of tasks 0..i"),
});

export function buildJoint(_config: z.output<typeof jointSchema>, ctx: MethodContext): MethodBuild {
  return { learner: new JointLearner({ backbone: ctx.backbone, training: ctx.training, rng: ctx.rng, augment: ctx.augment, quiet: ctx.quiet, plugins: [...ctx.plugins] }) };
}

export const jointMethod = defineMethod({
  name: "joint",
  description: "Joint training on all tasks so far (the upper bound)",
  schema: jointSchema,
  acceptsPlugins: true,
  build: buildJoint,
});
