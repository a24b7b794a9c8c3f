/** DER++ (Buzzega et al. 2020): reservoir of (image, label, logits); logit matching + label replay. */
import { positiveInt } from "../config-loader.js";
import { SupervisedLearner } from "@mnemo/models";
import { derpp } from "@mnemo/replay/plugins";
import { z } from "zod";
import { defineMethod } from "../registry.js";
import { commonLearnerOptions, offerExemplars, type MethodBuild, type MethodContext } from "./types.js";

export const derppSchema = z.strictObject({
  name: z.literal("derpp").describe("Dark experience replay++: loss += alpha·MSE(logits, stored logits) + beta·CE(replayed labels)"),
  memory_size: positiveInt().describe("Samples kept in the reservoir (M)"),
  alpha: z.number().min(0).default(0.1).describe("Weight of the logit-matching MSE (Buzzega et al.: 0.1-0.3)"),
  beta: z.number().min(0).default(0.5).describe("Weight of the replayed-label CE (Buzzega et al.: 0.5-1; 0 = DER)"),
  replay_batch_size: positiveInt().optional().describe("Samples in each of the two replay batches (default: training.batch_size)"),
});

export function buildDerpp(config: z.output<typeof derppSchema>, ctx: MethodContext): MethodBuild {
  const plugin = derpp({
    rng: ctx.rng.scope("derpp"),
    capacity: config.memory_size,
    replayBatchSize: config.replay_batch_size ?? ctx.training.batchSize,
    sampleShape: ctx.stream.inputShape,
    numClasses: ctx.stream.numClasses,
    alpha: config.alpha,
    beta: config.beta,
    augment: ctx.augment,
  });
  offerExemplars(ctx.plugins, () => plugin.stored());
  return {
    learner: new SupervisedLearner({
      ...commonLearnerOptions(ctx),
      plugins: [plugin, ...ctx.plugins],
      name: "derpp",
    }),
  };
}

export const derppMethod = defineMethod({
  name: "derpp",
  description: "Dark experience replay++ (Buzzega et al. 2020): reservoir of (image, label, logits), logit matching + label replay",
  schema: derppSchema,
  acceptsPlugins: true,
  build: buildDerpp,
});
