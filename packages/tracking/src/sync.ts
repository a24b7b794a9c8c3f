import { closeSync, existsSync, openSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { MNEMO_COMMAND, TrackingError } from "@mnemo/core/errors";
import { destinationFor } from "./destinations.js";
import { resolveTrackingTarget } from "./factory.js";
import { AckLog, Journal, JOURNAL_FILE, JournalLock, saveArtifactCopy, tagKey, type JournalEntry, type NewEntry } from "./journal.js";
import { JournalSender } from "./journal-tracker.js";
import { redactUri } from "./redact.js";
import { appendOps, opToBatch, pendingFile, readOps, REJECTED_FILE, writeOps, type PendingOp } from "./pending.js";
import { writeFileAtomic as writeOpsAtomic } from "./atomic.js";
import { isTransientTrackingError, MlflowRestClient, type MlflowClientOptions } from "./rest-client.js";

export interface SyncOptions extends Partial<MlflowClientOptions> {
  /** Overrides the server recorded in the pending file (e.g. the server moved). */
  uri?: string;
}

export interface SyncResult {
  /** Operations (requests) replayed successfully. */
  sent: number;
  /** Operations still pending because the server is unavailable. */
  remaining: number;
  /** Operations the server refused for good; moved to tracking-rejected.jsonl. */
  rejected: { op: PendingOp | { type: "journal-entries"; runId: string; entries: JournalEntry[] }; error: TrackingError }[];
  /** The run's process had died without closing it: sync marked it FAILED (with a `mnemo.failure` tag). */
  markedFailed?: boolean;
  /** Where the journal was delivered (credential-free) and the run id there. */
  destination?: string;
  runId?: string;
}

/** Tag set on a run whose process ended without closing it. */
export const FAILURE_TAG = "mnemo.failure";

/**
 * Delivers a run directory's journal (`tracking-journal.jsonl`): everything not yet acknowledged
 * by the destination (the recorded target, or `uri`) is sent, de-duplicated on its keys. A run
 * whose process is gone while its journal is still RUNNING (killed, crashed, machine lost) is
 * first closed as FAILED with a tag saying why; `mnemo run --resume` sets it back to RUNNING.
 */
export async function syncJournal(runDir: string, options: SyncOptions & { markCrashed?: boolean; onWarning?: (m: string) => void } = {}): Promise<SyncResult> {
  const lock = new JournalLock(runDir);
  lock.acquire("mnemo sync");
  try {
    const journal = new Journal(runDir);
    const start = journal.start;
    if (!start) {
      journal.close();
      return { sent: 0, remaining: 0, rejected: [] };
    }
    let markedFailed = false;
    const last = journal.lastStatus;
    if ((options.markCrashed ?? true) && (!last || last.status === "RUNNING")) {
      const now = Date.now();
      const reason = `the process running this experiment ended without closing the run (killed or crashed); marked FAILED by mnemo sync at ${new Date(now).toISOString()}. Continue it with: ${MNEMO_COMMAND} run --resume ${runDir}`;
      journal.append(
        [
          { key: tagKey(FAILURE_TAG, reason), type: "tag", name: FAILURE_TAG, value: reason },
          { key: `s/${journal.lastSeq + 2}`, type: "status", status: "FAILED", time: now },
        ],
        { sync: true },
      );
      markedFailed = true;
      markRunJsonFailed(runDir, reason);
    }
    const uri = options.uri ?? options.trackingUri;
    const target = uri ? resolveTrackingTarget(uri) : start.target;
    const shownTarget = target.kind === "rest" ? { kind: "rest" as const, uri: redactUri(target.uri) } : target;
    const destination = destinationFor(shownTarget, target.kind === "rest" ? target.uri : undefined, options);
    const sender = new JournalSender(journal, new AckLog(runDir), destination, options.onWarning);
    const r = await sender.drain();
    journal.close();
    return {
      sent: r.sentUnits,
      remaining: r.remaining,
      rejected: r.rejected.map((x) => ({ op: { type: "journal-entries" as const, runId: sender.runId ?? "", entries: x.entries }, error: x.error })),
      markedFailed,
      destination: destination.id,
      runId: sender.runId,
    };
  } finally {
    lock.release();
  }
}

/** Keeps run.json (the run directory's own record) in line with the FAILED mark. */
function markRunJsonFailed(runDir: string, reason: string): void {
  const file = join(runDir, "run.json");
  if (!existsSync(file)) return;
  try {
    const run = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
    if (run.status !== "RUNNING") return;
    run.status = "FAILED";
    run.error = reason;
    run.endedAt = run.endedAt ?? new Date().toISOString();
    writeOpsAtomic(file, JSON.stringify(run, null, 2) + "\n");
  } catch {
    // An unreadable run.json is reported by whoever reads it; the journal has the mark.
  }
}

/**
 * Run directories under `dir` (one level: `<output.dir>/<name>/*`) whose journal is still open
 * while no live process holds it: crashed runs. `mnemo run` closes them as FAILED before it
 * starts a new run in the same folder.
 */
export function findCrashedRuns(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (!e.isDirectory()) continue;
    const runDir = join(dir, e.name);
    if (!existsSync(join(runDir, JOURNAL_FILE))) continue;
    const state = new JournalLock(runDir).inspect().state;
    if (state === "live" || state === "foreign") continue;
    if (!journalStillOpen(runDir)) continue;
    out.push(runDir);
  }
  return out;
}

