import { userInfo } from "node:os";
import { TrackingError } from "@mnemo/core/errors";
import type { RunStatus, Tracker, TrackerLocation, TrackerRunInfo } from "@mnemo/core";
import { validateKey, validateParamValue, validateTagValue } from "./limits.js";
import { MlflowFileStore, type FileRunInfo, type FileStoreOptions } from "./file-store.js";
import { MLFLOW_TAGS, type Clock, type KeyValue, type MetricRecord } from "./types.js";

export interface FileTrackerOptions extends FileStoreOptions {
  userId?: string;
  /** Background flush period for queued metrics and tags. */
  flushIntervalMs?: number;
  /** Queue length that triggers a background flush. */
  flushAt?: number;
}

/**
 * Tracker writing MLflow's local FileStore layout. Metrics and tags are queued and appended in
 * the background (training never waits on disk); endRun flushes and closes the run.
 */
export class FileTracker implements Tracker {
  readonly store: MlflowFileStore;
  private readonly clock: Clock;
  private readonly userId: string;
  private readonly flushIntervalMs: number;
  private readonly flushAt: number;
  private run?: FileRunInfo;
  private metrics: MetricRecord[] = [];
  private tags: KeyValue[] = [];
  private writing: Promise<void> = Promise.resolve();
  private failure?: unknown;
  private timer?: NodeJS.Timeout;
  private closed = false;

  constructor(options: FileTrackerOptions) {
    this.store = new MlflowFileStore(options);
    this.clock = options.clock ?? Date.now;
    this.userId = options.userId ?? safeUserName();
    this.flushIntervalMs = options.flushIntervalMs ?? 1000;
    this.flushAt = options.flushAt ?? 1000;
  }

  get runInfo(): FileRunInfo | undefined {
    return this.run;
  }

  location(): TrackerLocation | undefined {
    return this.run ? { uri: this.store.root, experimentId: this.run.experimentId, runId: this.run.runId } : undefined;
  }

  async startRun(info: TrackerRunInfo): Promise<string> {
    if (this.run) throw new TrackingError(`startRun called twice on one tracker (run ${this.run.runId} is open); create one tracker per run.`);
    const params = Object.entries(info.params).map(([key, value]) => {
      validateKey("param", key);
      validateParamValue(key, value);
      return { key, value };
    });
    const tags: KeyValue[] = Object.entries(info.tags).map(([key, value]) => {
      validateKey("tag", key);
      validateTagValue(key, value);
      return { key, value };
    });
    if (info.parentRunId) tags.push({ key: MLFLOW_TAGS.parentRunId, value: info.parentRunId });
    if (!tags.some((t) => t.key === MLFLOW_TAGS.user)) tags.push({ key: MLFLOW_TAGS.user, value: this.userId });
    const experimentId = this.store.getOrCreateExperiment(info.experimentName);
    this.run = this.store.createRun({ experimentId, runName: info.runName, userId: this.userId, startTime: this.clock(), tags });
    await this.store.writeParams(this.run, params);
    this.timer = setInterval(() => this.kick(), this.flushIntervalMs);
    this.timer.unref();
    return this.run.runId;
  }

  logMetrics(metrics: Record<string, number>, step = 0): void {
    this.requireRun("logMetrics");
    const timestamp = this.clock();
    for (const [key, value] of Object.entries(metrics)) {
      validateKey("metric", key);
      if (typeof value !== "number") throw new TrackingError(`Metric '${key}' must be a number, got ${typeof value}.`);
      this.metrics.push({ key, value, timestamp, step: Math.trunc(step) });
    }
    if (this.metrics.length >= this.flushAt) this.kick();
  }

  setTags(tags: Record<string, string>): void {
    this.requireRun("setTags");
    for (const [key, value] of Object.entries(tags)) {
      validateKey("tag", key);
      validateTagValue(key, value);
      this.tags.push({ key, value });
    }
    this.kick();
  }

  async logArtifact(relativePath: string, content: string | Uint8Array): Promise<void> {
    const run = this.requireRun("logArtifact");
    await this.store.writeArtifact(run, relativePath, content);
  }

  async endRun(status: RunStatus): Promise<void> {
    const run = this.requireRun("endRun");
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    const endTime = this.clock();
    this.kick();
    this.closed = true;
    await this.writing;
    if (this.failure) {
      throw new TrackingError(`Writing run ${run.runId} under ${run.dir} failed: ${(this.failure as Error).message}`, {}, { cause: this.failure });
    }
    await this.store.finishRun(run, status, endTime);
  }

  /** Resolves when everything queued so far is on disk. */
  async flush(): Promise<void> {
    this.kick();
    await this.writing;
  }

  private requireRun(call: string): FileRunInfo {
    if (!this.run) throw new TrackingError(`${call} called before startRun; await tracker.startRun(...) first.`);
    if (this.closed) throw new TrackingError(`${call} called after endRun on run ${this.run.runId}; start a new tracker for a new run.`);
    return this.run;
  }

  /** Chains writes so appends to one metric file never interleave. */
  private kick(): void {
    const run = this.run;
    if (!run || (this.metrics.length === 0 && this.tags.length === 0)) return;
    const metrics = this.metrics;
    const tags = this.tags;
    this.metrics = [];
    this.tags = [];
    this.writing = this.writing.then(async () => {
      if (this.failure) return;
      try {
        await this.store.appendMetrics(run, metrics);
        await this.store.writeTags(run, tags);
      } catch (error) {
        // Kept and rethrown by endRun: a background write has no caller to throw to.
        this.failure = error;
      }
    });
  }
}

function safeUserName(): string {
  try {
    return userInfo().username;
  } catch {
    return "unknown";
  }
}
