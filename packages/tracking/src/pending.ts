import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { TrackingError } from "@mnemo/core/errors";
import { chunkBatch } from "./chunk.js";
import { decodeMetricValue, encodeMetricValue } from "./rest-client.js";
import type { KeyValue, LogBatch, MlflowRunStatus } from "./types.js";

/** Where a run keeps what could not be sent; `mnemo sync <run-dir>` replays it. */
export const PENDING_FILE = "tracking-pending.jsonl";
/** Operations the server refused for good (a 4xx); kept for inspection, never replayed. */
export const REJECTED_FILE = "tracking-rejected.jsonl";
export const PENDING_ARTIFACT_DIR = "tracking-pending-artifacts";

interface WireMetric {
  key: string;
  value: number | string;
  timestamp: number;
  step: number;
}

interface OpBase {
  v: 1;
  trackingUri: string;
  runId: string;
}

export type PendingOp =
  | (OpBase & { type: "log-batch"; metrics: WireMetric[]; params: KeyValue[]; tags: KeyValue[] })
  | (OpBase & { type: "update-run"; status: MlflowRunStatus; endTime: number })
  | (OpBase & { type: "artifact"; experimentId: string; artifactUri: string; path: string; file: string });

export function pendingFile(runDir: string): string {
  return join(runDir, PENDING_FILE);
}

/** Batch ops are written pre-chunked so that replaying one op is exactly one request. */
export function batchOps(trackingUri: string, runId: string, batch: LogBatch): PendingOp[] {
  return chunkBatch(batch).map((c) => ({
    v: 1,
    type: "log-batch",
    trackingUri,
    runId,
    metrics: c.metrics.map((m) => ({ ...m, value: encodeMetricValue(m.value) })),
    params: c.params,
    tags: c.tags,
  }));
}

export function opToBatch(op: Extract<PendingOp, { type: "log-batch" }>): LogBatch {
  return { metrics: op.metrics.map((m) => ({ ...m, value: decodeMetricValue(m.value) })), params: op.params, tags: op.tags };
}

export function appendOps(file: string, ops: PendingOp[]): void {
  if (ops.length === 0) return;
  mkdirSync(dirname(file), { recursive: true });
  // Synchronous on purpose: this runs on shutdown and on queue overflow, where an async write
  // could be cut short by process exit, losing exactly the data this file exists to keep.
  appendFileSync(file, ops.map((op) => JSON.stringify(op) + "\n").join(""));
}

export function readOps(file: string): PendingOp[] {
  if (!existsSync(file)) return [];
  const lines = readFileSync(file, "utf8").split("\n");
  const ops: PendingOp[] = [];
  lines.forEach((line, i) => {
    if (line.trim() === "") return;
    try {
      const op = JSON.parse(line) as PendingOp;
      if (op.v !== 1 || typeof op.type !== "string" || typeof op.runId !== "string") throw new Error("not a pending operation");
      ops.push(op);
    } catch (cause) {
      throw new TrackingError(`${file}:${i + 1}: unreadable pending tracking operation (${(cause as Error).message}). Fix or remove the line, then re-run \`mnemo sync\`.`, {}, { cause });
    }
  });
  return ops;
}

/** Atomic rewrite: a crash mid-sync leaves either the old or the new list, never half of one. */
export function writeOps(file: string, ops: PendingOp[]): void {
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, ops.map((op) => JSON.stringify(op) + "\n").join(""));
  renameSync(tmp, file);
}
