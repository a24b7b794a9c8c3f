/**
 * Which training samples the learner's current stream batch holds.
 *
 * Buffers store raw uint8 images (Mammoth stores the non-augmented inputs), but a plugin only sees the
 * float, possibly augmented batch. `SupervisedLearner` draws each epoch's order as
 * `rng.stream("batching").permutation(n)` and cuts it into consecutive batches, so a copy of that stream
 * taken at task start yields the very same indices without consuming the learner's stream. Every batch is
 * checked against its labels, so a change in the learner's batching fails loudly instead of silently
 * storing the wrong images. (If `Batch` ever carries its indices, this class reduces to reading them.)
 */
import type * as tf from "@tensorflow/tfjs";
import { MnemoError, RandomStream, type BatchEvent, type ImageSet, type RandomStreamState, type SeededRng } from "@mnemo/core";

export interface StreamTapState {
  rng: RandomStreamState | null;
  order: Int32Array;
  batchSize: number;
}

/** Raw stream rows of one batch: packed uint8 images and their labels. */
export interface StreamRows {
  indices: Int32Array;
  images: Uint8Array;
  labels: Int32Array;
}

export class StreamTap {
  private copy: RandomStream | null = null;
  private order = new Int32Array(0);
  private batchSize = 0;

  constructor(
    private readonly rng: SeededRng,
    private readonly streamName = "batching",
  ) {}

  /** Call from `onTaskStart`, before the learner draws its first permutation of the task. */
  taskStart(): void {
    this.copy = new RandomStream(0);
    this.copy.setState(this.rng.stream(this.streamName).getState());
  }

  /** The stream rows (rows 0..streamCount-1) of the batch in `event`, copied out of the task's train set. */
  rows(event: BatchEvent): StreamRows {
    const { task, batch, iteration } = event;
    const set = task.train;
    const count = batch.streamCount;
    if (iteration === 0) {
      if (!this.copy) throw new MnemoError("REPLAY_TAP", "StreamTap.rows() before taskStart(): call taskStart() from the plugin's onTaskStart");
      this.order = Int32Array.from(this.copy.permutation(set.count));
      this.batchSize = count;
    }
    const start = iteration * this.batchSize;
    const indices = this.order.slice(start, start + count);
    checkLabels(indices, set, batch.y);
    return { indices, images: packImages(set, indices), labels: pickLabels(set, indices) };
  }

  state(): StreamTapState {
    return { rng: this.copy ? this.copy.getState() : null, order: this.order.slice(), batchSize: this.batchSize };
  }

  loadState(state: StreamTapState): void {
    if (state.rng) {
      this.copy = new RandomStream(0);
      this.copy.setState(state.rng);
    } else this.copy = null;
    this.order = Int32Array.from(state.order);
    this.batchSize = state.batchSize;
  }
}

function checkLabels(indices: Int32Array, set: ImageSet, y: tf.Tensor1D): void {
  const got = y.dataSync();
  for (let k = 0; k < indices.length; k++) {
    if (indices[k] === undefined || set.labels[indices[k] as number] !== got[k]) {
      throw new MnemoError(
        "REPLAY_TAP",
        `replay: could not match stream batch row ${k} to the task's training set (the learner's batching changed?); replay plugins need SupervisedLearner's "batching" order`,
      );
    }
  }
}

/** Packed uint8 images of the given rows. */
export function packImages(set: ImageSet, indices: ArrayLike<number>): Uint8Array {
  const [h, w, c] = set.shape;
  const size = h * w * c;
  const out = new Uint8Array(indices.length * size);
  for (let k = 0; k < indices.length; k++) {
    const src = (indices[k] as number) * size;
    out.set(set.images.subarray(src, src + size), k * size);
  }
  return out;
}

export function pickLabels(set: ImageSet, indices: ArrayLike<number>): Int32Array {
  const out = new Int32Array(indices.length);
  for (let k = 0; k < indices.length; k++) out[k] = set.labels[indices[k] as number] as number;
  return out;
}
