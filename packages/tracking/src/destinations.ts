/**
 * Where a journal is mirrored: an MLflow server (REST) or a local MLflow file store. Both make
 * every send idempotent, so resending after a crash or a lost response never duplicates:
 * params (same value) and tags are idempotent by nature, artifacts are overwritten, status
 * updates are absolute, and metrics are de-duplicated on (key, step): the file store checks
 * what its metric files hold, a server is asked for the key's history before an in-doubt resend.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { TrackingError } from "@mnemo/core/errors";
import { MlflowFileStore, type FileRunInfo } from "./file-store.js";
import { JOURNAL_ID_TAG, metricValue, type ArtifactEntry, type JournalTarget, type MetricEntry, type ParamEntry, type StartEntry, type StatusEntry, type TagEntry } from "./journal.js";
import { isTransientTrackingError, MlflowRestClient, UNAVAILABLE, type MlflowClientOptions, type MlflowRunInfo } from "./rest-client.js";
import { MLFLOW_TAGS, type KeyValue, type LogBatch, type MetricRecord } from "./types.js";

export type BatchEntry = MetricEntry | ParamEntry | TagEntry;

/** One request's worth of journal entries. */
export type SendUnit = { kind: "batch"; entries: BatchEntry[] } | { kind: "artifact"; entry: ArtifactEntry } | { kind: "status"; entry: StatusEntry };

export interface SendContext {
  /** The unit may already have been applied (sent by a process that died before recording the ack, or a response was lost). */
  inDoubt: boolean;
  runDir: string;
}

export interface RunDestination {
  /** Stable and credential-free: acknowledgements are recorded under it. */
  readonly id: string;
  /** The run for this journal: found if it exists (same journal id), else created. */
  findOrCreateRun(start: StartEntry): Promise<string>;
  send(runId: string, unit: SendUnit, context: SendContext): Promise<void>;
}

function startTags(start: StartEntry): KeyValue[] {
  const tags: KeyValue[] = [
    { key: MLFLOW_TAGS.runName, value: start.runName },
    { key: MLFLOW_TAGS.user, value: start.userId },
    { key: JOURNAL_ID_TAG, value: start.journalId },
  ];
  if (start.parentRunId) tags.push({ key: MLFLOW_TAGS.parentRunId, value: start.parentRunId });
  return tags;
}

function toBatch(entries: readonly BatchEntry[]): LogBatch {
  const batch: LogBatch = { metrics: [], params: [], tags: [] };
  for (const e of entries) {
    if (e.type === "metric") batch.metrics.push({ key: e.name, value: metricValue(e), timestamp: e.timestamp, step: e.step });
    else if (e.type === "param") batch.params.push({ key: e.name, value: e.value });
    else batch.tags.push({ key: e.name, value: e.value });
  }
  return batch;
}

function artifactBytes(runDir: string, entry: ArtifactEntry): Buffer {
  try {
    return readFileSync(join(runDir, entry.file));
  } catch (cause) {
    throw new TrackingError(`Artifact '${entry.path}' cannot be sent: its saved copy ${join(runDir, entry.file)} is missing (${(cause as Error).message}).`, {}, { cause });
  }
}

export class RestDestination implements RunDestination {
  readonly id: string;
  private readonly runs = new Map<string, MlflowRunInfo>();

  constructor(readonly client: MlflowRestClient) {
    this.id = client.trackingUri;
  }

  async findOrCreateRun(start: StartEntry): Promise<string> {
    const experimentId = await this.client.getOrCreateExperiment(start.experimentName);
    // A previous process may have created the run and died before recording its id.
    const found = await this.client.searchRuns({ experimentIds: [experimentId], filter: `tags.\`${JOURNAL_ID_TAG}\` = '${start.journalId}'`, maxResults: 2 });
    const existing = found.runs[0]?.info;
    if (existing) {
      this.runs.set(existing.runId, existing);
      return existing.runId;
    }
    const run = await this.client.createRun({ experimentId, runName: start.runName, startTime: start.startTime, userId: start.userId, tags: startTags(start) });
    this.runs.set(run.runId, run);
    return run.runId;
  }

