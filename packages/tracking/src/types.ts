/** Wire-level entities, shaped like MLflow's REST API (timestamps in epoch milliseconds). */
export interface MetricRecord {
  key: string;
  value: number;
  timestamp: number;
  step: number;
}

export interface KeyValue {
  key: string;
  value: string;
}

export interface LogBatch {
  metrics: MetricRecord[];
  params: KeyValue[];
  tags: KeyValue[];
}

/** MLflow's RunStatus enum as stored (as an int) in the file store's meta.yaml. */
export const RUN_STATUS_CODES = { RUNNING: 1, SCHEDULED: 2, FINISHED: 3, FAILED: 4, KILLED: 5 } as const;
export type MlflowRunStatus = keyof typeof RUN_STATUS_CODES;

/** Tags MLflow's UI gives meaning to. */
export const MLFLOW_TAGS = {
  runName: "mlflow.runName",
  parentRunId: "mlflow.parentRunId",
  user: "mlflow.user",
} as const;

export type Clock = () => number;
