import { mkdirSync, writeFileSync } from "node:fs";
import { userInfo } from "node:os";
import { dirname, join } from "node:path";
import { MNEMO_COMMAND, TrackingError } from "@mnemo/core/errors";
import type { RunStatus, Tracker, TrackerLocation, TrackerRunInfo } from "@mnemo/core";
import { redactUri } from "./redact.js";
import { MLFLOW_LIMITS, validateArtifactPath, validateKey, validateParamValue, validateTagValue } from "./limits.js";
import { appendOps, batchOps, PENDING_ARTIFACT_DIR, pendingFile, REJECTED_FILE, type PendingOp } from "./pending.js";
import { isTransientTrackingError, MlflowRestClient, type MlflowClientOptions, type MlflowRunInfo } from "./rest-client.js";
import { MLFLOW_TAGS, type Clock, type KeyValue, type LogBatch, type MetricRecord } from "./types.js";

export interface RestTrackerOptions extends MlflowClientOptions {
  /** Run directory: where unsent data goes on shutdown (`tracking-pending.jsonl`). Strongly recommended. */
  runDir?: string;
  clock?: Clock;
  /** Most items (metrics + params + tags) held in memory; beyond that they go to the pending file. */
  maxQueue?: number;
  /** Queue length that triggers an immediate background flush. */
  flushAt?: number;
  /** Background flush period, also the pause after the server was found unavailable. */
  flushIntervalMs?: number;
  userId?: string;
  onWarning?: (message: string) => void;
}

export interface RestTrackerStats {
  sentRequests: number;
  sentMetrics: number;
  /** Items written to the pending file (overflow + shutdown), to be replayed with `mnemo sync`. */
  pendingItems: number;
  rejectedItems: number;
}

/**
 * Tracker for an MLflow server. Logging calls only append to an in-memory queue; a background
 * loop sends it in log-batch requests, one at a time. An item leaves the queue only after the
 * server acknowledged it, so a failed request is resent (same timestamps) and nothing is lost;
 * see README "Guarantees" for the one case that can duplicate.
 */
export class RestTracker implements Tracker {
  readonly client: MlflowRestClient;
  private readonly runDir?: string;
  private readonly clock: Clock;
  private readonly maxQueue: number;
  private readonly flushAt: number;
  private readonly flushIntervalMs: number;
  private readonly userId: string;
  private readonly warn: (message: string) => void;
  private run?: MlflowRunInfo;
  private readonly queue: LogBatch = { metrics: [], params: [], tags: [] };
  /** The one drain in progress; every send goes through it so two requests never overlap. */
  private flushing?: Promise<boolean>;
  private closed = false;
  private timer?: NodeJS.Timeout;
  private unavailableUntil = 0;
  /** Warn once per outage, not once per failed background attempt. */
  private degraded = false;
  private readonly rejections: TrackingError[] = [];
  readonly stats: RestTrackerStats = { sentRequests: 0, sentMetrics: 0, pendingItems: 0, rejectedItems: 0 };

  constructor(options: RestTrackerOptions) {
    this.client = new MlflowRestClient(options);
    this.runDir = options.runDir;
    this.clock = options.clock ?? Date.now;
    this.maxQueue = options.maxQueue ?? 100_000;
    this.flushAt = options.flushAt ?? MLFLOW_LIMITS.maxEntitiesPerBatch;
    this.flushIntervalMs = options.flushIntervalMs ?? 2000;
    this.userId = options.userId ?? safeUserName();
    this.warn = options.onWarning ?? ((m) => process.stderr.write(`mnemo tracking: ${m}\n`));
  }

  /** Items waiting in memory to be sent. */
  get queueLength(): number {
    return this.queued();
  }

  get runId(): string | undefined {
    return this.run?.runId;
  }

  location(): TrackerLocation | undefined {
    return this.run ? { uri: redactUri(this.client.trackingUri), experimentId: this.run.experimentId, runId: this.run.runId } : undefined;
  }

  async startRun(info: TrackerRunInfo): Promise<string> {
    if (this.run) throw new TrackingError(`startRun called twice on one tracker (run ${this.run.runId} is open); create one tracker per run.`);
    const tags: KeyValue[] = Object.entries(info.tags).map(([key, value]) => checkedTag(key, value));
    if (info.parentRunId) tags.push({ key: MLFLOW_TAGS.parentRunId, value: info.parentRunId });
    if (!tags.some((t) => t.key === MLFLOW_TAGS.user)) tags.push({ key: MLFLOW_TAGS.user, value: this.userId });
    for (const [key, value] of Object.entries(info.params)) {
      validateKey("param", key);
      validateParamValue(key, value);
    }
    const experimentId = await this.client.getOrCreateExperiment(info.experimentName);
    // Tags beyond one request's worth go through log-batch like everything else.
    const createTags = tags.slice(0, MLFLOW_LIMITS.maxTagsPerBatch);
    this.run = await this.client.createRun({ experimentId, runName: info.runName, startTime: this.clock(), userId: this.userId, tags: createTags });
    this.queue.tags.push(...tags.slice(MLFLOW_LIMITS.maxTagsPerBatch));
    this.queue.params.push(...Object.entries(info.params).map(([key, value]) => ({ key, value })));
    this.timer = setInterval(() => this.kick(), this.flushIntervalMs);
    this.timer.unref();
    this.kick();
    return this.run.runId;
  }

