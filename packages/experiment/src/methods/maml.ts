/** MAML (Finn et al. 2017) with second-order meta-gradients through the whole network (algorithms.md §8). */
import { z } from "zod";
import { defineMethod } from "../registry.js";
import { buildMetaLearner, metaKeys } from "./meta-common.js";

export const mamlSchema = z.strictObject({
  name: z.literal("maml").describe("MAML: second-order meta-gradients through the inner loop (stream.kind: meta-learning)"),
  ...metaKeys,
});

export const mamlMethod = defineMethod({
  name: "maml",
  description: "MAML (second order): meta-learned initialisation adapted per episode by SGD",
  schema: mamlSchema,
  build: (config, ctx) => buildMetaLearner(config, ctx, { firstOrder: false }),
});
