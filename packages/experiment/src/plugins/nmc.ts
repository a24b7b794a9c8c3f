/**
 * `plugins: [{ name: nmc }]`: a nearest-class-mean head on a gradient method (er, derpp, finetune,
 * joint; icarl with `classifier: cnn`). Class means are rebuilt at each task end and the
 * nearest-prototype scores replace the logits at evaluation (@mnemo/prototypes `nmcHead`). With ER
 * or DER++ the old classes' means come from the buffer, re-embedded with the current backbone; the
 * method offers it through `offerExemplars` once it has built its buffer.
 */
import { positiveInt } from "../config-loader.js";
import { NMC_PRESET_NAMES, nmcHead, type NmcPresetName } from "@mnemo/prototypes/plugins";
import { z } from "zod";
import { definePlugin } from "../registry.js";

export const nmcSchema = z.strictObject({
  name: z.literal("nmc").describe("Nearest-class-mean head: class means at each task end, nearest-prototype scores at evaluation"),
  preset: z
    .enum(NMC_PRESET_NAMES as [NmcPresetName, ...NmcPresetName[]])
    // Chosen on Split-MNIST's validation split with ER (configs/README.md, "Heads, SimpleCIL and ER's buffer").
    .default("pycil")
    .describe("pycil: normalised features, re-normalised means, squared Euclidean; icarl: the same with flip-averaged features; simple_baseline: means of normalised features, not re-normalised, Euclidean (Janson et al.)"),
  feature_batch_size: positiveInt().default(256).describe("Images per forward pass when computing class means"),
});

export const nmcPlugin = definePlugin({
  name: "nmc",
  description: "Nearest-class-mean head (class means at task end, nearest-prototype scores) for er, derpp, finetune, joint",
  schema: nmcSchema,
  provides: ["scores"],
  build: (config) => nmcHead({ preset: config.preset, featureBatchSize: config.feature_batch_size }),
});
