/**
 * The run config: every key, its type and its default, in one place. The `method:` and `plugins:`
 * sections come from the registry (each method's and plugin's schema lives next to its builder),
 * so `configSchema(registry)` is assembled from what is registered. `mnemo schema` prints it as
 * JSON Schema; docs/configuration.md is generated from it. Objects are strict: unknown keys are errors.
 */
import { BACKEND_CHOICES } from "@mnemo/core";
import { folderName, positiveInt, positiveNumber } from "./config-loader.js";
import { anyStreamConfigSchema, augmentationConfigSchema } from "@mnemo/data";
import { z } from "zod";
import type { Registry } from "./registry.js";

/** Upper bounds that catch typos (1e12 epochs) before they allocate or train; raise them here if you mean it. */
export const MAX_EPOCHS = 100_000;
export const MAX_BATCH = 1_048_576;
export const MAX_WIDTH = 1_048_576;

const sgd = z.strictObject({
  name: z.literal("sgd"),
  momentum: z.number().min(0).max(1).default(0.9).describe("Heavy-ball momentum (0: plain SGD)"),
  nesterov: z.boolean().default(false).describe("Nesterov momentum"),
  weight_decay: z.number().min(0).default(0).describe("L2 penalty coefficient, added to the gradient"),
});
const adam = z.strictObject({
  name: z.literal("adam"),
  beta1: z.number().min(0).lt(1).default(0.9).describe("Decay of the first-moment estimate"),
  beta2: z.number().min(0).lt(1).default(0.999).describe("Decay of the second-moment estimate"),
  epsilon: positiveNumber().default(1e-8).describe("Added to the denominator for numerical stability"),
  weight_decay: z.number().min(0).default(0).describe("Weight decay coefficient (L2 on the gradient unless decoupled)"),
  decoupled: z.boolean().default(false).describe("AdamW-style decoupled weight decay"),
});

const schedule = z.discriminatedUnion("name", [
  z.strictObject({ name: z.literal("constant").describe("The same lr throughout") }),
  z.strictObject({ name: z.literal("step").describe("lr · gamma^floor(epoch / step_size)"), step_size: positiveInt().describe("Epochs between decays"), gamma: positiveNumber().default(0.1).describe("Decay factor") }),
  z.strictObject({ name: z.literal("multistep").describe("lr · gamma^(milestones passed)"), milestones: z.array(positiveInt()).min(1).describe("Epochs at which the lr is multiplied by gamma"), gamma: positiveNumber().default(0.1).describe("Decay factor") }),
  z.strictObject({ name: z.literal("cosine").describe("Cosine annealing from lr to min_lr over the task's epochs"), min_lr: z.number().min(0).default(0).describe("Learning rate at the end of the task") }),
]);

const adaptOptimizer = z.discriminatedUnion("name", [sgd, adam]).describe("Optimizer of the adapted parameters (reference: Adam, β (0.9, 0.999), wd 0)").prefault({ name: "adam" });
const adapterReset = z
  .enum(["never", "domain"])
  .default("never")
  .describe("never: continual, one model over the whole stream (Tent-continual, CoTTA); domain: back to the source model at every domain boundary (Tent-online* of the CoTTA paper, the Tent paper's own protocol: an oracle, since it is told where domains change)");
const adapterSchema = z.discriminatedUnion("name", [
  z.strictObject({ name: z.literal("source").describe("No adaptation: the source model with its BN running statistics") }),
  z.strictObject({ name: z.literal("bn").describe("BN-statistics adaptation: every batch normalised with its own mean and biased variance; no parameter changes") }),
  z.strictObject({
    name: z.literal("tent").describe("Tent: one step of entropy minimisation per batch on the BN affine γ, β (batch statistics)"),
    lr: positiveNumber().default(1e-3).describe("Learning rate (reference CIFAR: 1e-3)"),
    optimizer: adaptOptimizer,
    reset: adapterReset,
  }),
  z.strictObject({
    name: z.literal("cotta").describe("CoTTA: EMA teacher, augmentation-averaged pseudo-labels when the source's confidence is under the threshold, stochastic restore to the source weights"),
    lr: positiveNumber().default(1e-3).describe("Learning rate of the student (reference CIFAR: 1e-3)"),
    optimizer: adaptOptimizer,
    alpha: z.number().min(0).max(1).default(0.999).describe("Teacher EMA α (reference 0.999)"),
    restore: z.number().min(0).max(1).default(0.01).describe("Probability p that a weight is restored to its source value after each step (reference 0.01)"),
    threshold: z.number().min(0).max(1.01).default(0.92).describe("Confidence threshold p_th: below it (mean over the batch of the source model's max softmax), the teacher's target is the augmentation average (reference CIFAR10-C 0.92)"),
    augmentations: positiveInt().max(1024).default(32).describe("Augmented copies N averaged for the target (reference 32)"),
    flip: z.number().min(0).max(1).default(0.5).describe("Horizontal-flip probability of the augmentation (reference CIFAR 0.5)"),
    reset: adapterReset,
  }),
]);