  logMetrics(metrics: Record<string, number>, step = 0): void {
    const run = this.requireRun("logMetrics");
    // The timestamp is fixed here, not at send time: a resent batch is then identical, which
    // lets SQL-backed MLflow servers drop it as a duplicate (see README).
    const timestamp = this.clock();
    const records: MetricRecord[] = Object.entries(metrics).map(([key, value]) => {
      validateKey("metric", key);
      if (typeof value !== "number") throw new TrackingError(`Metric '${key}' must be a number, got ${typeof value}.`);
      return { key, value, timestamp, step: Math.trunc(step) };
    });
    if (this.queued() + records.length > this.maxQueue) {
      this.spill(run.runId, { metrics: records, params: [], tags: [] });
      return;
    }
    this.queue.metrics.push(...records);
    if (this.queued() >= this.flushAt) this.kick();
  }

  setTags(tags: Record<string, string>): void {
    const run = this.requireRun("setTags");
    const records = Object.entries(tags).map(([key, value]) => checkedTag(key, value));
    if (this.queued() + records.length > this.maxQueue) {
      this.spill(run.runId, { metrics: [], params: [], tags: records });
      return;
    }
    this.queue.tags.push(...records);
    if (this.queued() >= this.flushAt) this.kick();
  }

  async logArtifact(relativePath: string, content: string | Uint8Array): Promise<void> {
    const run = this.requireRun("logArtifact");
    const path = validateArtifactPath(relativePath);
    try {
      await this.client.uploadArtifact(run, path, content);
    } catch (error) {
      if (!isTransientTrackingError(error) || !this.runDir) throw error;
      const file = join(PENDING_ARTIFACT_DIR, path);
      const abs = join(this.runDir, file);
      mkdirSync(dirname(abs), { recursive: true });
      writeFileSync(abs, content);
      appendOps(pendingFile(this.runDir), [
        { v: 1, type: "artifact", trackingUri: this.client.trackingUri, runId: run.runId, experimentId: run.experimentId, artifactUri: run.artifactUri, path, file },
      ]);
      this.warn(`artifact '${path}' could not be uploaded (${(error as Error).message}); saved to ${abs}. Run \`${MNEMO_COMMAND} sync ${this.runDir}\` later.`);
    }
  }

  async endRun(status: RunStatus): Promise<void> {
    const run = this.requireRun("endRun");
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    const endTime = this.clock();
    this.closed = true;
    // One more full drain even if the server was recently unavailable: the client's own
    // bounded retries decide how long shutdown may wait.
    this.unavailableUntil = 0;
    const drained = await this.serialDrain(true);
    const leftovers: PendingOp[] = [];
    if (!drained) leftovers.push(...batchOps(this.client.trackingUri, run.runId, this.takeAll()));
    let updateError: unknown;
    if (drained) {
      try {
        await this.client.updateRun(run.runId, status, endTime);
      } catch (error) {
        if (!isTransientTrackingError(error)) throw error;
        updateError = error;
      }
    }
    if (!drained || updateError) leftovers.push({ v: 1, type: "update-run", trackingUri: this.client.trackingUri, runId: run.runId, status, endTime });
    if (leftovers.length > 0) {
      const items = leftovers.reduce((n, op) => n + (op.type === "log-batch" ? op.metrics.length + op.params.length + op.tags.length : 1), 0);
      if (!this.runDir) {
        throw new TrackingError(
          `MLflow server ${this.client.trackingUri} stayed unavailable at the end of run ${run.runId}; ${items} queued items could not be sent and there is no run directory to keep them. Pass runDir to createTracker so they can be replayed with \`mnemo sync\`.`,
          { errorCode: "UNAVAILABLE" },
        );
      }
      appendOps(pendingFile(this.runDir), leftovers);
      this.stats.pendingItems += items;
      this.warn(`MLflow server ${this.client.trackingUri} unavailable; ${items} items written to ${pendingFile(this.runDir)}. Replay them with \`${MNEMO_COMMAND} sync ${this.runDir}\`.`);
    }
    if (this.rejections.length > 0) {
      const first = this.rejections[0];
      throw new TrackingError(
        `${this.rejections.length} log-batch request(s) were rejected by the MLflow server and not retried (first: ${first.message})${this.runDir ? `; the rejected items are in ${join(this.runDir, REJECTED_FILE)}` : ""}.`,
        { status: first.status, errorCode: first.errorCode },
        { cause: first },
      );
    }
  }

