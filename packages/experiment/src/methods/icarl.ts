/** iCaRL (Rebuffi et al. 2017): herding exemplars, distillation from the previous model, nearest mean of exemplars. */
import { positiveInt } from "../config-loader.js";
import { SupervisedLearner } from "@mnemo/models";
import { icarl } from "@mnemo/replay/plugins";
import type { MemoryPolicy } from "@mnemo/replay";
import { z } from "zod";
import { defineMethod } from "../registry.js";
import { commonLearnerOptions, type MethodBuild, type MethodContext } from "./types.js";

const memorySchema = z
  .discriminatedUnion("policy", [
    z.strictObject({
      policy: z.literal("fixed-total").describe("K exemplars in total, split over the classes seen so far (old classes shrink)"),
      total: positiveInt().describe("K (iCaRL on CIFAR-100: 2000)"),
      rounding: z
        .enum(["floor", "ceil", "floor-spread"])
        .default("floor")
        .describe("Per-class quota: floor(K/k) (PyCIL), ceil(K/k) (iCaRL original, may exceed K), floor plus the remainder spread (uses exactly K)"),
    }),
    z.strictObject({
      policy: z.literal("per-class").describe("A fixed number per class: memory grows with the classes (PyCIL fixed_memory)"),
      per_class: positiveInt().describe("Exemplars per class (PyCIL: 20)"),
    }),
  ])
  .describe("Exemplar memory budget");

const distillationSchema = z
  .discriminatedUnion("kind", [
    z.strictObject({
      kind: z.literal("kd").describe("PyCIL: softmax CE + KD(old logits, new logits on old classes) at temperature T"),
      temperature: z.number().positive().default(2).describe("T of the softened softmax in the KD term (PyCIL: 2)"),
    }),
    z.strictObject({ kind: z.literal("bce").describe("Original iCaRL: sigmoid + binary CE with the old model's outputs as old-class targets") }),
  ])
  .describe("Distillation from the frozen previous model");

export const icarlSchema = z.strictObject({
  name: z.literal("icarl").describe("iCaRL: herding exemplar memory, distillation, nearest-mean-of-exemplars classifier"),
  memory: memorySchema,
  distillation: distillationSchema.prefault({ kind: "kd" }),
  classifier: z.enum(["nmc", "cnn"]).default("nmc").describe("nmc: nearest mean of exemplars (iCaRL); cnn: the trained head"),
  nmc: z.enum(["pycil", "icarl"]).default("pycil").describe("Class means: pycil = mean of n(phi(x)); icarl = also averaged with the flipped image (Theano code)"),
  herding: z.enum(["pycil", "icarl-theano"]).default("pycil").describe("Herding rule (algorithms.md §3.3)"),
  replay_batch_size: z
    .union([z.literal("proportional"), positiveInt()])
    .default("proportional")
    .describe("Exemplars per step: proportional = ceil(B·|E|/|D_t|), i.e. training on new data ∪ exemplars; or a fixed count"),
  feature_batch_size: positiveInt().default(256).describe("Images per forward pass when herding and computing class means"),
});

function memoryPolicy(m: z.output<typeof memorySchema>): MemoryPolicy {
  return m.policy === "per-class" ? { kind: "per-class", perClass: m.per_class } : { kind: "fixed-total", total: m.total, rounding: m.rounding };
}

export function buildIcarl(config: z.output<typeof icarlSchema>, ctx: MethodContext): MethodBuild {
  if (config.memory.policy === "fixed-total" && config.memory.rounding !== "ceil" && config.memory.total < ctx.stream.numClasses) {
    throw ctx.configError(
      "method.memory.total",
      `${config.memory.total} exemplars cannot hold one per class for the stream's ${ctx.stream.numClasses} classes; use at least ${ctx.stream.numClasses} (iCaRL on CIFAR-100: 2000)`,
    );
  }
  const plugin = icarl({
    rng: ctx.rng.scope("icarl"),
    sampleShape: ctx.stream.inputShape,
    numClasses: ctx.stream.numClasses,
    memory: memoryPolicy(config.memory),
    distillation: config.distillation.kind === "kd" ? { kind: "kd", temperature: config.distillation.temperature } : { kind: "bce" },
    classifier: config.classifier,
    nmc: config.nmc,
    herding: config.herding,
    replayBatchSize: config.replay_batch_size,
    featureBatchSize: config.feature_batch_size,
    augment: ctx.augment,
  });
  return {
    learner: new SupervisedLearner({
      ...commonLearnerOptions(ctx),
      plugins: [plugin, ...ctx.plugins],
      name: "icarl",
    }),
  };
}

export const icarlMethod = defineMethod({
  name: "icarl",
  description: "iCaRL (Rebuffi et al. 2017): herding exemplars, distillation, nearest mean of exemplars",
  schema: icarlSchema,
  acceptsPlugins: true,
  provides: (config) => (config.classifier === "nmc" ? ["scores"] : []),
  build: buildIcarl,
});
