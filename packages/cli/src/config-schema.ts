/**
 * The run config: every key, its type and its default, in one place. `mnemo schema` prints it
 * as JSON Schema; docs/configuration.md explains it. Objects are strict: unknown keys are errors.
 */
import { BACKEND_CHOICES, positiveInt, positiveNumber } from "@mnemo/core";
import { augmentationConfigSchema, streamConfigSchema } from "@mnemo/data";
import { z } from "zod";
import { methodConfigSchema } from "./methods/index.js";

const sgd = z.strictObject({
  name: z.literal("sgd"),
  momentum: z.number().min(0).max(1).default(0.9),
  nesterov: z.boolean().default(false),
  weight_decay: z.number().min(0).default(0),
});
const adam = z.strictObject({
  name: z.literal("adam"),
  beta1: z.number().min(0).lt(1).default(0.9),
  beta2: z.number().min(0).lt(1).default(0.999),
  epsilon: positiveNumber().default(1e-8),
  weight_decay: z.number().min(0).default(0),
  decoupled: z.boolean().default(false).describe("AdamW-style decoupled weight decay"),
});

const schedule = z.discriminatedUnion("name", [
  z.strictObject({ name: z.literal("constant") }),
  z.strictObject({ name: z.literal("step"), step_size: positiveInt(), gamma: positiveNumber().default(0.1) }),
  z.strictObject({ name: z.literal("multistep"), milestones: z.array(positiveInt()).min(1), gamma: positiveNumber().default(0.1) }),
  z.strictObject({ name: z.literal("cosine"), min_lr: z.number().min(0).default(0) }),
]);

export const experimentConfigSchema = z.strictObject({
  name: z.string().min(1).describe("Experiment name (MLflow experiment, run-directory folder)"),
  seed: z.number({ error: "expected a non-negative integer" }).int("expected a non-negative integer").min(0, "expected a non-negative integer").default(0).describe("Run seed: every random choice derives from it"),
  backend: z.enum(BACKEND_CHOICES).default("auto").describe("tfjs backend; MNEMO_BACKEND overrides"),
  threads: z.union([z.literal("auto"), positiveInt()]).default("auto").describe("wasm worker threads"),
  stream: streamConfigSchema,
  model: z
    .strictObject({
      backbone: z.enum(["mlp", "conv4", "resnet20", "resnet32", "reduced-resnet18"]).default("mlp"),
      hidden: z.array(positiveInt()).min(1).default([400, 400]).describe("MLP hidden widths"),
      head: z.enum(["expanding", "fixed"]).default("expanding").describe("expanding: grows with the classes seen; fixed: all classes from the start"),
    })
    .prefault({}),
  method: methodConfigSchema.prefault({ name: "finetune" }),
  training: z
    .strictObject({
      epochs: positiveInt().default(1),
      batch_size: positiveInt().default(128),
      lr: positiveNumber().default(0.01),
      optimizer: z.discriminatedUnion("name", [sgd, adam]).prefault({ name: "sgd" }),
      schedule: schedule.prefault({ name: "constant" }),
      warmup_epochs: z.number().min(0).default(0),
      max_steps_per_task: positiveInt().optional().describe("Cap optimizer steps per task (quick runs)"),
      select_best: z.boolean().default(false).describe("Keep each task's best epoch by accuracy on the stream's validation split (needs stream.validation)"),
      augment: augmentationConfigSchema
        .omit({ normalize: true })
        .optional()
        .describe("Train-time augmentation (random crop, flip, color jitter); inputs are always normalised with the stream's mean/std"),
    })
    .prefault({}),
  evaluation: z
    .strictObject({
      scenario: z.enum(["class-incremental", "task-incremental"]).optional().describe("Default: task-incremental for task-incremental streams, else class-incremental"),
      batch_size: positiveInt().default(500),
      future_tasks: z.boolean().default(true).describe("Evaluate not-yet-trained tasks too (needed for FWT)"),
    })
    .prefault({}),
  output: z
    .strictObject({
      dir: z.string().min(1).default("runs").describe("Run directories go to <dir>/<name>/<timestamp>-seed<seed>"),
    })
    .prefault({}),
});

export type ExperimentConfig = z.output<typeof experimentConfigSchema>;
