/**
 * The run directory's tracking journal: every metric, param, tag, artifact and status change of
 * a run, appended to `<runDir>/tracking-journal.jsonl` before it is sent anywhere. Trackers send
 * from it and record what a destination acknowledged in `tracking-acks.jsonl`, so a process
 * killed at any instant leaves a journal that a resume or `mnemo sync` can finish delivering.
 *
 * Durability: every append is a write(2) before the logging call returns, so `kill -9` loses
 * nothing; fsync runs at most every `fsyncIntervalMs` (and always for artifacts, status changes
 * and on close), so an OS crash or power cut loses at most that interval. A torn last line (a
 * kill inside write(2)) is dropped when the journal is reopened.
 *
 * Idempotency: each entry has a key; appending a key that is already in the journal is a no-op.
 * A metric's key is its name and step, so a resumed run that re-trains part of a task (and logs
 * the same points again) adds nothing, and every metric has at most one point per step.
 */
import { createHash, randomUUID } from "node:crypto";
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, truncateSync, writeFileSync, writeSync } from "node:fs";
import { hostname } from "node:os";
import { dirname, join } from "node:path";
import { TrackingError } from "@mnemo/core/errors";
import { processAlive } from "./process-alive.js";
import { decodeMetricValue, encodeMetricValue } from "./rest-client.js";
import type { MlflowRunStatus } from "./types.js";

export const JOURNAL_FILE = "tracking-journal.jsonl";
export const ACKS_FILE = "tracking-acks.jsonl";
export const JOURNAL_LOCK = "tracking-journal.lock";
export const JOURNAL_ARTIFACT_DIR = "tracking-artifacts";

/** Where the run is mirrored, as recorded (never with credentials). */
export type JournalTarget = { kind: "rest"; uri: string } | { kind: "file"; root: string };

interface EntryBase {
  seq: number;
  key: string;
}
export type StartEntry = EntryBase & {
  type: "start";
  /** 32 hex characters; the file store uses it as the MLflow run id, servers get it as a tag. */
  journalId: string;
  experimentName: string;
  runName: string;
  userId: string;
  startTime: number;
  parentRunId?: string;
  target: JournalTarget;
};
export type MetricEntry = EntryBase & { type: "metric"; name: string; value: number | string; timestamp: number; step: number };
export type ParamEntry = EntryBase & { type: "param"; name: string; value: string };
export type TagEntry = EntryBase & { type: "tag"; name: string; value: string };
export type ArtifactEntry = EntryBase & { type: "artifact"; path: string; file: string; sha256: string; bytes: number };
export type StatusEntry = EntryBase & { type: "status"; status: MlflowRunStatus; time: number };
export type JournalEntry = StartEntry | MetricEntry | ParamEntry | TagEntry | ArtifactEntry | StatusEntry;
/** An entry before the journal gives it its sequence number. */
export type NewEntry = JournalEntry extends infer E ? (E extends JournalEntry ? Omit<E, "seq"> : never) : never;

/** Tag that links a server run to its journal (lets a restarted sender find a run it created but never recorded). */
export const JOURNAL_ID_TAG = "mnemo.journalId";

export const metricKey = (name: string, step: number): string => `m/${step}/${name}`;
export const paramKey = (name: string): string => `p/${name}`;
export const tagKey = (name: string, value: string): string => `t/${name}/${sha(value).slice(0, 16)}`;

export function sha(content: string | Uint8Array): string {
  return createHash("sha256").update(content).digest("hex");
}

export function newJournalId(): string {
  return randomUUID().replace(/-/g, "");
}

export function metricEntry(name: string, value: number, timestamp: number, step: number): Omit<MetricEntry, "seq"> {
  return { key: metricKey(name, step), type: "metric", name, value: encodeMetricValue(value), timestamp, step };
}

export function metricValue(e: MetricEntry): number {
  return decodeMetricValue(e.value);
}

export interface JournalOptions {
  fsyncIntervalMs?: number;
  /** Entries are kept in memory only from this sequence number on (older ones: keys only). */
  keepFrom?: number;
}

/** Append-only, fsync'd, idempotent. One writer at a time (see JournalLock). */
export class Journal {
  readonly file: string;
  private fd: number;
  private readonly keys = new Set<string>();
  private readonly entries: JournalEntry[] = [];
  private nextSeq = 1;
  private lastSync = 0;
  private dirty = false;
  private readonly fsyncIntervalMs: number;
  private startEntry?: StartEntry;
  /** Params as journaled: MLflow params are immutable, so a later different value is refused up front. */
  readonly params = new Map<string, string>();
  private lastStatusEntry?: StatusEntry;
  /** Duplicate appends skipped (a resumed run re-logging points it already logged). */
  skipped = 0;

