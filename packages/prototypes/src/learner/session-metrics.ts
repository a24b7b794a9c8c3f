import { fscilSessionMetrics, ShapeError, type FscilSessionMetrics } from "@mnemo/core";

/** Per-class counts of correct predictions and of samples, for classes 0..numClasses-1. */
export function perClassCounts(predicted: ArrayLike<number>, labels: ArrayLike<number>, numClasses: number): { correct: number[]; total: number[] } {
  if (predicted.length !== labels.length) throw new ShapeError(`${predicted.length} predictions for ${labels.length} labels`);
  const correct = new Array<number>(numClasses).fill(0);
  const total = new Array<number>(numClasses).fill(0);
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i] as number;
    if (!(y >= 0 && y < numClasses)) throw new ShapeError(`label ${y} at row ${i} is outside the ${numClasses} seen classes`);
    total[y]++;
    if (predicted[i] === y) correct[y]++;
  }
  return { correct, total };
}

/** FSCIL session metrics (algorithms.md §1) of predictions over the test images of every seen class. */
export function sessionMetrics(predicted: ArrayLike<number>, labels: ArrayLike<number>, numSeenClasses: number, numBaseClasses: number): FscilSessionMetrics {
  const { correct, total } = perClassCounts(predicted, labels, numSeenClasses);
  return fscilSessionMetrics(correct, total, numBaseClasses);
}
