/**
 * ANIL (Raghu et al. 2020): MAML whose inner loop adapts only the head; the body still receives
 * second-order meta-gradients through the head's adaptation.
 */
import { z } from "zod";
import { defineMethod } from "../registry.js";
import { buildMetaLearner, metaKeys } from "./meta-common.js";

export const anilSchema = z.strictObject({
  name: z.literal("anil").describe("ANIL: MAML with only the head adapted in the inner loop (stream.kind: meta-learning)"),
  ...metaKeys,
  first_order: z.boolean().default(false).describe("Drop the second-order term (first-order ANIL)"),
});

export const anilMethod = defineMethod({
  name: "anil",
  description: "ANIL: almost no inner loop, only the head adapts per episode",
  schema: anilSchema,
  build: (config, ctx) => buildMetaLearner(config, ctx, { firstOrder: config.first_order, adaptPrefixes: [ctx.backbone.headPrefix] }),
});
