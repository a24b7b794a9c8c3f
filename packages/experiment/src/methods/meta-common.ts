/**
 * What the episodic meta-learning methods (maml, fomaml, anil) share: their config keys, with
 * defaults from algorithms.md §8.2 (Omniglot 5-way 1-shot), and the builder of their learner.
 * The episode shapes (ways, shots, queries, meta-test count) belong to `stream:`, since they
 * define the task distribution; these keys are the algorithm's.
 */
import { isEpisodicStream } from "@mnemo/data";
import { MetaLearner } from "@mnemo/meta";
import { z } from "zod";
import type { MethodBuild, MethodContext } from "./types.js";

const positiveInt = () => z.number().int().min(1);

export const metaKeys = {
  inner_lr: z
    .number()
    .min(0)
    .default(0.5)
    .describe("Inner learning rate α on a MEAN cross-entropy (learn2learn's 0.5; cbfinn's 0.4 is on a loss summed over the N·K support images, = 2.0 here for 5-way 1-shot, algorithms.md §8.1)"),
  inner_steps: z.number().int().min(0).default(1).describe("Inner SGD steps during meta-training"),
  test_inner_steps: z.number().int().min(0).default(10).describe("Inner SGD steps at meta-validation and meta-test"),
  meta_batch: positiveInt().default(32).describe("Episodes per outer step (B)"),
  iterations: positiveInt().default(60000).describe("Outer (meta) steps"),
  meta_lr: z.number().positive().default(1e-3).describe("Outer Adam learning rate β"),
  validate_every: positiveInt().default(500).describe("Meta-validate every this many iterations and keep the best parameters (needs stream.classes.validation)"),
  validation_episodes: positiveInt().default(100).describe("Meta-val episodes per validation (the same episodes every time)"),
  checkpoint_every: positiveInt().default(100).describe("Write a mid-meta-training checkpoint every this many iterations (exact resume after a kill)"),
  log_every: positiveInt().default(10).describe("Log the meta-train loss (and query accuracy) every this many iterations"),
  baseline: z.boolean().default(false).describe("Also meta-test the random initialisation (fine-tuning from scratch with test_inner_steps): the no-meta-training baseline"),
};

export interface MetaConfig {
  name: string;
  inner_lr: number;
  inner_steps: number;
  test_inner_steps: number;
  meta_batch: number;
  iterations: number;
  meta_lr: number;
  validate_every: number;
  validation_episodes: number;
  checkpoint_every: number;
  log_every: number;
  baseline: boolean;
}

export function buildMetaLearner(config: MetaConfig, ctx: MethodContext, variant: { firstOrder: boolean; adaptPrefixes?: string[] }): MethodBuild {
  const stream = ctx.stream;
  if (!isEpisodicStream(stream)) {
    throw ctx.configError("method.name", `${config.name} meta-learns from episodes; use stream.kind: meta-learning (this stream is ${stream.scenario})`);
  }
  if (!variant.firstOrder && !ctx.backbone.supportsSecondOrder) {
    throw ctx.configError("model.backbone", `second-order ${config.name} needs a backbone that can be differentiated twice (mlp, conv4); use fomaml for ${ctx.backbone.name}`);
  }
  if (stream.episodes.ways !== stream.testEpisodes.ways) {
    throw ctx.configError("stream.test_episodes.ways", `must equal stream.episodes.ways (${stream.episodes.ways}): the head has one output per way`);
  }
  const learner = new MetaLearner({
    name: config.name,
    backbone: ctx.backbone,
    rng: ctx.rng,
    episodes: stream.episodes,
    testEpisodes: stream.testEpisodes,
    validationEpisodes: config.validation_episodes,
    innerLr: config.inner_lr,
    innerSteps: config.inner_steps,
    testInnerSteps: config.test_inner_steps,
    firstOrder: variant.firstOrder,
    adaptPrefixes: variant.adaptPrefixes,
    metaBatch: config.meta_batch,
    iterations: config.iterations,
    metaLr: config.meta_lr,
    optimizer: { name: "adam" },
    validateEvery: config.validate_every,
    checkpointEvery: config.checkpoint_every,
    logEvery: config.log_every,
    baseline: config.baseline,
    normalization: stream.normalization,
    quiet: ctx.quiet,
  });
  return {
    learner,
    async afterTask() {
      const r = learner.record;
      const out: Record<string, number> = {};
      if (r.test) Object.assign(out, { meta_test_accuracy: r.test.mean, meta_test_ci95: r.test.ci95, meta_test_episodes: r.test.episodes });
      if (r.baseline) Object.assign(out, { meta_test_baseline_accuracy: r.baseline.mean, meta_test_baseline_ci95: r.baseline.ci95 });
      const best = r.validation.reduce((m, v) => Math.max(m, v.accuracy), Number.NEGATIVE_INFINITY);
      if (Number.isFinite(best)) out.meta_val_best_accuracy = best;
      if (r.selectedIteration !== null) out.selected_iteration = r.selectedIteration;
      return out;
    },
    report: () => ({ meta: learner.record }),
  };
}
