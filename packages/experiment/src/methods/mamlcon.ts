/**
 * MAMLCon (van der Merwe & Kamper 2023; algorithms.md §9.1): continual inner loop over class
 * chunks ending with one SGD step on a template per seen class; first-order meta-gradient.
 * Defaults are the reference config's (config_cl_example.yaml, adam.yaml).
 */
import { z } from "zod";
import { defineMethod } from "../registry.js";
import { buildContinualMetaLearner } from "./meta-continual.js";

const positiveInt = () => z.number().int().min(1);

export const mamlconSchema = z.strictObject({
  name: z.literal("mamlcon").describe("MAMLCon: meta-learning for continual few-shot learning (stream.kind: meta-learning with continual:)"),
  inner_lr: z.number().min(0).default(1e-3).describe("Inner SGD learning rate"),
  initial_steps: z.number().int().min(0).default(30).describe("SGD steps on the first chunk"),
  update_steps: z.number().int().min(0).default(5).describe("SGD steps on every later chunk"),
  start_classes: positiveInt().default(5).describe("Classes in the first chunk of a meta-training episode"),
  classes_per_addition: positiveInt().default(5).describe("Classes per later chunk in meta-training"),
  quick_adapt: z.boolean().default(true).describe("The template step (one SGD step on one stored example per seen class); false = sequential first-order MAML"),
  meta_batch: positiveInt().default(4).describe("Episodes per outer step (gradient accumulation)"),
  iterations: positiveInt().default(1000).describe("Outer steps (the reference's epoch_n_tasks)"),
  meta_lr: z.number().positive().default(1e-4).describe("Outer Adam learning rate"),
  checkpoint_every: positiveInt().default(100).describe("Mid-meta-training checkpoint every this many iterations"),
  log_every: positiveInt().default(10).describe("Log the meta-train loss every this many iterations"),
});

export const mamlconMethod = defineMethod({
  name: "mamlcon",
  description: "MAMLCon: continual inner loop over class chunks plus one template step (continual few-shot)",
  schema: mamlconSchema,
  build: (c, ctx) =>
    buildContinualMetaLearner(
      {
        method: "mamlcon",
        innerLr: c.inner_lr,
        initialSteps: c.initial_steps,
        updateSteps: c.update_steps,
        startClasses: c.start_classes,
        classesPerAddition: c.classes_per_addition,
        quickAdapt: c.quick_adapt,
        metaBatch: c.meta_batch,
        iterations: c.iterations,
        metaLr: c.meta_lr,
        checkpointEvery: c.checkpoint_every,
        logEvery: c.log_every,
      },
      ctx,
    ),
});
