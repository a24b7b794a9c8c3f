/**
 * `soup` (Wortsman et al., ICML 2022; algorithms.md §7.2) over one task's checkpoints: at each
 * task end the weights become the uniform mean of the task's checkpoints, or the greedy soup judged
 * on the validation splits of the tasks seen so far (never test).
 */
import { positiveInt } from "../config-loader.js";
import { soupPlugin, type SoupPlugin } from "@mnemo/interpolation/plugins";
import { z } from "zod";
import { definePlugin } from "../registry.js";

export const soupSchema = z.strictObject({
  name: z.literal("soup").describe("Model soup of the task's checkpoints at each task end (uniform, or greedy on validation)"),
  recipe: z.enum(["uniform", "greedy"]).default("greedy").describe("uniform: mean of all checkpoints; greedy: add a checkpoint only if validation accuracy strictly improves"),
  every_steps: positiveInt().optional().describe("Take a checkpoint every N optimizer steps (default: at every epoch end); the task's final weights always join"),
  max_ingredients: positiveInt().optional().describe("Keep at most this many checkpoints per task (the most recent)"),
  scope: z.enum(["seen", "task"]).default("seen").describe("Greedy only: validation splits that judge the soup (every task seen so far, or the current one)"),
  batch_size: positiveInt().default(500).describe("Images per forward pass when scoring"),
});

export const soupPluginDefinition = definePlugin<typeof soupSchema, SoupPlugin>({
  name: "soup",
  description: "Model soup (uniform or greedy on validation) of each task's checkpoints",
  schema: soupSchema,
  // The soup replaces the trained weights that are evaluated (and continued from).
  provides: ["eval-params"],
  // Uniform needs no held-out data; the greedy recipe is judged on it.
  needsValidation: (config) => config.recipe === "greedy",
  build: (config) =>
    soupPlugin({ recipe: config.recipe, everySteps: config.every_steps, maxIngredients: config.max_ingredients, scope: config.scope, batchSize: config.batch_size }),
  taskMetrics(plugin, taskIndex): Record<string, number> {
    const report = plugin.reports.find((r) => r.task === taskIndex);
    if (!report) return {};
    return { soup_members: report.members.length, soup_ingredients: report.ingredients.length, ...(report.accuracy !== null ? { soup_val_accuracy: report.accuracy } : {}) };
  },
});