  async send(runId: string, unit: SendUnit, context: SendContext): Promise<void> {
    switch (unit.kind) {
      case "batch":
        await this.sendBatch(runId, toBatch(unit.entries), context.inDoubt);
        return;
      case "artifact": {
        const run = this.runs.get(runId) ?? (await this.client.getRun(runId)).info;
        this.runs.set(runId, run);
        await this.client.uploadArtifact(run, unit.entry.path, artifactBytes(context.runDir, unit.entry));
        return;
      }
      case "status":
        await this.client.updateRun(runId, unit.entry.status, unit.entry.status === "RUNNING" ? undefined : unit.entry.time);
        return;
    }
  }

  /**
   * Our own retry loop instead of the client's: a failed attempt may have been applied (the
   * response was lost), so before each resend the server is asked which points it already has.
   */
  private async sendBatch(runId: string, batch: LogBatch, inDoubt: boolean): Promise<void> {
    const attempts = this.client.policy.maxAttempts;
    for (let attempt = 1; ; attempt++) {
      const toSend = inDoubt && batch.metrics.length > 0 ? { ...batch, metrics: await this.notOnServer(runId, batch.metrics) } : batch;
      if (toSend.metrics.length + toSend.params.length + toSend.tags.length === 0) return;
      try {
        await this.client.logBatchChunk(runId, toSend, { attempts: 1 });
        return;
      } catch (error) {
        if (!isTransientTrackingError(error) || attempt >= attempts) throw error;
        inDoubt = true;
        await this.client.backoff(attempt);
      }
    }
  }

  /** Drops points whose (key, step) the server already has: the only way to make a resend exact on a file-backed server. */
  private async notOnServer(runId: string, metrics: MetricRecord[]): Promise<MetricRecord[]> {
    const have = new Map<string, Set<number>>();
    for (const key of new Set(metrics.map((m) => m.key))) {
      have.set(key, new Set((await this.client.getMetricHistory(runId, key)).map((m) => m.step)));
    }
    return metrics.filter((m) => !have.get(m.key)?.has(m.step));
  }
}

export class FileStoreDestination implements RunDestination {
  readonly id: string;
  readonly store: MlflowFileStore;
  private readonly runs = new Map<string, FileRunInfo>();

  constructor(root: string) {
    this.store = new MlflowFileStore({ root });
    this.id = `file://${this.store.root}`;
  }

  async findOrCreateRun(start: StartEntry): Promise<string> {
    return this.guard(async () => {
      const existing = this.store.findRun(start.journalId);
      if (existing) {
        this.runs.set(existing.runId, existing);
        return existing.runId;
      }
      const experimentId = this.store.getOrCreateExperiment(start.experimentName);
      const run = this.store.createRun({ experimentId, runName: start.runName, userId: start.userId, startTime: start.startTime, tags: startTags(start), runId: start.journalId });
      this.runs.set(run.runId, run);
      return run.runId;
    });
  }

  async send(runId: string, unit: SendUnit, context: SendContext): Promise<void> {
    const run = this.runs.get(runId) ?? this.store.findRun(runId);
    if (!run) throw new TrackingError(`Run ${runId} is not in the file store ${this.store.root} (deleted?); it cannot be completed there.`, { errorCode: "RESOURCE_DOES_NOT_EXIST" });
    this.runs.set(runId, run);
    await this.guard(async () => {
      switch (unit.kind) {
        case "batch": {
          const batch = toBatch(unit.entries);
          // Params first: a changed value rejects the unit before anything of it is written.
          await this.store.writeParams(run, batch.params);
          await this.store.appendMetricsOnce(run, batch.metrics);
          await this.store.writeTags(run, batch.tags);
          return;
        }
        case "artifact":
          await this.store.writeArtifact(run, unit.entry.path, artifactBytes(context.runDir, unit.entry));
          return;
        case "status":
          await this.store.setStatus(run, unit.entry.status, unit.entry.time);
          return;
      }
    });
  }

  /** Disk errors (full, read-only, permissions) may clear up: retried later like an unreachable server. */
  private async guard<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      if (error instanceof TrackingError) throw error;
      throw new TrackingError(`Writing to the MLflow file store ${this.store.root} failed: ${(error as Error).message}.`, { errorCode: UNAVAILABLE }, { cause: error });
    }
  }
}

export interface DestinationOptions extends Partial<MlflowClientOptions> {
  env?: NodeJS.ProcessEnv;
}

/** The destination for a recorded (or overriding) target. */
export function destinationFor(target: JournalTarget, rawUri: string | undefined, options: DestinationOptions = {}): RunDestination {
  if (target.kind === "file") return new FileStoreDestination(target.root);
  return new RestDestination(new MlflowRestClient({ ...options, trackingUri: rawUri ?? target.uri }));
}
