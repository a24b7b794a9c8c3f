/**
 * Builder shared by the continual meta-learning methods (mamlcon, oml): meta-training on the
 * meta-train classes, then the continual few-shot protocol of `stream.continual` on the meta-test
 * classes (accuracy matrix over the chunks; ACC, BWT and forgetting from core's metrics module).
 */
import { isEpisodicStream } from "@mnemo/data";
import { ContinualMetaLearner, type ContinualMetaLearnerOptions } from "@mnemo/meta";
import type { MethodBuild, MethodContext } from "./types.js";

export type ContinualSettings = Omit<ContinualMetaLearnerOptions, "backbone" | "rng" | "episodes" | "continual" | "normalization" | "quiet">;

export function buildContinualMetaLearner(settings: ContinualSettings, ctx: MethodContext): MethodBuild {
  const stream = ctx.stream;
  if (!isEpisodicStream(stream)) {
    throw ctx.configError("method.name", `${settings.method} meta-learns from episodes; use stream.kind: meta-learning with a continual: section`);
  }
  if (!stream.continual) {
    throw ctx.configError("stream.kind", `${settings.method} is evaluated with the continual few-shot protocol: add stream.continual: { chunks, ways, shots, queries }`);
  }
  if (settings.method === "oml" && !ctx.backbone.supportsSecondOrder) {
    throw ctx.configError("model.backbone", `OML's meta-gradient is second order; ${ctx.backbone.name} cannot be differentiated twice (use mlp or conv4)`);
  }
  if (settings.method === "mamlcon" && stream.episodes.ways < settings.startClasses) {
    throw ctx.configError("method.start_classes", `must be at most stream.episodes.ways (${stream.episodes.ways})`);
  }
  const learner = new ContinualMetaLearner({
    ...settings,
    backbone: ctx.backbone,
    rng: ctx.rng,
    episodes: stream.episodes,
    continual: stream.continual,
    normalization: stream.normalization,
    quiet: ctx.quiet,
  });
  return {
    learner,
    async afterTask() {
      const r = learner.record;
      const out: Record<string, number> = {};
      if (r.acc !== null) out.continual_acc = r.acc;
      if (r.bwt !== null) out.continual_bwt = r.bwt;
      if (r.forgetting !== null) out.continual_forgetting = r.forgetting;
      return out;
    },
    report: () => ({ meta: learner.record }),
  };
}
