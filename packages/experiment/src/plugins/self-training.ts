/**
 * `self_training` (self-training-tta.md §1.4, §3, §4): pseudo-labels for a semi-supervised stream's
 * `task.unlabelled`, in rounds of label → select → train inside each task, with the confidence of
 * the prediction head's softmax (max, margin, entropy) or the T-similarity of M linear heads on the
 * detached features (Odonnat et al., AISTATS 2024). The plugin itself never sees a hidden label;
 * after each task's evaluation this definition (evaluation code) compares its scores of the
 * unlabelled pool with the hidden labels: ECE of each confidence, pseudo-label precision.
 */
import { positiveInt } from "../config-loader.js";
import { unlabelledTruth } from "@mnemo/data";
import { expectedCalibrationError, selfTraining, type PseudoLabelPolicy, type SelfTrainingPlugin } from "@mnemo/selftraining";
import { z } from "zod";
import { definePlugin } from "../registry.js";

const unit = z.number({ error: "expected a number in [0, 1]" }).min(0, "expected a number in [0, 1]").max(1, "expected a number in [0, 1]");
const nonNegative = z.number({ error: "expected a number ≥ 0" }).min(0, "expected a number ≥ 0");

/** Config word → the package's confidence name. */
const CONFIDENCES = { softmax: "softmax", margin: "margin", entropy: "entropy", tsimilarity: "tsim" } as const;

export const selfTrainingSchema = z.strictObject({
  name: z.literal("self_training").describe("Self-training on the stream's unlabelled images: rounds of pseudo-label → select → train inside each task (needs stream.labels)"),
  confidence: z
    .enum(["softmax", "margin", "entropy", "tsimilarity"])
    .default("tsimilarity")
    .describe("Confidence that selects pseudo-labels: max softmax, top-1 − top-2 margin, 1 − H/log K, or the T-similarity of `heads` linear heads on detached features (adds the heads and the diversity loss)"),
  policy: z
    .enum(["threshold", "curriculum", "msta"])
    .default("curriculum")
    .describe("threshold: confidence ≥ theta; curriculum: confidence ≥ its (1 − round·step) quantile (Cascante-Bonilla et al.); msta: one threshold per class minimising the transductive bound of Feofanov et al. (votes: classwise T-similarity, or g's probabilities)"),
  theta: unit.default(0.7).describe("threshold policy: the fixed θ (Feofanov et al.'s 0.7; the T-similarity paper's θ is not known)"),
  step: z.number().gt(0, "expected a number in (0, 1]").lte(1, "expected a number in (0, 1]").default(0.2).describe("curriculum policy: Δ, the quantile step per round (reference default 0.2)"),
  warmup_epochs: z.number().int().min(0).default(10).describe("Epochs on the labelled images only before the first labelling round (must be < training.epochs)"),
  round_epochs: positiveInt().default(5).describe("Epochs between labelling rounds"),
  max_rounds: positiveInt().default(5).describe("Labelling rounds per task (curriculum with step 0.2 reaches all of U at round 5)"),
  batch_size: positiveInt().default(32).describe("Pseudo-labelled images per step"),
  weight: nonNegative.default(1).describe("Weight of the pseudo-label loss, averaged apart from the labelled CE (paper Eq. 1)"),
  heads: z.number().int().min(2, "T-similarity needs at least 2 heads").default(5).describe("tsimilarity: M, the linear heads of the ensemble (reference 5)"),
  gamma: nonNegative.default(1).describe("tsimilarity: γ, weight of the diversity term on unlabelled images (reference 1)"),
  unlabelled_batch: positiveInt().default(32).describe("tsimilarity: unlabelled images per step for the diversity term"),
  relabel: z.boolean().default(true).describe("Re-score all of U each round and replace the pseudo-labels (true), or move each round's selection out of U for good"),
  restrict_to_task_classes: z.boolean().default(true).describe("Class-incremental: pseudo-labels only among the current task's classes"),
  soft_labels: z.boolean().default(false).describe("Arazo et al.: soft pseudo-labels (the softmax at labelling time) instead of the argmax"),
  mixup_alpha: nonNegative.default(0).describe("Arazo et al.: mixup of pseudo-labelled images, λ ~ Beta(α, α) (0: off; the paper's α is 1)"),
  lambda_a: nonNegative.default(0).describe("Arazo et al.: weight of R_A, which keeps the batch-mean prediction near uniform (paper 0.8)"),
  lambda_h: nonNegative.default(0).describe("Arazo et al.: weight of R_H, the mean prediction entropy (paper 0.4)"),
  teacher: z.enum(["current", "ema"]).default("current").describe("Who labels: the current model, or an EMA of its weights (damps error accumulation)"),
  ema_alpha: unit.default(0.999).describe("teacher: ema, θ' ← α θ' + (1 − α) θ per step"),
  admit_pseudo_labels: z.boolean().default(false).describe("Let pseudo-labelled images enter the method's replay buffer (er only); false: the buffer stores ground truth only"),
});

