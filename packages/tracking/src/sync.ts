import { closeSync, openSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { TrackingError } from "@mnemo/core";
import { appendOps, opToBatch, pendingFile, readOps, REJECTED_FILE, writeOps, type PendingOp } from "./pending.js";
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
  rejected: { op: PendingOp; error: TrackingError }[];
}

/**
 * Replays `<runDir>/tracking-pending.jsonl` against the MLflow server, in order. After each
 * acknowledged operation the file is rewritten without it, so an interrupted sync can simply be
 * run again without resending what already arrived.
 */
export async function syncRunDir(runDir: string, options: SyncOptions = {}): Promise<SyncResult> {
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