/** `adaptation:`: continual test-time adaptation of the trained model over an online stream of shifted domains. */
export const adaptationSchema = z.strictObject({
  stream: anyStreamConfigSchema.describe("The shifted domains, one task each (e.g. a domain-incremental stream); each task's test split is the online target, in its order"),
  adapters: z
    .array(adapterSchema)
    .min(1)
    .default([{ name: "source" }, { name: "bn" }, { name: "tent" }, { name: "cotta" }] as never)
    .describe("Adapters, each run from the trained (source) model over the whole stream"),
  batch_size: positiveInt().max(MAX_BATCH, `at most ${MAX_BATCH} samples per batch`).default(200).describe("Test images per online step (reference 200)"),
  repeat: positiveInt().max(1000).default(1).describe("Passes over the domain sequence without a reset (≥ 3 for the long-stream check)"),
  limit_per_domain: positiveInt().optional().describe("Only the first N test images of each domain, in their order (reference: 10 000)"),
});

/** A `method:` or `plugins[i]` section as the run sees it: its name and its (validated) keys. */
export type ComponentConfig = { name: string } & Record<string, unknown>;

function sectionUnion(schemas: z.ZodObject[], what: string): z.ZodType<ComponentConfig> {
  if (schemas.length === 0) return z.never({ error: `no ${what} is registered` }) as unknown as z.ZodType<ComponentConfig>;
  if (schemas.length === 1) return schemas[0] as unknown as z.ZodType<ComponentConfig>;
  return z.discriminatedUnion("name", schemas as [z.ZodObject, z.ZodObject, ...z.ZodObject[]]) as unknown as z.ZodType<ComponentConfig>;
}

