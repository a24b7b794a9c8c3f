/**
 * SimpleCIL (Zhou et al. 2023, PILOT; algorithms.md §4): a frozen backbone and, for every class, the
 * mean feature of its training images written into a cosine head. Nothing is trained after the
 * backbone is frozen and nothing is replayed, so there is no forgetting of the head itself.
 *
 * PILOT freezes an ImageNet-pre-trained ViT; Mnemo ships no pre-trained weights, so `adapt` says
 * where the frozen backbone comes from: `first-task` (default) trains it with cross-entropy on the
 * first task with the `training:` schedule, then freezes it (APER's first-session adaptation);
 * `none` keeps the seeded random initialisation. On Split-MNIST a backbone trained on digits 0/1
 * alone is worse than a random one (validation ACC 55.5 % vs 79.0 %, configs/README.md), so
 * cil-mnist-simplecil.yaml sets `none`; `first-task` stays the default for streams whose first task
 * is large enough to learn general features from (e.g. a 50-class base session).
 */
import { positiveInt } from "../config-loader.js";
import { SimpleCilLearner } from "@mnemo/prototypes/learner";
import { z } from "zod";
import { defineMethod } from "../registry.js";
import type { MethodBuild, MethodContext } from "./types.js";

export const simplecilSchema = z.strictObject({
  name: z.literal("simplecil").describe("SimpleCIL: frozen backbone, class-mean prototypes in a cosine head (no training after the backbone is frozen)"),
  adapt: z
    .enum(["first-task", "none"])
    .default("first-task")
    .describe("Where the frozen backbone comes from: first-task = trained with cross-entropy on task 0 (training: schedule), then frozen; none = the seeded random init"),
  feature_batch_size: positiveInt().default(256).describe("Images per forward pass when computing class means"),
});

const SCENARIOS = new Set(["class-incremental", "task-incremental", "few-shot-class-incremental"]);

export function buildSimplecil(config: z.output<typeof simplecilSchema>, ctx: MethodContext): MethodBuild {
  if (!SCENARIOS.has(ctx.stream.scenario)) {
    throw ctx.configError("method.name", `simplecil adds new classes' means task by task; a ${ctx.stream.scenario} stream revisits the same classes: use stream.kind: class-incremental`);
  }
  return {
    learner: new SimpleCilLearner({
      backbone: ctx.backbone,
      rng: ctx.rng,
      numClasses: ctx.stream.numClasses,
      adapt: config.adapt,
      training: ctx.training,
      selectBest: ctx.selectBest,
      augment: ctx.augment,
      quiet: ctx.quiet,
      featureBatchSize: config.feature_batch_size,
    }),
  };
}

export const simplecilMethod = defineMethod({
  name: "simplecil",
  description: "SimpleCIL (Zhou et al. 2023): frozen backbone, class-mean prototypes in a cosine head",
  schema: simplecilSchema,
  provides: () => ["scores"],
  build: buildSimplecil,
});