  constructor(
    readonly runDir: string,
    options: JournalOptions = {},
  ) {
    this.file = join(runDir, JOURNAL_FILE);
    this.fsyncIntervalMs = options.fsyncIntervalMs ?? 1000;
    mkdirSync(runDir, { recursive: true });
    let validBytes = 0;
    if (existsSync(this.file)) {
      const buf = readFileSync(this.file);
      let start = 0;
      let line = 0;
      for (let nl = buf.indexOf(10, start); nl >= 0; nl = buf.indexOf(10, start)) {
        line++;
        const text = buf.subarray(start, nl).toString("utf8");
        start = nl + 1;
        if (text.trim() === "") continue;
        let entry: JournalEntry;
        try {
          entry = JSON.parse(text) as JournalEntry;
        } catch (cause) {
          throw new TrackingError(`${this.file}:${line}: unreadable journal entry (${(cause as Error).message}); the file was edited or damaged. Restore it from a copy or remove the line.`, {}, { cause });
        }
        this.remember(entry, (options.keepFrom ?? 0) <= entry.seq);
        validBytes = start;
      }
      // A line without its newline is an append cut short by a kill: never acknowledged, dropped.
    }
    if (existsSync(this.file) && statSync(this.file).size > validBytes) truncateSync(this.file, validBytes);
    this.fd = openSync(this.file, "a");
  }

  get start(): StartEntry | undefined {
    return this.startEntry;
  }

  /** The most recent status change (RUNNING after a resume, FINISHED/FAILED/KILLED at the end). */
  get lastStatus(): StatusEntry | undefined {
    return this.lastStatusEntry;
  }

  get lastSeq(): number {
    return this.nextSeq - 1;
  }

  has(key: string): boolean {
    return this.keys.has(key);
  }

  /** Entries with seq > after still held in memory, in order. */
  after(after: number): JournalEntry[] {
    // Entries are sorted by seq: binary search for the first one past `after`.
    let lo = 0;
    let hi = this.entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((this.entries[mid] as JournalEntry).seq <= after) lo = mid + 1;
      else hi = mid;
    }
    return this.entries.slice(lo);
  }

  /** Drops acknowledged entries from memory (their keys stay, for de-duplication). */
  forget(upTo: number): void {
    let n = 0;
    while (n < this.entries.length && (this.entries[n] as JournalEntry).seq <= upTo) n++;
    if (n > 0) this.entries.splice(0, n);
  }

  /** Appends the entries whose keys are new; returns those appended. Written before returning. */
  append(entries: readonly NewEntry[], options: { sync?: boolean } = {}): JournalEntry[] {
    const fresh: JournalEntry[] = [];
    const batchKeys = new Set<string>();
    for (const e of entries) {
      if (this.keys.has(e.key) || batchKeys.has(e.key)) {
        this.skipped++;
        continue;
      }
      batchKeys.add(e.key);
      fresh.push({ ...e, seq: this.nextSeq + fresh.length } as JournalEntry);
    }
    if (fresh.length === 0) return fresh;
    const text = fresh.map((e) => JSON.stringify(e) + "\n").join("");
    try {
      writeSync(this.fd, text);
    } catch (cause) {
      throw new TrackingError(`Cannot append to the tracking journal ${this.file}: ${(cause as Error).message}. Free disk space; nothing after this point is recorded.`, {}, { cause });
    }
    for (const e of fresh) this.remember(e, true);
    this.dirty = true;
    if (options.sync || Date.now() - this.lastSync >= this.fsyncIntervalMs) this.sync();
    return fresh;
  }

  sync(): void {
    if (!this.dirty) return;
    fsyncSync(this.fd);
    this.dirty = false;
    this.lastSync = Date.now();
  }

  close(): void {
    this.sync();
    closeSync(this.fd);
  }

  private remember(entry: JournalEntry, keep: boolean): void {
    this.keys.add(entry.key);
    this.nextSeq = Math.max(this.nextSeq, entry.seq + 1);
    if (entry.type === "start" && !this.startEntry) this.startEntry = entry;
    if (entry.type === "status") this.lastStatusEntry = entry;
    if (entry.type === "param") this.params.set(entry.name, entry.value);
    if (keep) this.entries.push(entry);
  }
}