function buildSchema(method: z.ZodType<ComponentConfig>, plugin: z.ZodType<ComponentConfig>) {
  return z.strictObject({
  name: folderName().describe("Experiment name (MLflow experiment, run-directory folder): letters, digits, '.', '_', '-'"),
  imports: z
    .array(z.string().min(1))
    .default([])
    .describe("Modules that register methods or plugins (a package name or a path relative to this file), imported before the config is validated"),
  seed: z.number({ error: "expected a non-negative integer" }).int("expected a non-negative integer").min(0, "expected a non-negative integer").default(0).describe("Run seed: every random choice derives from it"),
  backend: z.enum(BACKEND_CHOICES).default("auto").describe("tfjs backend; MNEMO_BACKEND overrides"),
  threads: z.union([z.literal("auto"), positiveInt()]).default("auto").describe("wasm worker threads"),
  stream: anyStreamConfigSchema,
  data: z
    .strictObject({
      download: z
        .boolean()
        .optional()
        .describe("Download missing dataset files (default: yes, unless MNEMO_DOWNLOAD=0 or mnemo run --offline); false never touches the network"),
      incomplete: z
        .enum(["refuse", "warn"])
        .default("refuse")
        .describe(
          "An official dataset file with another record count than the release (e.g. a 1,000-record test_batch.bin): refuse, or warn and run on it (the numbers are then not comparable to published ones)",
        ),
    })
    .prefault({})
    .describe("How dataset files are obtained and checked (not part of the config hash: it does not change results)"),
  model: z
    .strictObject({
      backbone: z.enum(["mlp", "conv4", "resnet20", "resnet32", "reduced-resnet18"]).default("mlp").describe("Feature extractor; a linear head on top (@mnemo/models)"),
      hidden: z.array(positiveInt().max(MAX_WIDTH, `at most ${MAX_WIDTH} units per layer`)).min(1).max(64, "at most 64 hidden layers").default([400, 400]).describe("MLP hidden widths"),
      batch_norm: z.boolean().default(false).describe("MLP only: batch norm after every hidden layer (fc → BN → ReLU), e.g. for test-time adaptation; the conv backbones always have BN"),
      head: z.enum(["expanding", "fixed"]).default("expanding").describe("expanding: grows with the classes seen; fixed: all classes from the start"),
    })
    .prefault({}),
  method: method.describe("The continual-learning method and its hyper-parameters").prefault({ name: "finetune" }),
  plugins: z
    .array(plugin)
    .default([])
    .describe("Components added to a gradient method's learner (e.g. momentum_interpolation, nmc), each with its own keys"),
  training: z
    .strictObject({
      epochs: positiveInt().max(MAX_EPOCHS, `at most ${MAX_EPOCHS} epochs per task`).default(1).describe("Passes over each task's training data"),
      batch_size: positiveInt().max(MAX_BATCH, `at most ${MAX_BATCH} samples per batch`).default(128).describe("Stream images per optimizer step (replayed ones come on top)"),
      lr: positiveNumber().default(0.01).describe("Base learning rate (the schedule scales it)"),
      optimizer: z.discriminatedUnion("name", [sgd, adam]).describe("Optimizer and its hyper-parameters").prefault({ name: "sgd" }),
      schedule: schedule.describe("Learning-rate schedule within each task, by epoch").prefault({ name: "constant" }),
      warmup_epochs: z.number().min(0).default(0).describe("Linear warm-up from 0.1·lr over this many epochs at the start of each task (0: none)"),
      max_steps_per_task: positiveInt().optional().describe("Cap optimizer steps per task (quick runs)"),
      select_best: z.boolean().default(false).describe("Keep each task's best epoch by accuracy on the stream's validation split (needs stream.validation)"),
      optimizer_across_tasks: z
        .enum(["reset", "keep"])
        .default("reset")
        .describe("Optimizer state at a task boundary: reset (fresh per task, as PyCIL and Avalanche) or keep (one optimizer, its moments and step count, for the whole stream)"),
      augment: augmentationConfigSchema
        .omit({ normalize: true })
        .optional()
        .describe("Train-time augmentation (random crop, flip, color jitter); inputs are always normalised with the stream's mean/std"),
    })
    .prefault({}),
  evaluation: z
    .strictObject({
      scenario: z.enum(["class-incremental", "task-incremental"]).optional().describe("Default: task-incremental for task-incremental streams, else class-incremental"),
      batch_size: positiveInt().max(MAX_BATCH, `at most ${MAX_BATCH} samples per batch`).default(500).describe("Test images per forward pass (memory vs speed)"),
      future_tasks: z.boolean().default(true).describe("Evaluate not-yet-trained tasks too (needed for FWT)"),
      joint_reference: z
        .string()
        .min(1)
        .optional()
        .describe("Run directory of a joint run on the same stream: its diagonal a*_k gives intransigence (Chaudhry et al. 2018)"),
    })
    .prefault({}),
  adaptation: adaptationSchema
    .optional()
    .describe("Evaluation-time adaptation after training: each adapter runs online over the shifted domains (predict each batch, then adapt on it); error per domain and mean in metrics.json"),
  checkpoint: z
    .strictObject({
      every_steps: positiveInt().optional().describe("Also write a mid-task checkpoint at every multiple of this many optimizer steps (atomic; --resume continues from the newest; never changes results)"),
      every_minutes: z
        .number({ error: "expected a number of minutes (0 turns the timer off)" })
        .min(0, "expected a number of minutes (0 turns the timer off)")
        .default(10)
        .describe("Write a mid-task checkpoint when this many minutes passed since the last one (0: off); a checkpoint is always written after every task"),
    })
    .prefault({}),
  output: z
    .strictObject({
      dir: z.string().min(1).default("runs").describe("Run directories go to <dir>/<name>/<timestamp>-seed<seed>"),
      keep_checkpoint: z
        .boolean()
        .default(false)
        .describe("Keep checkpoint/ (model, optimizer and buffer state, megabytes) after the run finished; a finished run is never resumed, so by default it is deleted"),
    })
    .prefault({}),
  });
}

/** The resolved run config (what `config.yaml` in a run directory holds). */
export type ExperimentConfig = z.output<ReturnType<typeof buildSchema>>;

const cache = new WeakMap<Registry, { key: string; schema: z.ZodType<ExperimentConfig> }>();

/** The run config schema for the methods and plugins registered in `registry`. */
export function configSchema(registry: Registry): z.ZodType<ExperimentConfig> {
  const key = [...registry.methods().map((m) => `m:${m.name}`), ...registry.plugins().map((p) => `p:${p.name}`)].join(",");
  const hit = cache.get(registry);
  if (hit && hit.key === key) return hit.schema;
  const schema = buildSchema(
    sectionUnion(registry.methods().map((m) => m.schema), "method"),
    sectionUnion(registry.plugins().map((p) => p.schema), "plugin"),
  ) as unknown as z.ZodType<ExperimentConfig>;
  cache.set(registry, { key, schema });
  return schema;
}

/**
 * The run config as JSON Schema (input side: what a YAML file may contain, with defaults and
 * descriptions): what `mnemo schema` prints and docs/configuration.md is generated from.
 */
export function configJsonSchema(registry: Registry): Record<string, unknown> {
  return z.toJSONSchema(configSchema(registry), { io: "input", unrepresentable: "any" }) as Record<string, unknown>;
}
