/**
 * A Tracker whose run directory is the source of truth: every call is journaled (see journal.ts)
 * and returns; a background sender mirrors the journal to one destination (MLflow server or
 * file store) in order, one request at a time, recording each acknowledgement. Opening a run
 * directory whose journal already has a run continues that run: same MLflow run, set back to
 * RUNNING, every point logged once per step however often the run was killed and resumed.
 */
import { appendFileSync, existsSync, readdirSync } from "node:fs";
import { userInfo } from "node:os";
import { join } from "node:path";
import { TrackingError } from "@mnemo/core/errors";
import type { RunStatus, Tracker, TrackerLocation, TrackerRunInfo } from "@mnemo/core";
import type { BatchEntry, RunDestination, SendUnit } from "./destinations.js";
import { AckLog, Journal, JournalLock, metricEntry, newJournalId, paramKey, saveArtifactCopy, tagKey, JOURNAL_ID_TAG, type JournalEntry, type JournalTarget, type NewEntry } from "./journal.js";
import { MLFLOW_LIMITS, validateArtifactPath, validateKey, validateParamValue, validateTagValue } from "./limits.js";
import { REJECTED_FILE } from "./pending.js";
import { isTransientTrackingError } from "./rest-client.js";
import { MLFLOW_TAGS, type Clock } from "./types.js";

export interface SenderResult {
  /** Everything journaled so far reached the destination. */
  delivered: boolean;
  sentUnits: number;
  /** Journal entries not yet acknowledged. */
  remaining: number;
  rejected: { entries: JournalEntry[]; error: TrackingError }[];
  lastError?: TrackingError;
}

/** Sends a journal's unacknowledged entries to one destination, front to back. */
export class JournalSender {
  runId?: string;
  /** The first send after opening may repeat what a killed process sent without recording it. */
  private inDoubt = true;
  readonly rejected: { entries: JournalEntry[]; error: TrackingError }[] = [];

  constructor(
    readonly journal: Journal,
    readonly acks: AckLog,
    readonly destination: RunDestination,
    private readonly warn: (message: string) => void = () => {},
  ) {
    this.runId = acks.get(destination.id)?.runId;
  }

  get ackedSeq(): number {
    return this.acks.get(this.destination.id)?.seq ?? 0;
  }

  get remaining(): number {
    return this.journal.lastSeq - this.ackedSeq;
  }

  async drain(): Promise<SenderResult> {
    let sentUnits = 0;
    const start = this.journal.start;
    const result = (delivered: boolean, lastError?: TrackingError): SenderResult => ({ delivered, sentUnits, remaining: this.remaining, rejected: this.rejected, lastError });
    if (!start) return result(true);
    try {
      if (!this.runId) {
        this.runId = await this.destination.findOrCreateRun(start);
        this.acks.record({ dest: this.destination.id, runId: this.runId, seq: Math.max(this.ackedSeq, start.seq) });
      }
      for (;;) {
        const pending = this.journal.after(this.ackedSeq).filter((e) => e.type !== "start");
        if (pending.length === 0) {
          // Only start entries were left (or nothing): move the mark to the end.
          if (this.ackedSeq < this.journal.lastSeq) this.ack(this.journal.lastSeq);
          return result(true);
        }
        const { unit, lastSeq } = nextUnit(pending);
        try {
          await this.destination.send(this.runId, unit, { inDoubt: this.inDoubt, runDir: this.journal.runDir });
          sentUnits++;
          this.inDoubt = false;
        } catch (error) {
          if (isTransientTrackingError(error)) throw error;
          if (!(error instanceof TrackingError)) throw error;
          // Refused for good (e.g. a key the server rejects): set aside so the rest can flow.
          const entries = pending.filter((e) => e.seq <= lastSeq);
          this.rejected.push({ entries, error });
          appendFileSync(join(this.journal.runDir, REJECTED_FILE), JSON.stringify({ v: 1, type: "journal-entries", destination: this.destination.id, runId: this.runId, error: error.message, entries }) + "\n");
          this.warn(`${this.destination.id} refused ${entries.length} journal entries (${error.message}); kept in ${REJECTED_FILE}.`);
        }
        this.ack(lastSeq);
      }
    } catch (error) {
      if (!isTransientTrackingError(error)) throw error;
      // The unit may or may not have been applied (e.g. a timeout after the server committed).
      this.inDoubt = true;
      return result(false, error as TrackingError);
    }
  }