/** Saves an artifact's bytes under the run directory by content hash (temp + fsync + rename). */
export function saveArtifactCopy(runDir: string, content: string | Uint8Array): { file: string; sha256: string; bytes: number } {
  const bytes = typeof content === "string" ? Buffer.from(content, "utf8") : content;
  const sha256 = sha(bytes);
  const file = join(JOURNAL_ARTIFACT_DIR, sha256);
  const abs = join(runDir, file);
  if (!existsSync(abs)) {
    mkdirSync(join(runDir, JOURNAL_ARTIFACT_DIR), { recursive: true });
    const tmp = `${abs}.tmp-${process.pid}`;
    const fd = openSync(tmp, "w");
    try {
      writeSync(fd, bytes);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, abs);
  }
  return { file, sha256, bytes: bytes.byteLength };
}

export interface Ack {
  /** Destination id (credential-free URI or file-store root). */
  dest: string;
  runId: string;
  /** Every entry with seq <= this was acknowledged by `dest`. */
  seq: number;
}

/** `tracking-acks.jsonl`: per destination, the run id there and how far it has acknowledged. */
export class AckLog {
  readonly file: string;
  private readonly latest = new Map<string, Ack>();

  constructor(runDir: string) {
    this.file = join(runDir, ACKS_FILE);
    if (!existsSync(this.file)) return;
    for (const line of readFileSync(this.file, "utf8").split("\n")) {
      if (line.trim() === "") continue;
      let ack: Ack;
      try {
        ack = JSON.parse(line) as Ack;
      } catch {
        // A torn last line: the ack it would have recorded is simply re-earned by resending.
        continue;
      }
      const cur = this.latest.get(ack.dest);
      if (!cur || cur.runId !== ack.runId || ack.seq >= cur.seq) this.latest.set(ack.dest, ack);
    }
  }

  get(dest: string): Ack | undefined {
    return this.latest.get(dest);
  }

  all(): Ack[] {
    return [...this.latest.values()];
  }

  record(ack: Ack): void {
    this.latest.set(ack.dest, ack);
    // An ack lost to a crash costs a resend that destinations de-duplicate; no fsync needed.
    writeFileSync(this.file, JSON.stringify(ack) + "\n", { flag: "a" });
  }
}

interface LockInfo {
  pid: number;
  host: string;
  since: string;
  what: string;
}

/**
 * One process at a time writes a run's journal and sends from it. A lock left by a process that
 * is gone (same host, pid not alive) is stale: the run crashed or was killed.
 */
export class JournalLock {
  readonly file: string;
  private held = false;

  constructor(runDir: string) {
    this.file = join(runDir, JOURNAL_LOCK);
  }

  /** The holder, if the lock is held by a live process; `stale` if left by a dead one. */
  inspect(): { state: "free" } | { state: "live" | "stale" | "foreign"; info: LockInfo } {
    if (!existsSync(this.file)) return { state: "free" };
    let info: LockInfo;
    try {
      info = JSON.parse(readFileSync(this.file, "utf8")) as LockInfo;
    } catch {
      // Half-written by a process killed while taking it: that process is gone.
      return { state: "stale", info: { pid: 0, host: hostname(), since: "", what: "unknown" } };
    }
    if (info.host !== hostname()) return { state: "foreign", info };
    if (info.pid === process.pid) return { state: "live", info };
    return { state: processAlive(info.pid) ? "live" : "stale", info };
  }

  /** Takes the lock; returns whether a stale one was broken (the previous writer died). */
  acquire(what: string): { brokeStale: boolean } {
    mkdirSync(dirname(this.file), { recursive: true });
    const content = JSON.stringify({ pid: process.pid, host: hostname(), since: new Date().toISOString(), what } satisfies LockInfo);
    try {
      // O_EXCL: of two processes starting at once, exactly one gets the lock.
      const fd = openSync(this.file, "wx");
      try {
        writeSync(fd, content);
      } finally {
        closeSync(fd);
      }
      this.held = true;
      return { brokeStale: false };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    const state = this.inspect();
    if (state.state === "live" || state.state === "foreign") {
      const i = state.info;
      throw new TrackingError(
        `${this.file}: the run is in use by ${i.what} (pid ${i.pid} on ${i.host}, since ${i.since}). Wait for it to end${state.state === "foreign" ? ", or delete the lock if that host no longer runs it" : ""}.`,
      );
    }
    const tmp = `${this.file}.tmp-${process.pid}`;
    writeFileSync(tmp, content);
    renameSync(tmp, this.file);
    this.held = true;
    return { brokeStale: state.state === "stale" };
  }

  release(): void {
    if (!this.held) return;
    this.held = false;
    try {
      const info = JSON.parse(readFileSync(this.file, "utf8")) as LockInfo;
      if (info.pid === process.pid) rmSync(this.file, { force: true });
    } catch {
      // Already gone or replaced: nothing of ours to release.
    }
  }
}
