/** Experience replay (Mammoth `er`): a reservoir (or class-balanced) buffer, one replay batch per step. */
import { positiveInt } from "../config-loader.js";
import { SupervisedLearner } from "@mnemo/models";
import { ER_BUFFER_KINDS, experienceReplay, type ErBufferKind } from "@mnemo/replay/plugins";
import { z } from "zod";
import { defineMethod } from "../registry.js";
import { commonLearnerOptions, offerBuffer, offerExemplars, type MethodBuild, type MethodContext } from "./types.js";

export const erSchema = z.strictObject({
  name: z.literal("er").describe("Experience replay: stream batch + a batch from a reservoir buffer (Mammoth ER)"),
  memory_size: positiveInt().describe("Samples kept in the reservoir (M), e.g. 500 for Split-MNIST, 2000 for CIFAR-100"),
  replay_batch_size: positiveInt().optional().describe("Replayed samples per step (default: training.batch_size)"),
  buffer: z
    .enum(ER_BUFFER_KINDS as [ErBufferKind, ...ErBufferKind[]])
    .default("reservoir")
    .describe("reservoir: Algorithm R over the whole stream (Mammoth); class_balanced: M split evenly over the classes seen so far, a reservoir within each class (algorithms.md §3.2)"),
});

export function buildEr(config: z.output<typeof erSchema>, ctx: MethodContext): MethodBuild {
  const plugin = experienceReplay({
    rng: ctx.rng.scope("er"),
    capacity: config.memory_size,
    replayBatchSize: config.replay_batch_size ?? ctx.training.batchSize,
    sampleShape: ctx.stream.inputShape,
    numClasses: ctx.stream.numClasses,
    augment: ctx.augment,
    buffer: config.buffer,
  });
  offerExemplars(ctx.plugins, () => plugin.stored());
  // self_training with admit_pseudo_labels: its pseudo-labelled rows join the reservoir after each step.
  offerBuffer(ctx.plugins, (rows) => plugin.buffer.addBatch(rows));
  return {
    learner: new SupervisedLearner({
      ...commonLearnerOptions(ctx),
      plugins: [plugin, ...ctx.plugins],
      name: "er",
    }),
  };
}

export const erMethod = defineMethod({
  name: "er",
  description: "Experience replay: stream batch + a batch from a reservoir or class-balanced buffer (Mammoth ER)",
  schema: erSchema,
  acceptsPlugins: true,
  build: buildEr,
});