/** Cheap check on the journal's tail: is the last status change RUNNING (or none at all)? */
function journalStillOpen(runDir: string): boolean {
  const text = readFileSync(join(runDir, JOURNAL_FILE), "utf8");
  let status: string | undefined;
  for (const line of text.split("\n")) {
    if (!line.includes('"type":"status"')) continue;
    try {
      status = (JSON.parse(line) as { status?: string }).status;
    } catch {
      // torn last line
    }
  }
  return status === undefined || status === "RUNNING";
}

/**
 * Replays `<runDir>/tracking-pending.jsonl` against the MLflow server, in order. After each
 * acknowledged operation the file is rewritten without it, so an interrupted sync can simply be
 * run again without resending what already arrived.
 */
export async function syncRunDir(runDir: string, options: SyncOptions & { onWarning?: (m: string) => void } = {}): Promise<SyncResult> {
  const legacy = existsSync(pendingFile(runDir)) || !existsSync(join(runDir, JOURNAL_FILE)) ? await syncPendingFile(runDir, options) : undefined;
  if (!existsSync(join(runDir, JOURNAL_FILE))) return legacy as SyncResult;
  const journal = await syncJournal(runDir, options);
  if (!legacy) return journal;
  return { ...journal, sent: journal.sent + legacy.sent, remaining: journal.remaining + legacy.remaining, rejected: [...legacy.rejected, ...journal.rejected] };
}

/** Replays `tracking-pending.jsonl` (written by RestTracker, the tracker without a journal). */
async function syncPendingFile(runDir: string, options: SyncOptions): Promise<SyncResult> {
  const lock = join(runDir, "tracking-sync.lock");
  try {
    // Two syncs of one run dir would both send the head of the file.
    closeSync(openSync(lock, "wx"));
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === "EEXIST") {
      throw new TrackingError(`Another \`mnemo sync\` is running on ${runDir} (${lock} exists). If none is, the lock is stale: delete it and retry.`, {}, { cause });
    }
    throw new TrackingError(`Cannot sync ${runDir}: ${(cause as Error).message}. Is it a run directory?`, {}, { cause });
  }
  try {
    return await syncLocked(runDir, options);
  } finally {
    rmSync(lock, { force: true });
  }
}