  private ack(seq: number): void {
    this.acks.record({ dest: this.destination.id, runId: this.runId as string, seq });
    this.journal.forget(seq);
  }
}

/** The longest run of entries from the front that makes one request. */
function nextUnit(pending: JournalEntry[]): { unit: SendUnit; lastSeq: number } {
  const first = pending[0] as JournalEntry;
  if (first.type === "artifact") return { unit: { kind: "artifact", entry: first }, lastSeq: first.seq };
  if (first.type === "status") return { unit: { kind: "status", entry: first }, lastSeq: first.seq };
  const entries: BatchEntry[] = [];
  let metrics = 0;
  let params = 0;
  let tags = 0;
  const tagNames = new Set<string>();
  const paramNames = new Set<string>();
  for (const e of pending) {
    if (e.type === "metric") {
      if (metrics + 1 > MLFLOW_LIMITS.maxMetricsPerBatch) break;
      metrics++;
    } else if (e.type === "param") {
      if (params + 1 > MLFLOW_LIMITS.maxParamsPerBatch || paramNames.has(e.name)) break;
      params++;
      paramNames.add(e.name);
    } else if (e.type === "tag") {
      // A tag set twice must reach the server in order: the second value in its own request.
      if (tags + 1 > MLFLOW_LIMITS.maxTagsPerBatch || tagNames.has(e.name)) break;
      tags++;
      tagNames.add(e.name);
    } else if (e.type === "start") continue;
    else break;
    if (metrics + params + tags > MLFLOW_LIMITS.maxEntitiesPerBatch) break;
    entries.push(e);
  }
  return { unit: { kind: "batch", entries }, lastSeq: (entries[entries.length - 1] as JournalEntry).seq };
}

export interface JournalTrackerOptions {
  runDir: string;
  destination: RunDestination;
  /** Recorded in the journal (credential-free) so that `mnemo sync` knows where the run goes. */
  target: JournalTarget;
  clock?: Clock;
  userId?: string;
  /** Background send period; also the pause after the destination was found unavailable. */
  flushIntervalMs?: number;
  /** Unsent entries that trigger an immediate background send. */
  flushAt?: number;
  fsyncIntervalMs?: number;
  onWarning?: (message: string) => void;
}

export interface JournalTrackerStats {
  journaled: number;
  /** Appends that were already in the journal (a resumed run re-logging a point). */
  duplicatesSkipped: number;
  sentUnits: number;
  remaining: number;
}

export class JournalTracker implements Tracker {
  readonly runDir: string;
  readonly destination: RunDestination;
  private readonly target: JournalTarget;
  private readonly clock: Clock;
  private readonly userId: string;
  private readonly flushIntervalMs: number;
  private readonly flushAt: number;
  private readonly fsyncIntervalMs?: number;
  private readonly warn: (message: string) => void;
  private readonly lock: JournalLock;
  private journal?: Journal;
  private sender?: JournalSender;
  private sending?: Promise<SenderResult>;
  private timer?: NodeJS.Timeout;
  private unavailableUntil = 0;
  private degraded = false;
  private closed = false;
  private journaled = 0;
  private sentUnits = 0;
  /** Whether startRun continued a run already in the journal. */
  resumed = false;

  constructor(options: JournalTrackerOptions) {
    this.runDir = options.runDir;
    this.destination = options.destination;
    this.target = options.target;
    this.clock = options.clock ?? Date.now;
    this.userId = options.userId ?? safeUserName();
    this.flushIntervalMs = options.flushIntervalMs ?? 2000;
    this.flushAt = options.flushAt ?? MLFLOW_LIMITS.maxEntitiesPerBatch;
    this.fsyncIntervalMs = options.fsyncIntervalMs;
    this.warn = options.onWarning ?? ((m) => process.stderr.write(`mnemo tracking: ${m}\n`));
    this.lock = new JournalLock(this.runDir);
  }

  /** The destination's run id (known once the run was created or found there). */
  get runId(): string | undefined {
    return this.sender?.runId;
  }

