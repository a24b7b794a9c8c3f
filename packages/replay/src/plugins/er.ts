/**
 * Experience replay (Mammoth `er`): every step trains on the stream batch plus an equally sized batch
 * drawn from a reservoir buffer, in one forward pass with one mean cross-entropy; after the step the
 * stream batch's raw (non-augmented) images are offered to the reservoir.
 */
import * as tf from "@tensorflow/tfjs";
import { pickLabels, type Plugin, type PluginState, type RandomStreams } from "@mnemo/core";
import { ReservoirBuffer, type ReservoirState } from "../reservoir.js";
import type { ReplayBatch } from "../layout.js";
import { appendRows, replayImages, type Augment } from "./replay-batch.js";

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
}

export interface ExperienceReplayPlugin extends Plugin {
  readonly buffer: ReservoirBuffer;
  state(): PluginState;
  loadState(state: PluginState): void;
}

export function experienceReplay(options: ExperienceReplayOptions): ExperienceReplayPlugin {
  const buffer = new ReservoirBuffer({
    sampleShape: options.sampleShape,
    capacity: options.capacity,
    numClasses: options.numClasses,
    seed: options.rng.stream("buffer"),
  });
  const replay: ReplayBatch = buffer.createBatch(options.replayBatchSize);

  return {
    name: "er",
    buffer,
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
      buffer.load(state.buffer as ReservoirState);
    },
  };
}
