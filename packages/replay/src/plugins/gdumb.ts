/**
 * GDumb (Prabhu et al. 2020): a greedy class-balanced buffer fed with each task's data (in a seeded random
 * order), and at each task end a model trained from scratch on the buffer alone (Avalanche `GDumbPlugin`
 * semantics: retrain per experience, so every row of the accuracy matrix is GDumb's).
 */
import type { ImageSet, Task } from "@mnemo/core";
import { GDumbBuffer, type GDumbState } from "../gdumb.js";
import { RetrainLearner, type RetrainLearnerOptions } from "./retrain-learner.js";
import { packRows as packImages, pickLabels } from "@mnemo/core";

export interface GDumbLearnerOptions extends RetrainLearnerOptions {
  capacity: number;
  numClasses: number;
  sampleShape: readonly [number, number, number];
}

export class GDumbLearner extends RetrainLearner {
  readonly name = "gdumb";
  readonly buffer: GDumbBuffer;

  constructor(options: GDumbLearnerOptions) {
    super(options);
    this.buffer = new GDumbBuffer({ sampleShape: options.sampleShape, capacity: options.capacity, numClasses: options.numClasses, seed: options.rng.stream("buffer") });
  }

  protected admit(task: Task): void {
    const order = this.options.rng.stream("buffer-order").permutation(task.train.count);
    this.buffer.addBatch({ images: packImages(task.train, order), labels: pickLabels(task.train, order) });
  }

  protected trainingSet(task: Task): ImageSet {
    const slots = Array.from(this.buffer.slots()).sort((a, b) => a - b);
    const bytes = this.buffer.sampleBytes;
    const images = new Uint8Array(slots.length * bytes);
    const labels = new Int32Array(slots.length);
    slots.forEach((s, i) => {
      images.set(this.buffer.imageAt(s), i * bytes);
      labels[i] = this.buffer.labelAt(s);
    });
    return { images, labels, count: slots.length, shape: task.train.shape };
  }

  protected saveOwnState(): Record<string, unknown> {
    return { buffer: this.buffer.state() };
  }

  protected loadOwnState(state: Record<string, unknown>): void {
    this.buffer.load(state.buffer as GDumbState);
  }
}
