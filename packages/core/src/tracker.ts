/**
 * What an experiment reports to. `@mnemo/tracking` provides the MLflow client and the local
 * MLflow-compatible file store; `MemoryTracker` here keeps everything in memory (tests).
 * Calls that log are synchronous and must never block training on I/O: implementations
 * queue and flush in the background; `end()` flushes and waits.
 */
export type RunStatus = "FINISHED" | "FAILED" | "KILLED";

export interface TrackerRunInfo {
  experimentName: string;
  runName: string;
  /** Flattened config (`stream.increment` -> "10") and other run parameters. */
  params: Record<string, string>;
  /** seed, stream hash, backend, threads, git commit, mnemo version, ... */
  tags: Record<string, string>;
  /** Parent run id for nested runs (sweeps). */
  parentRunId?: string;
}

/** Where an open run is logged, for the run header: `MLflow: experiment 123, run abc at ./mlruns`. */
export interface TrackerLocation {
  /** The server URL (credentials removed) or the file store's folder. */
  uri: string;
  experimentId?: string;
  runId: string;
}

export interface Tracker {
  /** Opens (or resumes) a run; returns its id. */
  startRun(info: TrackerRunInfo): Promise<string>;
  /** Where the open run is, when the tracker can say (trackers that keep nothing have no location). */
  location?(): TrackerLocation | undefined;
  logMetrics(metrics: Record<string, number>, step?: number): void;
  setTags(tags: Record<string, string>): void;
  /** Stores a file under the run's artifacts (e.g. "accuracy_matrix.json", "plots/heatmap.svg"). */
  logArtifact(relativePath: string, content: string | Uint8Array): Promise<void>;
  /** Flushes everything queued and closes the run. */
  endRun(status: RunStatus): Promise<void>;
}

export interface LoggedMetric {
  key: string;
  value: number;
  step: number;
}

/** Keeps everything in memory: for tests and for runs with tracking switched off. */
export class MemoryTracker implements Tracker {
  info?: TrackerRunInfo;
  readonly metrics: LoggedMetric[] = [];
  readonly tags: Record<string, string> = {};
  readonly artifacts = new Map<string, string | Uint8Array>();
  status?: RunStatus;

  async startRun(info: TrackerRunInfo): Promise<string> {
    this.info = info;
    Object.assign(this.tags, info.tags);
    return "memory";
  }
  logMetrics(metrics: Record<string, number>, step = 0): void {
    for (const [key, value] of Object.entries(metrics)) this.metrics.push({ key, value, step });
  }
  setTags(tags: Record<string, string>): void {
    Object.assign(this.tags, tags);
  }
  async logArtifact(relativePath: string, content: string | Uint8Array): Promise<void> {
    this.artifacts.set(relativePath, content);
  }
  async endRun(status: RunStatus): Promise<void> {
    this.status = status;
  }
}
