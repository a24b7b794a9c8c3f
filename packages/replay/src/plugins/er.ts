/**
 * Experience replay (Mammoth `er`): every step trains on the stream batch plus an equally sized batch
 * drawn from a buffer, in one forward pass with one mean cross-entropy; after the step the stream
 * batch's raw (non-augmented) images are offered to the buffer.
 *
 * The buffer is a reservoir (Algorithm R, the default and Mammoth's) or class-balanced (quota +
 * per-class reservoir, algorithms.md §3.2, the memory split evenly over the classes seen so far with
 * the remainder spread: it uses exactly M slots). Both draw from the same stream "buffer", so the
 * default is unchanged by the option existing.
 */
import * as tf from "@tensorflow/tfjs";
import { pickLabels, ShapeError, type ImageSet, type Plugin, type PluginState, type RandomStreams } from "@mnemo/core";
import { ClassBalancedBuffer, type ClassBalancedState } from "../class-balanced.js";
import { ReservoirBuffer, type ReservoirState } from "../reservoir.js";
import type { ReplayBatch } from "../layout.js";
import { bufferContents } from "./image-sets.js";
import { appendRows, replayImages, type Augment } from "./replay-batch.js";

export type ErBufferKind = "reservoir" | "class_balanced";

export const ER_BUFFER_KINDS: readonly ErBufferKind[] = ["reservoir", "class_balanced"];

export interface ExperienceReplayOptions {
  /** This plugin's RNG streams (e.g. `rng.scope("er")`): the buffer draws from its stream "buffer". */
  rng: RandomStreams;
  /** M: samples kept. */
  capacity: number;
  /** Replayed samples per step (Mammoth `minibatch_size`; usually the training batch size). */
  replayBatchSize: number;
  /** [h, w, c] of the stream's images. */
  sampleShape: readonly [number, number, number];
  numClasses: number;
  /** The learner's train-time augmentation, applied to replayed images too. */
  augment?: Augment;
  /** Which buffer keeps the samples (see the module comment). Default "reservoir". */
  buffer?: ErBufferKind;
}

export interface ExperienceReplayPlugin extends Plugin {
  readonly buffer: ReservoirBuffer | ClassBalancedBuffer;
  readonly bufferKind: ErBufferKind;
  /** The stored samples (a copy, in slot order): what an NMC head rebuilds old classes' means from. */
  stored(): ImageSet;
  state(): PluginState;
  loadState(state: PluginState): void;
}

function makeBuffer(kind: ErBufferKind, options: ExperienceReplayOptions): ReservoirBuffer | ClassBalancedBuffer {
  const common = { sampleShape: options.sampleShape, numClasses: options.numClasses, seed: options.rng.stream("buffer") };
  switch (kind) {
    case "reservoir":
      return new ReservoirBuffer({ ...common, capacity: options.capacity });
    case "class_balanced":
      return new ClassBalancedBuffer({ ...common, policy: { kind: "fixed-total", total: options.capacity, rounding: "floor-spread" } });
    default:
      throw new ShapeError(`experienceReplay: buffer must be one of ${ER_BUFFER_KINDS.join(", ")}, got ${JSON.stringify(kind)}`);
  }
}

export function experienceReplay(options: ExperienceReplayOptions): ExperienceReplayPlugin {
  const bufferKind = options.buffer ?? "reservoir";
  const buffer = makeBuffer(bufferKind, options);
  const replay: ReplayBatch = buffer.createBatch(options.replayBatchSize);

  return {
    name: "er",
    buffer,
    bufferKind,
    stored: () => bufferContents(buffer, options.sampleShape),
    onBatch(event) {
      const { batch, context } = event;
      // Sample before inserting: the current batch is not replayed in its own step (as in Mammoth).
      const n = buffer.sample(options.replayBatchSize, replay);
      if (n === 0) return;
      const x = replayImages(replay.images, n, options.sampleShape, context.stream.normalization, options.augment);
      const y = tf.tensor1d(replay.labels.subarray(0, n), "int32");
      const out = appendRows(batch, x, y);
      x.dispose();
      y.dispose();
      return out;
    },
    onStepEnd({ batch, task }) {
      buffer.addBatch({ images: batch.raw, labels: pickLabels(task.train, batch.indices) });
    },
    state: () => ({ buffer: buffer.state() }),
    loadState(state) {
      if (buffer instanceof ReservoirBuffer) buffer.load(state.buffer as ReservoirState);
      else buffer.load(state.buffer as ClassBalancedState);
    },
  };
}
