/**
 * Joint training, the upper bound: at task i a freshly initialised model is trained on the union of the
 * training sets of tasks 0..i (Avalanche `JointTraining` / Mammoth `joint`, evaluated after every task).
 */
import type { ImageSet, Task } from "@mnemo/core";
import { concatImageSets } from "./image-sets.js";
import { RetrainLearner } from "./retrain-learner.js";

export class JointLearner extends RetrainLearner {
  readonly name = "joint";
  private union: ImageSet | null = null;

  protected admit(task: Task): void {
    this.union = this.union ? concatImageSets([this.union, task.train]) : concatImageSets([task.train]);
  }

  protected trainingSet(): ImageSet {
    if (!this.union) throw new Error("joint: trainingSet() before any task was admitted");
    return this.union;
  }

  protected saveOwnState(): Record<string, unknown> {
    const u = this.union;
    return { union: u ? { images: u.images, labels: u.labels, count: u.count, shape: [...u.shape] } : null };
  }

  protected loadOwnState(state: Record<string, unknown>): void {
    const u = state.union as (ImageSet & { shape: [number, number, number] }) | null;
    this.union = u ? { images: Uint8Array.from(u.images), labels: Int32Array.from(u.labels), count: u.count, shape: [u.shape[0], u.shape[1], u.shape[2]] } : null;
  }
}
