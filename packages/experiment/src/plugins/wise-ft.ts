/**
 * `wise_ft` (Wortsman et al., CVPR 2022; algorithms.md §7.1) across a stream: at each task end the
 * weights become θ_α = (1 − α)·θ_start + α·θ_trained, with α chosen on the validation splits of the
 * tasks seen so far (never test). The chosen α per task goes to metrics.json `perStep` and the
 * tracker (`wise_ft_alpha`, `wise_ft_val_accuracy`) and is kept in the plugin's checkpointed state.
 */
import { positiveInt } from "../config-loader.js";
import { WISE_FT_ALPHAS } from "@mnemo/interpolation";
import { wiseFtPlugin, type WiseFtPlugin } from "@mnemo/interpolation/plugins";
import { z } from "zod";
import { definePlugin } from "../registry.js";

const unit = z.number({ error: "expected a number in [0, 1]" }).min(0, "expected a number in [0, 1]").max(1, "expected a number in [0, 1]");

export const wiseFtSchema = z.strictObject({
  name: z.literal("wise_ft").describe("WiSE-FT at each task end: interpolate the task's start and trained weights, α chosen on validation"),
  alphas: z
    .array(unit)
    .min(1, "list at least one α in [0, 1]")
    .default([...WISE_FT_ALPHAS])
    .describe("Candidate α (weight of the trained weights); default 0, 0.1, …, 1 (the paper's sweep)"),
  scope: z
    .enum(["seen", "task"])
    .default("seen")
    .describe("Validation splits that judge α: every task seen so far (seen) or the current task only (task, favours α = 1)"),
  first_task: z.boolean().default(false).describe("Also interpolate after the first task, towards the random initialisation"),
  batch_size: positiveInt().default(500).describe("Images per forward pass when scoring α"),
});

export const wiseFtPluginDefinition = definePlugin<typeof wiseFtSchema, WiseFtPlugin>({
  name: "wise_ft",
  description: "WiSE-FT at every task end, α chosen on the validation split",
  schema: wiseFtSchema,
  // θ_α replaces the trained weights that are evaluated (and continued from).
  provides: ["eval-params"],
  needsValidation: () => true,
  build: (config) => wiseFtPlugin({ alphas: config.alphas, scope: config.scope, firstTask: config.first_task, batchSize: config.batch_size }),
  taskMetrics(plugin, taskIndex): Record<string, number> {
    // The first task has no choice unless first_task is set (its start is the random init).
    const choice = plugin.choices.find((c) => c.task === taskIndex);
    return choice ? { wise_ft_alpha: choice.alpha, wise_ft_val_accuracy: choice.accuracy } : {};
  },
});
