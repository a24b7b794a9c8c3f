/** First-order MAML: the query gradient at the adapted parameters, no Hessian term (algorithms.md §8.1). */
import { z } from "zod";
import { defineMethod } from "../registry.js";
import { buildMetaLearner, metaKeys } from "./meta-common.js";

export const fomamlSchema = z.strictObject({
  name: z.literal("fomaml").describe("First-order MAML: drops the second-order term (stream.kind: meta-learning)"),
  ...metaKeys,
});

export const fomamlMethod = defineMethod({
  name: "fomaml",
  description: "First-order MAML: meta-gradient = query gradient at the adapted parameters",
  schema: fomamlSchema,
  build: (config, ctx) => buildMetaLearner(config, ctx, { firstOrder: true }),
});