  /** Where the run is delivered, once the destination has given it an id (the run header prints it). */
  location(): TrackerLocation | undefined {
    const runId = this.runId;
    if (!runId) return undefined;
    if (this.target.kind === "rest") return { uri: this.target.uri, runId };
    // The file store keeps runs under <root>/<experiment id>/<run id>.
    const root = this.target.root;
    const experimentId = existsSync(root) ? readdirSync(root).find((e) => existsSync(join(root, e, runId, "meta.yaml"))) : undefined;
    return { uri: root, runId, ...(experimentId ? { experimentId } : {}) };
  }

  get stats(): JournalTrackerStats {
    return { journaled: this.journaled, duplicatesSkipped: this.journal?.skipped ?? 0, sentUnits: this.sentUnits, remaining: this.sender?.remaining ?? 0 };
  }

  async startRun(info: TrackerRunInfo): Promise<string> {
    if (this.journal) throw new TrackingError(`startRun called twice on one tracker (run dir ${this.runDir}); create one tracker per run.`);
    const params = Object.entries(info.params);
    for (const [key, value] of params) {
      validateKey("param", key);
      validateParamValue(key, value);
    }
    const tags: [string, string][] = Object.entries(info.tags);
    for (const [key, value] of tags) checkTag(key, value);
    this.lock.acquire("mnemo run");
    try {
      const acks = new AckLog(this.runDir);
      const journal = new Journal(this.runDir, { fsyncIntervalMs: this.fsyncIntervalMs, keepFrom: acks.get(this.destination.id)?.seq ?? 0 });
      this.journal = journal;
      const start = journal.start;
      this.resumed = start !== undefined;
      if (start && start.experimentName !== info.experimentName) {
        throw new TrackingError(`${journal.file} belongs to experiment '${start.experimentName}', not '${info.experimentName}'; a run directory holds one run.`);
      }
      for (const [key, value] of params) {
        const before = journal.params.get(key);
        if (before !== undefined && before !== value) {
          throw new TrackingError(`param '${key}' was logged as '${before}' by this run before and cannot change to '${value}' (MLflow params are immutable); resume with the run's own config.`, { errorCode: "INVALID_PARAMETER_VALUE" });
        }
      }
      const entries: NewEntry[] = [];
      const journalId = start?.journalId ?? newJournalId();
      if (!start) {
        entries.push({ key: "start", type: "start", journalId, experimentName: info.experimentName, runName: info.runName, userId: this.userId, startTime: this.clock(), parentRunId: info.parentRunId, target: this.target });
      } else {
        // Continuing: the run goes back to RUNNING wherever it was left (KILLED, FAILED by sync, or still RUNNING after a crash).
        entries.push({ key: `s/${journal.lastSeq + 1}`, type: "status", status: "RUNNING", time: this.clock() });
      }
      for (const [key, value] of params) entries.push({ key: paramKey(key), type: "param", name: key, value });
      const allTags: [string, string][] = [...tags];
      if (!allTags.some(([k]) => k === MLFLOW_TAGS.user)) allTags.push([MLFLOW_TAGS.user, this.userId]);
      if (info.parentRunId) allTags.push([MLFLOW_TAGS.parentRunId, info.parentRunId]);
      allTags.push([JOURNAL_ID_TAG, journalId]);
      for (const [key, value] of allTags) entries.push({ key: tagKey(key, value), type: "tag", name: key, value });
      this.journaled += journal.append(entries, { sync: true }).length;
      this.sender = new JournalSender(journal, acks, this.destination, this.warn);
    } catch (error) {
      this.lock.release();
      throw error;
    }
    const first = await this.send();
    if (!first.delivered && first.lastError) this.noteUnavailable(first.lastError);
    this.timer = setInterval(() => this.kick(), this.flushIntervalMs);
    this.timer.unref();
    return this.runId ?? "";
  }

  logMetrics(metrics: Record<string, number>, step = 0): void {
    const journal = this.requireOpen("logMetrics");
    const timestamp = this.clock();
    const s = Math.trunc(step);
    const entries = Object.entries(metrics).map(([key, value]) => {
      validateKey("metric", key);
      if (typeof value !== "number") throw new TrackingError(`Metric '${key}' must be a number, got ${typeof value}.`);
      return metricEntry(key, value, timestamp, s);
    });
    this.journaled += journal.append(entries).length;
    if ((this.sender?.remaining ?? 0) >= this.flushAt) this.kick();
  }

