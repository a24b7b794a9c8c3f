/** GDumb (Prabhu et al. 2020): greedy class-balanced buffer; a model trained from scratch on it after each task. */
import { positiveInt } from "../config-loader.js";
import { GDumbLearner } from "@mnemo/replay/plugins";
import { z } from "zod";
import { defineMethod } from "../registry.js";
import type { MethodBuild, MethodContext } from "./types.js";

export const gdumbSchema = z.strictObject({
  name: z.literal("gdumb").describe("GDumb: greedy class-balanced buffer, retrain from scratch on it at each task end"),
  memory_size: positiveInt().describe("Samples kept (M); training.epochs then count passes over the buffer"),
});

export function buildGdumb(config: z.output<typeof gdumbSchema>, ctx: MethodContext): MethodBuild {
  return {
    learner: new GDumbLearner({
      backbone: ctx.backbone,
      training: ctx.training,
      rng: ctx.rng,
      augment: ctx.augment,
      quiet: ctx.quiet,
      capacity: config.memory_size,
      numClasses: ctx.stream.numClasses,
      sampleShape: ctx.stream.inputShape,
    }),
  };
}

export const gdumbMethod = defineMethod({
  name: "gdumb",
  description: "GDumb (Prabhu et al. 2020): greedy class-balanced buffer, retrain from scratch at each task end",
  schema: gdumbSchema,
  build: buildGdumb,
});
