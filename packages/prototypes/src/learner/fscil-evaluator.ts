import { fscilSessionMetrics, type FscilSessionMetrics, type TaskStream } from "@mnemo/core";
import type { DenseMatrix } from "../dense.js";
import type { TeenClassifier } from "../teen.js";
import type { FscilPrototypeLearner } from "./fscil-learner.js";
import { perClassCounts } from "./session-metrics.js";

export interface FscilSessionReport {
  session: number;
  /** Metrics of the classifier `predict` uses. */
  calibrated: FscilSessionMetrics;
  /** The same backbone with uncalibrated prototypes; null when the learner runs without TEEN. */
  plain: FscilSessionMetrics | null;
}

/**
 * Per-class FSCIL metrics (base / novel / HM need the confusion diagonal, which the accuracy
 * matrix does not have). Test features are computed once per task and reused in later sessions:
 * the backbone is frozen after the base session, and the cache is dropped if it ever changes.
 */
export class FscilEvaluator {
  private readonly cache = new Map<number, { features: DenseMatrix; labels: Int32Array }>();
  private revision = -1;

  constructor(
    private readonly learner: FscilPrototypeLearner,
    private readonly stream: TaskStream,
  ) {}

  async session(index: number): Promise<FscilSessionReport> {
    if (this.learner.backboneRevision !== this.revision) {
      this.cache.clear();
      this.revision = this.learner.backboneRevision;
    }
    const numBase = this.stream.taskClasses[0]?.length ?? 0;
    const seen = new Set(this.stream.taskClasses.slice(0, index + 1).flat()).size;
    const calibrated = this.learner.prototypeClassifier;
    const plain = this.learner.plainClassifier;
    const counts = (clf: TeenClassifier, sets: { features: DenseMatrix; labels: Int32Array }[]): FscilSessionMetrics => {
      const correct = new Array<number>(seen).fill(0);
      const total = new Array<number>(seen).fill(0);
      for (const set of sets) {
        const c = perClassCounts(clf.predict(set.features), set.labels, seen);
        c.correct.forEach((v, k) => (correct[k] = (correct[k] as number) + v));
        c.total.forEach((v, k) => (total[k] = (total[k] as number) + v));
      }
      return fscilSessionMetrics(correct, total, numBase);
    };
    const sets = [];
    for (let j = 0; j <= index; j++) sets.push(await this.testFeatures(j));
    return { session: index, calibrated: counts(calibrated, sets), plain: plain ? counts(plain, sets) : null };
  }

  private async testFeatures(task: number): Promise<{ features: DenseMatrix; labels: Int32Array }> {
    const hit = this.cache.get(task);
    if (hit) return hit;
    const set = await this.stream.testSet(task);
    const entry = { features: await this.learner.embed(set, this.stream.normalization), labels: set.labels };
    this.cache.set(task, entry);
    return entry;
  }
}