async function syncLocked(runDir: string, options: SyncOptions): Promise<SyncResult> {
  const file = pendingFile(runDir);
  let ops = readOps(file);
  const result: SyncResult = { sent: 0, remaining: ops.length, rejected: [] };
  const clients = new Map<string, MlflowRestClient>();
  const clientFor = (recorded: string): MlflowRestClient => {
    const trackingUri = options.uri ?? options.trackingUri ?? options.env?.MLFLOW_TRACKING_URI ?? recorded;
    let client = clients.get(trackingUri);
    if (!client) {
      client = new MlflowRestClient({ ...options, trackingUri });
      clients.set(trackingUri, client);
    }
    return client;
  };
  while (ops.length > 0) {
    const op = ops[0];
    try {
      await replay(clientFor(op.trackingUri), runDir, op);
      result.sent += 1;
    } catch (error) {
      if (isTransientTrackingError(error)) break;
      if (!(error instanceof TrackingError)) throw error;
      appendOps(join(runDir, REJECTED_FILE), [op]);
      result.rejected.push({ op, error });
    }
    ops = ops.slice(1);
    writeOps(file, ops);
  }
  result.remaining = ops.length;
  return result;
}

async function replay(client: MlflowRestClient, runDir: string, op: PendingOp): Promise<void> {
  switch (op.type) {
    case "log-batch":
      await client.logBatch(op.runId, opToBatch(op));
      return;
    case "update-run":
      await client.updateRun(op.runId, op.status, op.endTime);
      return;
    case "artifact": {
      let content: Buffer;
      try {
        content = readFileSync(join(runDir, op.file));
      } catch (cause) {
        throw new TrackingError(`Pending artifact '${op.path}' is missing its saved copy ${join(runDir, op.file)}; it cannot be uploaded.`, {}, { cause });
      }
      await client.uploadArtifact({ runId: op.runId, experimentId: op.experimentId, artifactUri: op.artifactUri }, op.path, content);
      return;
    }
  }
}

/** Where a run directory's journal stands, read without taking its lock. */
export interface JournalState {
  /** The last status change (undefined: the run never logged one after its start). */
  status?: string;
  lastSeq: number;
  /** Per destination: how far it acknowledged. */
  acked: { dest: string; runId: string; seq: number }[];
  /** A live process (this host) holds the journal. */
  live: boolean;
}

/** The journal's status and acknowledgements; undefined when the run directory has no journal. */
export function journalState(runDir: string): JournalState | undefined {
  const file = join(runDir, JOURNAL_FILE);
  if (!existsSync(file)) return undefined;
  let status: string | undefined;
  let lastSeq = 0;
  for (const line of readFileSync(file, "utf8").split("\n")) {
    if (line.trim() === "") continue;
    try {
      const e = JSON.parse(line) as { seq?: number; type?: string; status?: string };
      if (typeof e.seq === "number") lastSeq = Math.max(lastSeq, e.seq);
      if (e.type === "status") status = e.status;
    } catch {
      // torn last line: never acknowledged, dropped when the journal is reopened
    }
  }
  const lock = new JournalLock(runDir).inspect().state;
  return { status, lastSeq, acked: new AckLog(runDir).all(), live: lock === "live" || lock === "foreign" };
}

/**
 * Journals what a run that was killed during its final writes had not journaled yet (its
 * artifacts and the closing status), so that a sync delivers a complete run. The metrics of a
 * finished run are journaled before its run.json says FINISHED; the artifacts are files in
 * the run directory and can be journaled again at any time.
 */
export function finishJournal(runDir: string, close: { status: "FINISHED" | "FAILED" | "KILLED"; artifacts: { path: string; content: Uint8Array | string }[] }): void {
  const lock = new JournalLock(runDir);
  lock.acquire("mnemo sync");
  try {
    const journal = new Journal(runDir);
    try {
      if (!journal.start) throw new TrackingError(`${journal.file} has no run to finish (no start entry).`);
      const entries: NewEntry[] = [];
      for (const a of close.artifacts) {
        const copy = saveArtifactCopy(runDir, a.content);
        entries.push({ key: `a/${a.path}/${copy.sha256}`, type: "artifact", path: a.path, ...copy });
      }
      entries.push({ key: `s/${journal.lastSeq + 1}`, type: "status", status: close.status, time: Date.now() });
      journal.append(entries, { sync: true });
    } finally {
      journal.close();
    }
  } finally {
    lock.release();
  }
}
