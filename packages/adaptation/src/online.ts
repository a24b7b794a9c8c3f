/**
 * The online protocol (reference §2.1): a domain's images in their order, batch by batch; each
 * batch's prediction comes from the adapter's own forward on it, before it adapts. The loop gets
 * images only (core's `UnlabelledSet` has no `labels` field); the caller scores the predictions
 * with labels it keeps to itself.
 */
import * as tf from "@tensorflow/tfjs";
import type { ImageSet, UnlabelledSet } from "@mnemo/core";
import type { Adapter } from "./adapters.js";

/** The images of a labelled set in a new object without its labels: what adaptation is given. */
export function withoutLabels(set: ImageSet, limit?: number): UnlabelledSet {
  const count = Math.min(set.count, limit ?? set.count);
  const size = set.shape[0] * set.shape[1] * set.shape[2];
  return { images: set.images.subarray(0, count * size), count, shape: set.shape };
}

export interface OnlineOptions {
  batchSize: number;
  /** Called with each batch's predicted classes (argmax of the logits) and its first index. */
  onPredictions: (start: number, predicted: Int32Array) => void;
  /** Checked between batches; true stops the pass (the caller resumes from its last checkpoint). */
  shouldStop?: () => boolean;
}

/** One online pass of `adapter` over `target`; returns the number of images predicted. */
export function adaptOnline(adapter: Adapter, target: UnlabelledSet, options: OnlineOptions): number {
  // A labelled set is assignable to UnlabelledSet in TypeScript; refuse it here, at run time.
  if ("labels" in target) throw new Error("adaptOnline: the target carries labels; adaptation is given images only: pass withoutLabels(set) and score with a DomainScorer");
  const [h, w, c] = target.shape;
  const size = h * w * c;
  let done = 0;
  for (let start = 0; start < target.count; start += options.batchSize) {
    if (options.shouldStop?.()) break;
    const n = Math.min(options.batchSize, target.count - start);
    const x = tf.tidy(() => tf.div(tf.tensor4d(target.images.subarray(start * size, (start + n) * size), [n, h, w, c], "float32"), 255) as tf.Tensor4D);
    const logits = adapter.step(x);
    const predicted = tf.tidy(() => tf.argMax(logits, 1));
    const values = predicted.dataSync() as Int32Array;
    tf.dispose([x, logits, predicted]);
    options.onPredictions(start, Int32Array.from(values));
    done += n;
  }
  return done;
}

/** Correct / total of one domain, from predictions and the labels the scorer alone holds. */
export class DomainScorer {
  correct = 0;
  total = 0;
  constructor(private readonly labels: Int32Array) {}
  score(start: number, predicted: Int32Array): void {
    for (let i = 0; i < predicted.length; i++) if (predicted[i] === this.labels[start + i]) this.correct++;
    this.total += predicted.length;
  }
  /** Error in percent. */
  get error(): number {
    return this.total === 0 ? Number.NaN : (100 * (this.total - this.correct)) / this.total;
  }
}
