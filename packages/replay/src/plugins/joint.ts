/**
 * Joint training, the upper bound: at task i a freshly initialised model is trained on the union of the
 * training sets of tasks 0..i (Avalanche `JointTraining` / Mammoth `joint`, evaluated after every task).
 */
import type { ImageSet, Task } from "@mnemo/core";
import { concatImageSets } from "./image-sets.js";
import { RetrainLearner, type SavedModel } from "./retrain-learner.js";

export class JointLearner extends RetrainLearner {
  readonly name = "joint";
  private union: ImageSet | null = null;

  protected trainingSet(task: Task): ImageSet {
    this.union = this.union ? concatImageSets([this.union, task.train]) : concatImageSets([task.train]);
    return this.union;
  }

  async saveState(): Promise<Record<string, unknown>> {
    const u = this.union;
    return { seen: [...this.seen], union: u ? { images: u.images, labels: u.labels, count: u.count, shape: [...u.shape] } : null, model: this.savedModel() };
  }

  async loadState(state: Record<string, unknown>): Promise<void> {
    this.seen.clear();
    for (const c of state.seen as number[]) this.seen.add(c);
    const u = state.union as (ImageSet & { shape: [number, number, number] }) | null;
    this.union = u ? { images: Uint8Array.from(u.images), labels: Int32Array.from(u.labels), count: u.count, shape: [u.shape[0], u.shape[1], u.shape[2]] } : null;
    this.restoreModel(state.model as SavedModel | null);
  }
}
