/**
 * Few-shot class-incremental methods on a cosine-trained base backbone (algorithms.md §6):
 * `teen` calibrates each session's new prototypes towards the base ones, `prototypes` keeps them
 * plain (TEEN with α = 0, the "decoupled cosine" baseline). The `training:` section is the
 * base-session schedule (with `select_best` for validation-based selection); incremental sessions
 * never train.
 */
import { fscilSummary, type FscilSessionMetrics } from "@mnemo/core";
import { FscilEvaluator, FscilPrototypeLearner, type TeenSettings } from "@mnemo/prototypes/learner";
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
  const evaluator = new FscilEvaluator(learner, ctx.stream);
  const sessionAccuracies: number[] = [];
  const plainAccuracies: number[] = [];
  return {
    learner,
    async afterTask(taskIndex) {
      const report = await evaluator.session(taskIndex);
      sessionAccuracies[taskIndex] = report.calibrated.accuracy;
      const out = sessionMetrics("", report.calibrated);
      if (report.plain) {
        // Same frozen backbone, no calibration: isolates what TEEN changes.
        plainAccuracies[taskIndex] = report.plain.accuracy;
        Object.assign(out, sessionMetrics("plain_", report.plain));
      }
      if (taskIndex === ctx.stream.numTasks - 1) {
        const s = fscilSummary(sessionAccuracies);
        out.fscil_avg = s.average;
        out.fscil_pd = s.performanceDrop;
        if (report.plain) {
          const p = fscilSummary(plainAccuracies);
          out.plain_fscil_avg = p.average;
          out.plain_fscil_pd = p.performanceDrop;
        }
      }
      return out;
    },
  };
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