  setTags(tags: Record<string, string>): void {
    const journal = this.requireOpen("setTags");
    const entries: NewEntry[] = Object.entries(tags).map(([key, value]) => {
      checkTag(key, value);
      return { key: tagKey(key, value), type: "tag", name: key, value };
    });
    this.journaled += journal.append(entries).length;
    this.kick();
  }

  async logArtifact(relativePath: string, content: string | Uint8Array): Promise<void> {
    const journal = this.requireOpen("logArtifact");
    const path = validateArtifactPath(relativePath);
    const copy = saveArtifactCopy(this.runDir, content);
    this.journaled += journal.append([{ key: `a/${path}/${copy.sha256}`, type: "artifact", path, ...copy }], { sync: true }).length;
    this.kick();
  }

  async endRun(status: RunStatus): Promise<void> {
    const journal = this.requireOpen("endRun");
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.journaled += journal.append([{ key: `s/${journal.lastSeq + 1}`, type: "status", status, time: this.clock() }], { sync: true }).length;
    this.closed = true;
    // One more full attempt even if the destination was recently unavailable.
    this.unavailableUntil = 0;
    const result = await this.send();
    journal.close();
    this.lock.release();
    if (!result.delivered) {
      this.warn(
        `${this.destination.id} unavailable at the end of the run (${result.lastError?.message ?? "unknown error"}); ${result.remaining} journal entries are kept in ${journal.file}. Deliver them with \`mnemo sync ${this.runDir}\`.`,
      );
    }
    if (result.rejected.length > 0) {
      const first = result.rejected[0]!.error;
      throw new TrackingError(`${result.rejected.length} request(s) were refused by ${this.destination.id} and not retried (first: ${first.message}); the entries are in ${join(this.runDir, REJECTED_FILE)}.`, { status: first.status, errorCode: first.errorCode }, { cause: first });
    }
  }

  /**
   * fsyncs the journal now (no send). A runner calls it before writing a checkpoint, so that a
   * power cut never leaves a checkpoint past points the journal lost: the resume would not re-log them.
   */
  syncJournal(): void {
    this.journal?.sync();
  }

  /** Waits until everything journaled so far was sent, or the destination was found unavailable. */
  async flush(): Promise<boolean> {
    this.unavailableUntil = 0;
    this.journal?.sync();
    return (await this.send()).delivered;
  }

  private requireOpen(call: string): Journal {
    if (!this.journal) throw new TrackingError(`${call} called before startRun; await tracker.startRun(...) first.`);
    if (this.closed) throw new TrackingError(`${call} called after endRun (run dir ${this.runDir}); start a new tracker for a new run.`);
    return this.journal;
  }

  private kick(): void {
    if (this.sending || this.closed || !this.sender || this.sender.remaining === 0 || Date.now() < this.unavailableUntil) return;
    void this.send().then(
      (r) => {
        if (!r.delivered && r.lastError) this.noteUnavailable(r.lastError);
      },
      (error: unknown) => this.warn(`sending the journal failed: ${(error as Error).message}`),
    );
  }

  /** Chains sends so that two never overlap. */
  private send(): Promise<SenderResult> {
    const sender = this.sender as JournalSender;
    const previous = this.sending ?? Promise.resolve(undefined);
    const next: Promise<SenderResult> = previous.then(async () => {
      const r = await sender.drain();
      this.sentUnits += r.sentUnits;
      if (r.delivered && this.degraded) {
        this.degraded = false;
        this.warn(`${this.destination.id} reachable again; the backlog was sent.`);
      }
      return r;
    });
    this.sending = next;
    void next.finally(() => {
      if (this.sending === next) this.sending = undefined;
    }).catch(() => {});
    return next;
  }

  private noteUnavailable(error: TrackingError): void {
    // Wall time: schedules the next attempt, stamps nothing.
    this.unavailableUntil = Date.now() + this.flushIntervalMs;
    if (!this.degraded && !this.closed) this.warn(`${error.message} Everything is kept in the run's journal and sent when it is back; training continues.`);
    this.degraded = true;
  }
}

function checkTag(key: string, value: string): void {
  validateKey("tag", key);
  validateTagValue(key, value);
}

function safeUserName(): string {
  try {
    return userInfo().username;
  } catch {
    return "unknown";
  }
}
