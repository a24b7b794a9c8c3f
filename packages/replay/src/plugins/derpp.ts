/**
 * DER++ (Buzzega et al. 2020; Mammoth `derpp`). The reservoir stores each stream sample with the logits
 * the network gave it when it was trained on (training-time outputs on the augmented input, as Mammoth).
 * Each step draws two independent replay batches: on the first the current logits are pulled towards the
 * stored ones (α·MSE), on the second the labels are replayed (β·CE):
 *
 *   loss = CE(stream) + α·MSE(z(x′), z_stored) + β·CE(z(x″), y″)
 *
 * All rows go through one forward pass; the learner's mean CE over all rows is reweighted to exactly the
 * objective above. The head may grow: logits stored when it was narrower are compared on their own
 * columns only (the stored width is kept per sample).
 */
import * as tf from "@tensorflow/tfjs";
import { pickLabels, ShapeError, type ImageSet, type Plugin, type PluginState, type RandomStreams } from "@mnemo/core";
import { ReservoirBuffer, type ReservoirState } from "../reservoir.js";
import type { ReplayBatch } from "../layout.js";
import { bufferContents } from "./image-sets.js";
import { appendRows, replayImages, reweightCrossEntropy, type Augment } from "./replay-batch.js";

export interface DerppOptions {
  /** This plugin's RNG streams (e.g. `rng.scope("derpp")`): the buffer draws from its stream "buffer". */
  rng: RandomStreams;
  capacity: number;
  /** Samples per replay batch (each of the two). */
  replayBatchSize: number;
  sampleShape: readonly [number, number, number];
  /** Classes of the whole stream: the widest head whose logits can be stored. */
  numClasses: number;
  /** Weight of the logit-matching term (Buzzega et al.: 0.1–0.3). */
  alpha: number;
  /** Weight of the replayed-label CE (Buzzega et al.: 0.5–1). 0 gives plain DER. */
  beta: number;
  augment?: Augment;
}

export interface DerppPlugin extends Plugin {
  readonly buffer: ReservoirBuffer;
  /** The stored samples (a copy, in slot order): what an NMC head rebuilds old classes' means from. */
  stored(): ImageSet;
  state(): PluginState;
  loadState(state: PluginState): void;
}

/**
 * Mean squared error between current and stored logits over the stored entries only (`mask` is 1 where a
 * stored value exists: columns beyond the head width at storage time are 0). Mammoth's F.mse_loss is the
 * mean over all entries of a fixed-width head; with a growing head the mean runs over the stored columns.
 */
export function logitMatchingLoss(current: tf.Tensor2D, stored: tf.Tensor2D, mask: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => tf.div(tf.sum(tf.mul(mask, tf.square(tf.sub(current, stored)))), tf.maximum(tf.sum(mask), 1)) as tf.Scalar);
}

const LOGITS = "logits";
const WIDTH = "width";

export function derpp(options: DerppOptions): DerppPlugin {
  const { alpha, beta, numClasses, replayBatchSize: b } = options;
  if (!(alpha >= 0) || !(beta >= 0)) throw new ShapeError(`DER++: alpha and beta must be >= 0, got alpha=${alpha} beta=${beta}`);
  const buffer = new ReservoirBuffer({
    sampleShape: options.sampleShape,
    capacity: options.capacity,
    numClasses,
    fields: { [LOGITS]: { type: "float32", width: numClasses }, [WIDTH]: { type: "int32", width: 1 } },
    seed: options.rng.stream("buffer"),
  });
  const first: ReplayBatch = buffer.createBatch(b);
  const second: ReplayBatch = buffer.createBatch(b);
  let pendingLogits: { data: Float32Array; width: number } | null = null;
  /** Rows of the current batch: [stream | logit replay (n1) | label replay (n2)]. */
  let n1 = 0;
  let n2 = 0;

  return {
    name: "derpp",
    buffer,
    stored: () => bufferContents(buffer, options.sampleShape),
    onBatch(event) {
      const { batch, context, model } = event;
      n1 = buffer.sample(b, first);
      n2 = n1 === 0 ? 0 : buffer.sample(b, second);
      if (n1 === 0) return;
      const width = model.numClasses;
      const target = new Float32Array(n1 * width);
      const mask = new Float32Array(n1 * width);
      for (let i = 0; i < n1; i++) {
        const w = Math.min(width, first.fields[WIDTH]?.[i] as number);
        for (let j = 0; j < w; j++) {
          target[i * width + j] = first.fields[LOGITS]?.[i * numClasses + j] as number;
          mask[i * width + j] = 1;
        }
      }
      const norm = context.stream.normalization;
      const x1 = replayImages(first.images, n1, options.sampleShape, norm, options.augment);
      const x2 = replayImages(second.images, n2, options.sampleShape, norm, options.augment);
      const x = tf.concat([x1, x2]);
      const y = tf.tensor1d(Int32Array.from([...first.labels.subarray(0, n1), ...second.labels.subarray(0, n2)]), "int32");
      const out = appendRows(batch, x, y, { derppTarget: tf.tensor2d(target, [n1, width]), derppMask: tf.tensor2d(mask, [n1, width]) });
      tf.dispose([x1, x2, x, y]);
      return out;
    },
    lossTerms({ batch, logits }) {
      const s = batch.streamCount;
      const width = logits.shape[1];
      // Training-time outputs of the stream rows: stored with them after the step.
      pendingLogits = { data: tf.tidy(() => logits.slice([0, 0], [s, width]).dataSync() as Float32Array), width };
      if (n1 === 0) return;
      const n = logits.shape[0];
      const rowWeights = new Float32Array(n);
      for (let i = 0; i < s; i++) rowWeights[i] = 1 / s;
      for (let i = s + n1; i < n; i++) rowWeights[i] = beta / n2;
      const target = batch.extras?.derppTarget as tf.Tensor2D;
      const mask = batch.extras?.derppMask as tf.Tensor2D;
      return tf.tidy(() => {
        const mse = logitMatchingLoss(logits.slice([s, 0], [n1, width]), target, mask);
        return tf.add(reweightCrossEntropy(logits, batch.y, rowWeights), tf.mul(mse, alpha)) as tf.Scalar;
      });
    },
    onStepEnd({ batch, task }) {
      if (!pendingLogits) return;
      const count = batch.streamCount;
      const stored = new Float32Array(count * numClasses);
      const { data, width } = pendingLogits;
      for (let i = 0; i < count; i++) stored.set(data.subarray(i * width, (i + 1) * width), i * numClasses);
      buffer.addBatch({ images: batch.raw, labels: pickLabels(task.train, batch.indices), fields: { [LOGITS]: stored, [WIDTH]: new Int32Array(count).fill(width) } });
      pendingLogits = null;
    },
    state: () => ({ buffer: buffer.state() }),
    loadState(state) {
      buffer.load(state.buffer as ReservoirState);
    },
  };
}
