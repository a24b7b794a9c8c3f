import { MLFLOW_LIMITS } from "./limits.js";
import type { LogBatch } from "./types.js";

/**
 * Splits a batch into requests MLflow accepts: at most 1000 metrics, 100 params, 100 tags and
 * 1000 entities in total per log-batch call. Params and tags go first so that a run's
 * configuration lands before its (larger) metric stream.
 */
export function chunkBatch(batch: LogBatch, limits: typeof MLFLOW_LIMITS = MLFLOW_LIMITS): LogBatch[] {
  const out: LogBatch[] = [];
  let m = 0;
  let p = 0;
  let t = 0;
  while (m < batch.metrics.length || p < batch.params.length || t < batch.tags.length) {
    const params = batch.params.slice(p, p + limits.maxParamsPerBatch);
    p += params.length;
    const tags = batch.tags.slice(t, t + limits.maxTagsPerBatch);
    t += tags.length;
    const room = Math.min(limits.maxMetricsPerBatch, limits.maxEntitiesPerBatch - params.length - tags.length);
    const metrics = batch.metrics.slice(m, m + room);
    m += metrics.length;
    out.push({ metrics, params, tags });
  }
  return out;
}

export function batchSize(batch: LogBatch): number {
  return batch.metrics.length + batch.params.length + batch.tags.length;
}