  /** Waits until everything queued so far was sent (or the server was found unavailable). */
  async flush(): Promise<boolean> {
    this.unavailableUntil = 0;
    return this.serialDrain(false);
  }

  private requireRun(call: string): MlflowRunInfo {
    if (!this.run) throw new TrackingError(`${call} called before startRun; await tracker.startRun(...) first.`);
    if (this.closed) throw new TrackingError(`${call} called after endRun on run ${this.run.runId}; start a new tracker for a new run.`);
    return this.run;
  }

  private queued(): number {
    return this.queue.metrics.length + this.queue.params.length + this.queue.tags.length;
  }

  private kick(): void {
    if (this.flushing || this.closed || this.queued() === 0 || Date.now() < this.unavailableUntil) return;
    void this.serialDrain(false);
  }

  /** Queues a drain behind the current one; never lets two run concurrently. */
  private serialDrain(final: boolean): Promise<boolean> {
    const previous = this.flushing ?? Promise.resolve(true);
    const next: Promise<boolean> = previous.then(() => this.drain(final));
    this.flushing = next;
    void next.finally(() => {
      if (this.flushing === next) this.flushing = undefined;
    });
    return next;
  }

  /** Sends the queue front to back, one request at a time. Resolves false if the server is unavailable. */
  private async drain(final: boolean): Promise<boolean> {
    const run = this.run;
    if (!run) return true;
    for (let guard = 0; this.queued() > 0 && guard < 1_000_000; guard++) {
      const chunk = this.peekChunk();
      try {
        await this.client.logBatchChunk(run.runId, chunk);
        if (this.degraded) this.warn(`MLflow server ${this.client.trackingUri} reachable again; sending the backlog.`);
        this.degraded = false;
        this.stats.sentRequests += 1;
        this.stats.sentMetrics += chunk.metrics.length;
        this.dropFront(chunk);
      } catch (error) {
        if (isTransientTrackingError(error)) {
          // Wall time, not the injected clock: this schedules the next attempt, it stamps nothing.
          this.unavailableUntil = Date.now() + this.flushIntervalMs;
          if (!final && !this.degraded) this.warn(`${(error as Error).message} Will keep retrying in the background; training continues.`);
          this.degraded = true;
          return false;
        }
        // A 4xx will fail identically forever: set the items aside so the rest can flow.
        this.dropFront(chunk);
        this.reject(run.runId, chunk, error);
      }
    }
    return true;
  }

  private peekChunk(): LogBatch {
    const params = this.queue.params.slice(0, MLFLOW_LIMITS.maxParamsPerBatch);
    const tags = this.queue.tags.slice(0, MLFLOW_LIMITS.maxTagsPerBatch);
    const room = Math.min(MLFLOW_LIMITS.maxMetricsPerBatch, MLFLOW_LIMITS.maxEntitiesPerBatch - params.length - tags.length);
    return { params, tags, metrics: this.queue.metrics.slice(0, room) };
  }

  /** Safe because only the single in-flight drain removes items, and only from the front. */
  private dropFront(chunk: LogBatch): void {
    this.queue.params.splice(0, chunk.params.length);
    this.queue.tags.splice(0, chunk.tags.length);
    this.queue.metrics.splice(0, chunk.metrics.length);
  }

  private takeAll(): LogBatch {
    const all: LogBatch = { metrics: this.queue.metrics.splice(0), params: this.queue.params.splice(0), tags: this.queue.tags.splice(0) };
    return all;
  }

  private spill(runId: string, batch: LogBatch): void {
    if (!this.runDir) {
      throw new TrackingError(
        `Tracking queue is full (${this.maxQueue} items) because the MLflow server ${this.client.trackingUri} is not keeping up, and there is no run directory to spill to. Pass runDir to createTracker or raise maxQueue.`,
        { errorCode: "UNAVAILABLE" },
      );
    }
    appendOps(pendingFile(this.runDir), batchOps(this.client.trackingUri, runId, batch));
    this.stats.pendingItems += batch.metrics.length + batch.params.length + batch.tags.length;
  }

  private reject(runId: string, chunk: LogBatch, error: unknown): void {
    const err = error instanceof TrackingError ? error : new TrackingError(String(error), {}, { cause: error });
    this.rejections.push(err);
    this.stats.rejectedItems += chunk.metrics.length + chunk.params.length + chunk.tags.length;
    if (this.runDir) appendOps(join(this.runDir, REJECTED_FILE), batchOps(this.client.trackingUri, runId, chunk));
    this.warn(err.message);
  }
}

function checkedTag(key: string, value: string): KeyValue {
  validateKey("tag", key);
  validateTagValue(key, value);
  return { key, value };
}

function safeUserName(): string {
  try {
    return userInfo().username;
  } catch {
    // Containers without a passwd entry: MLflow itself falls back the same way.
    return "unknown";
  }
}
