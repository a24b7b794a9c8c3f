/** Plain fine-tuning: the lower bound every continual-learning method is compared with. */
import { SupervisedLearner } from "@mnemo/models";
import { z } from "zod";
import { defineMethod } from "../registry.js";
import { commonLearnerOptions, type MethodBuild, type MethodContext } from "./types.js";

export const finetuneSchema = z.strictObject({
  name: z.literal("finetune").describe("Train on each task in turn with no protection against forgetting (lower bound)"),
});

export function buildFinetune(_config: z.output<typeof finetuneSchema>, ctx: MethodContext): MethodBuild {
  return {
    learner: new SupervisedLearner({
      ...commonLearnerOptions(ctx),
      name: "finetune",
    }),
  };
}

export const finetuneMethod = defineMethod({
  name: "finetune",
  description: "Plain fine-tuning, task after task (the lower bound)",
  schema: finetuneSchema,
  acceptsPlugins: true,
  build: buildFinetune,
});