export type SelfTrainingConfig = z.output<typeof selfTrainingSchema>;

/** Methods whose replay buffer offers itself to `admit_pseudo_labels` (see methods/er.ts). */
export const ADMITTING_METHODS: readonly string[] = ["er"];

function policyOf(config: SelfTrainingConfig): PseudoLabelPolicy {
  if (config.policy === "msta") return { kind: "msta" };
  return config.policy === "threshold" ? { kind: "threshold", theta: config.theta } : { kind: "curriculum", step: config.step };
}

export const selfTrainingPlugin = definePlugin<typeof selfTrainingSchema, SelfTrainingPlugin>({
  name: "self_training",
  description: "Self-training with pseudo-labels on unlabelled images (softmax or T-similarity confidence; threshold, curriculum or msta)",
  schema: selfTrainingSchema,
  check(config, run, at, self) {
    if (!("labels" in run.stream) || !run.stream.labels) {
      throw at(`${self}.name`, "self_training needs unlabelled images: add stream.labels: { fraction: 0.01 } (or { per_class: 10 }) to the stream section");
    }
    if (config.warmup_epochs >= run.training.epochs) {
      throw at(
        `${self}.warmup_epochs`,
        `${self}.warmup_epochs (${config.warmup_epochs}) and training.epochs (${run.training.epochs}): no labelling round would ever run; use warmup_epochs < training.epochs`,
      );
    }
    if (config.admit_pseudo_labels && !ADMITTING_METHODS.includes(run.method.name)) {
      throw at(
        `${self}.admit_pseudo_labels`,
        `method.name "${run.method.name}" and ${self}.admit_pseudo_labels: true cannot be combined: ${run.method.name} has no replay buffer that takes pseudo-labelled rows; use ${ADMITTING_METHODS.join(", ")} or admit_pseudo_labels: false`,
      );
    }
  },
  build(config, context) {
    const plugin = selfTraining({
      confidence: CONFIDENCES[config.confidence],
      policy: policyOf(config),
      warmupEpochs: config.warmup_epochs,
      roundEpochs: config.round_epochs,
      maxRounds: config.max_rounds,
      batchSize: config.batch_size,
      weight: config.weight,
      heads: config.heads,
      gamma: config.gamma,
      unlabelledBatch: config.unlabelled_batch,
      relabel: config.relabel,
      restrictToTaskClasses: config.restrict_to_task_classes,
      softLabels: config.soft_labels,
      mixupAlpha: config.mixup_alpha,
      lambdaA: config.lambda_a,
      lambdaH: config.lambda_h,
      teacher: config.teacher,
      emaAlpha: config.ema_alpha,
      inBatch: false,
      admitPseudoLabels: config.admit_pseudo_labels,
      rng: context.rng.scope("self_training").stream("batches"),
    });
    return plugin;
  },
  taskMetrics(plugin, taskIndex, { stream }): Record<string, number> {
    const out: Record<string, number> = {};
    const rounds = plugin.rounds.filter((r) => r.task === taskIndex);
    const last = rounds[rounds.length - 1];
    if (last) out.st_pseudo_labels = last.selected;
    const scores = plugin.lastScores;
    if (!scores || scores.task !== taskIndex) return out;
    const truth = unlabelledTruth(stream, taskIndex);
    const correct = Array.from(scores.predictions, (p, i) => (p === truth[i] ? 1 : 0));
    out.st_unlabelled_accuracy = (100 * correct.reduce((a: number, b) => a + b, 0)) / Math.max(1, correct.length);
    out.st_ece_softmax = expectedCalibrationError(scores.softmax, correct).ece;
    if (scores.tsim) out.st_ece_tsim = expectedCalibrationError(scores.tsim, correct).ece;
    const { indices, labels } = plugin.pseudoLabels();
    if (indices.length) out.st_pl_precision = (100 * labels.filter((y, r) => y === truth[indices[r] as number]).length) / indices.length;
    return out;
  },
});
