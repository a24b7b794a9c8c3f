/**
 * GDumb (Prabhu et al. 2020): a greedy class-balanced buffer fed with each task's data (in a seeded random
 * order), and at each task end a model trained from scratch on the buffer alone (Avalanche `GDumbPlugin`
 * semantics: retrain per experience, so every row of the accuracy matrix is GDumb's).
 */
import type { Task } from "@mnemo/core";
import { GDumbBuffer, type GDumbState } from "../gdumb.js";
import { RetrainLearner, type RetrainLearnerOptions, type SavedModel } from "./retrain-learner.js";
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

  protected trainingSet(task: Task): ReturnType<RetrainLearner["trainingSet"]> {
    const order = this.options.rng.stream("buffer-order").permutation(task.train.count);
    this.buffer.addBatch({ images: packImages(task.train, order), labels: pickLabels(task.train, order) });
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

  async saveState(): Promise<Record<string, unknown>> {
    return { buffer: this.buffer.state(), seen: [...this.seen], model: this.savedModel() };
  }

  async loadState(state: Record<string, unknown>): Promise<void> {
    this.buffer.load(state.buffer as GDumbState);
    this.seen.clear();
    for (const c of state.seen as number[]) this.seen.add(c);
    this.restoreModel(state.model as SavedModel | null);
  }
}
