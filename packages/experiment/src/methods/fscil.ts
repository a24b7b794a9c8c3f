/**
 * Few-shot class-incremental methods on a cosine-trained base backbone (algorithms.md §6):
 * `teen` calibrates each session's new prototypes towards the base ones, `prototypes` keeps them
 * plain (TEEN with α = 0, the "decoupled cosine" baseline). The `training:` section is the
 * base-session schedule (with `select_best` for validation-based selection); incremental sessions
 * never train.
 */
import { fscilSessionFromCounts, fscilSummary, ShapeError, type ExperimentResult, type FscilSessionMetrics } from "@mnemo/core";
import { FscilPrototypeLearner, type TeenSettings } from "@mnemo/prototypes/learner";
import { z } from "zod";
import { defineMethod } from "../registry.js";
import type { MethodBuild, MethodContext } from "./types.js";

const common = {
  temperature: z.number().positive().default(16).describe("T in the T·cos logits of base training and prototypes (TEEN: 16 on CIFAR-100, 32 on miniImageNet/CUB)"),
};

export const teenSchema = z.strictObject({
  name: z.literal("teen").describe("TEEN: cosine-trained base model, class-mean prototypes, novel prototypes calibrated towards base ones"),
  alpha: z.number().min(0).max(1).default(0.5).describe("Weight on the base-derived term (code shift_weight); 0 = plain prototypes. CIFAR-100 script: 0.1"),
  tau: z.number().min(0).default(16).describe("Softmax temperature on prototype cosine similarities (code softmax_t)"),
  mode: z.enum(["soft_proto", "soft_embed", "hard_proto"]).default("soft_proto").describe("soft_proto is TEEN as published; the others are our definitions (see @mnemo/prototypes README)"),
  ...common,
});

export const prototypesSchema = z.strictObject({
  name: z.literal("prototypes").describe("Cosine-trained base model and plain class-mean prototypes with cosine scores (TEEN without calibration)"),
  ...common,
});

type TeenConfig = z.output<typeof teenSchema>;
type PrototypesConfig = z.output<typeof prototypesSchema>;

export function buildTeen(config: TeenConfig, ctx: MethodContext): MethodBuild {
  return buildFscil(config, ctx, { alpha: config.alpha, tau: config.tau, mode: config.mode });
}

export function buildPrototypes(config: PrototypesConfig, ctx: MethodContext): MethodBuild {
  return buildFscil(config, ctx, false);
}

function buildFscil(config: TeenConfig | PrototypesConfig, ctx: MethodContext, teen: TeenSettings | false): MethodBuild {
  if (ctx.stream.scenario !== "few-shot-class-incremental") {
    throw ctx.configError("method.name", `${config.name} is a few-shot class-incremental method; use stream.kind: few-shot-class-incremental`);
  }
  const learner = new FscilPrototypeLearner({
    backbone: ctx.backbone,
    training: ctx.training,
    rng: ctx.rng,
    temperature: config.temperature,
    teen,
    // training.select_best: keep the base epoch with the best validation accuracy (TEEN's code selects on test).
    selectBest: ctx.selectBest,
    augment: ctx.augment,
    quiet: ctx.quiet,
    name: config.name,
  });
  // Same frozen backbone, no calibration: the learner's "plain" prediction variant isolates what TEEN changes.
  const variants: [prefix: string, variant: string | undefined][] = teen === false ? [["", undefined]] : [["", undefined], ["plain_", "plain"]];
  return {
    learner,
    // Base / novel / HM from the per-class counts the runner's evaluation recorded (one pass).
    async afterTask(taskIndex, partial) {
      const out: Record<string, number> = {};
      for (const [prefix, variant] of variants) Object.assign(out, sessionMetrics(prefix, sessionFromCounts(partial, taskIndex, variant)));
      if (taskIndex === ctx.stream.numTasks - 1) {
        // Over every session's counts (also those restored from a checkpoint).
        for (const [prefix, variant] of variants) {
          const s = fscilSummary(Array.from({ length: taskIndex + 1 }, (_, t) => sessionFromCounts(partial, t, variant).accuracy));
          out[`${prefix}fscil_avg`] = s.average;
          out[`${prefix}fscil_pd`] = s.performanceDrop;
        }
      }
      return out;
    },
  };
}

function sessionFromCounts(result: ExperimentResult, session: number, variant: string | undefined): FscilSessionMetrics {
  if (!result.perClassCounts) throw new ShapeError("FSCIL metrics need the per-class counts of the evaluation (ExperimentResult.perClassCounts); run through runExperiment");
  return fscilSessionFromCounts(result.perClassCounts, result.taskClasses, session, variant);
}

/** Session metrics as tracker keys; novel accuracy and HM do not exist in the base session, so they are left out there. */
function sessionMetrics(prefix: string, m: FscilSessionMetrics): Record<string, number> {
  const out: Record<string, number> = { [`${prefix}session_accuracy`]: m.accuracy, [`${prefix}base_accuracy`]: m.base };
  if (Number.isFinite(m.novel)) out[`${prefix}novel_accuracy`] = m.novel;
  if (Number.isFinite(m.harmonicMean)) out[`${prefix}harmonic_mean`] = m.harmonicMean;
  return out;
}

export const teenMethod = defineMethod({
  name: "teen",
  description: "TEEN (few-shot class-incremental): cosine base model, prototypes calibrated towards base ones",
  schema: teenSchema,
  provides: () => ["scores"],
  build: buildTeen,
});

export const prototypesMethod = defineMethod({
  name: "prototypes",
  description: "Few-shot class-incremental: cosine base model and plain class-mean prototypes",
  schema: prototypesSchema,
  provides: () => ["scores"],
  build: buildPrototypes,
});
