import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { TrackingError } from "@mnemo/core";
import { MlflowTestServer, type ServerMetric } from "../src/testing/mlflow-test-server.js";
import { RestTracker } from "../src/rest-tracker.js";
import { syncRunDir } from "../src/sync.js";
import { PENDING_FILE, readOps, REJECTED_FILE } from "../src/pending.js";
import { FAST_RETRY, noWarn, tempDir, tickingClock } from "./helpers.js";

let server: MlflowTestServer;
let tmp: ReturnType<typeof tempDir>;

beforeEach(async () => {
  server = await MlflowTestServer.start();
  tmp = tempDir();
});
afterEach(async () => {
  await server.close();
  tmp.cleanup();
});

const info = { experimentName: "split-mnist", runName: "ewc", params: { "stream.increment": "10", lr: "0.01" }, tags: { "mnemo.seed": "7" } };

function tracker(extra: Partial<ConstructorParameters<typeof RestTracker>[0]> = {}): RestTracker {
  return new RestTracker({ trackingUri: server.url, env: {}, retry: FAST_RETRY, runDir: tmp.dir, clock: tickingClock(), flushIntervalMs: 5, onWarning: noWarn, ...extra });
}

/** Each (key, step) logged exactly once: the invariant "no metric lost or duplicated". */
function expectExactlyOnce(metrics: ServerMetric[], steps: number, keys: string[]): void {
  const seen = new Map<string, number>();
  for (const m of metrics) seen.set(`${m.key}@${m.step}`, (seen.get(`${m.key}@${m.step}`) ?? 0) + 1);
  for (const key of keys) for (let s = 0; s < steps; s++) expect(seen.get(`${key}@${s}`), `${key}@${s}`).toBe(1);
  expect(metrics).toHaveLength(steps * keys.length);
}

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("condition not reached in time");
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe("RestTracker", () => {
  it("logs a run: params, tags, metrics with steps, artifacts, final status", async () => {
    const t = tracker();
    const runId = await t.startRun({ ...info, parentRunId: "f".repeat(32) });
    for (let step = 0; step < 5; step++) t.logMetrics({ loss: 1 / (step + 1), acc: step * 10 }, step);
    t.setTags({ phase: "done" });
    await t.logArtifact("plots/heatmap.svg", "<svg/>");
    await t.endRun("FINISHED");
    const run = server.runs.get(runId)!;
    expect(run.info.status).toBe("FINISHED");
    expect(run.info.end_time).toBeGreaterThan(run.info.start_time);
    expect(Object.fromEntries(run.params)).toEqual(info.params);
    expect(run.tags.get("mlflow.parentRunId")).toBe("f".repeat(32));
    expect(run.tags.get("mnemo.seed")).toBe("7");
    expect(run.tags.get("phase")).toBe("done");
    expect(server.metricHistory(runId, "acc").map((m) => [m.step, m.value])).toEqual([0, 1, 2, 3, 4].map((s) => [s, s * 10]));
    expect(server.artifacts.get(`1/${runId}/artifacts/plots/heatmap.svg`)?.toString()).toBe("<svg/>");
    expect(existsSync(join(tmp.dir, PENDING_FILE))).toBe(false);
  });

  it("never makes training wait on the network: logMetrics returns while the server hangs", async () => {
    const t = tracker({ retry: { ...FAST_RETRY, timeoutMs: 300, maxAttempts: 1 } });
    const runId = await t.startRun(info);
    await t.flush();
    server.inject({ kind: "timeout" }, { path: "log-batch", times: 1000 });
    const start = performance.now();
    for (let step = 0; step < 3000; step++) t.logMetrics({ loss: step }, step);
    const elapsed = performance.now() - start;
    // 3000 synchronous enqueues against a server that never answers.
    expect(elapsed).toBeLessThan(500);
    expect(t.queueLength).toBeGreaterThanOrEqual(2000);
    server.clearFaults();
    await t.endRun("FINISHED");
    expectExactlyOnce(server.runs.get(runId)!.metrics, 3000, ["loss"]);
  });

  it("loses and duplicates nothing when the server fails mid-run (500s, drops, timeouts) and recovers", async () => {
    const t = tracker({ flushAt: 50 });
    const runId = await t.startRun(info);
    for (let step = 0; step < 200; step++) {
      if (step === 40) {
        server.inject({ kind: "status", status: 500 }, { path: "log-batch", times: 3 });
        server.inject({ kind: "drop" }, { path: "log-batch", times: 2 });
        server.inject({ kind: "timeout" }, { path: "log-batch", times: 1 });
        server.inject({ kind: "status", status: 503 }, { path: "log-batch", times: 6 });
      }
      t.logMetrics({ loss: 1 / (step + 1), acc: step }, step);
      if (step % 25 === 0) await new Promise((r) => setTimeout(r, 2));
    }
    // 12 failures outlast one request's 4 attempts: the background loop must pick up again.
    await until(() => t.queueLength === 0);
    await t.endRun("FINISHED");
    const outcomes = server.requestsTo("log-batch").map((r) => r.outcome);
    expect(outcomes.filter((o) => o !== "ok").length).toBe(12);
    expectExactlyOnce(server.runs.get(runId)!.metrics, 200, ["loss", "acc"]);
    expect(server.runs.get(runId)!.info.status).toBe("FINISHED");
    expect(existsSync(join(tmp.dir, PENDING_FILE))).toBe(false);
  });

  it("sends each item once when flush(), background flushes and logging interleave", async () => {
    // No server-side dedup: any double send would show.
    await server.close();
    server = await MlflowTestServer.start({ dedupeMetrics: false });
    const t = tracker({ flushAt: 5 });
    const runId = await t.startRun(info);
    const flushes: Promise<boolean>[] = [];
    for (let step = 0; step < 300; step++) {
      t.logMetrics({ loss: step }, step);
      if (step % 7 === 0) flushes.push(t.flush());
      if (step % 3 === 0) await new Promise((r) => setImmediate(r));
    }
    const ending = t.endRun("FINISHED");
    expect(() => t.logMetrics({ loss: -1 }, 999)).toThrow(/after endRun/);
    await Promise.all(flushes);
    await ending;
    expectExactlyOnce(server.runs.get(runId)!.metrics, 300, ["loss"]);
  });

  it("never runs two sends at once: a kick during flush() does not resend the in-flight chunk", async () => {
    await server.close();
    server = await MlflowTestServer.start({ dedupeMetrics: false });
    const t = tracker({ flushAt: 5, flushIntervalMs: 60_000 });
    const runId = await t.startRun({ ...info, params: {} });
    for (let step = 0; step < 4; step++) t.logMetrics({ loss: step }, step);
    const flushing = t.flush();
    // Reaches flushAt while the first request is in flight.
    t.logMetrics({ loss: 4 }, 4);
    await flushing;
    await t.endRun("FINISHED");
    expectExactlyOnce(server.runs.get(runId)!.metrics, 5, ["loss"]);
  });

  it("a batch applied but whose response was lost is not duplicated on a server that dedupes (SQL store)", async () => {
    const t = tracker();
    const runId = await t.startRun(info);
    await t.flush();
    server.inject({ kind: "apply-then-drop" }, { path: "log-batch" });
    for (let step = 0; step < 20; step++) t.logMetrics({ loss: step }, step);
    await t.endRun("FINISHED");
    expect(server.requestsTo("log-batch").map((r) => r.outcome)).toContain("apply-then-drop");
    expectExactlyOnce(server.runs.get(runId)!.metrics, 20, ["loss"]);
  });

  it("documents the one duplicate case: response lost after apply, server without dedup (file store backend)", async () => {
    await server.close();
    server = await MlflowTestServer.start({ dedupeMetrics: false });
    const t = tracker();
    const runId = await t.startRun(info);
    await t.flush();
    server.inject({ kind: "apply-then-drop" }, { path: "log-batch" });
    for (let step = 0; step < 20; step++) t.logMetrics({ loss: step }, step);
    await t.endRun("FINISHED");
    const metrics = server.runs.get(runId)!.metrics;
    // Every point arrived; the resent batch is a byte-identical copy (same timestamps).
    expect(metrics).toHaveLength(40);
    const first = metrics.slice(0, 20);
    expect(metrics.slice(20)).toEqual(first);
  });

  it("writes what cannot be sent on shutdown to the run dir, and syncRunDir replays it exactly once", async () => {
    const t = tracker();
    const runId = await t.startRun(info);
    await t.flush();
    for (let step = 0; step < 10; step++) t.logMetrics({ loss: step }, step);
    await t.flush();
    server.inject({ kind: "status", status: 503 }, { times: 10_000 });
    for (let step = 10; step < 2500; step++) t.logMetrics({ loss: step, acc: step / 2 }, step);
    await t.logArtifact("notes.txt", "hello");
    await t.endRun("FAILED");
    const ops = readOps(join(tmp.dir, PENDING_FILE));
    expect(ops.map((o) => o.type)).toEqual(["artifact", "log-batch", "log-batch", "log-batch", "log-batch", "log-batch", "update-run"]);
    expect(t.stats.pendingItems).toBe(2490 * 2 + 1);
    expect(server.runs.get(runId)!.info.status).toBe("RUNNING");

    // Still down: nothing is lost, the file stays.
    const still = await syncRunDir(tmp.dir, { retry: FAST_RETRY, env: {} });
    expect(still).toMatchObject({ sent: 0, remaining: 7 });

    // Recovers, but fails once more in the middle of the replay: a second sync finishes the job.
    server.clearFaults();
    server.inject({ kind: "status", status: 503 }, { path: "log-batch", times: FAST_RETRY.maxAttempts });
    const partial = await syncRunDir(tmp.dir, { retry: FAST_RETRY, env: {} });
    expect(partial.sent).toBe(1);
    expect(partial.remaining).toBe(6);
    const done = await syncRunDir(tmp.dir, { retry: FAST_RETRY, env: {} });
    expect(done).toMatchObject({ sent: 6, remaining: 0, rejected: [] });

    const run = server.runs.get(runId)!;
    expect(run.info.status).toBe("FAILED");
    expectExactlyOnce(run.metrics.filter((m) => m.key === "loss"), 2500, ["loss"]);
    expectExactlyOnce(run.metrics.filter((m) => m.key === "acc" && m.step >= 10).map((m) => ({ ...m, step: m.step - 10 })), 2490, ["acc"]);
    expect(server.artifacts.get(`1/${runId}/artifacts/notes.txt`)?.toString()).toBe("hello");
    expect(readOps(join(tmp.dir, PENDING_FILE))).toEqual([]);
    expect(existsSync(join(tmp.dir, "tracking-sync.lock"))).toBe(false);
  });

  it("refuses to run two syncs of one run dir at once", async () => {
    writeFileSync(join(tmp.dir, "tracking-sync.lock"), "");
    await expect(syncRunDir(tmp.dir, { retry: FAST_RETRY, env: {} })).rejects.toThrow(/Another `mnemo sync` is running/);
    await expect(syncRunDir(join(tmp.dir, "missing"), { env: {} })).rejects.toThrow(/Is it a run directory/);
  });

  it("spills to the pending file when the bounded queue is full, losing nothing", async () => {
    const t = tracker({ maxQueue: 100, retry: { ...FAST_RETRY, maxAttempts: 1 } });
    const runId = await t.startRun(info);
    await t.flush();
    server.inject({ kind: "status", status: 500 }, { times: 10_000 });
    for (let step = 0; step < 300; step++) t.logMetrics({ loss: step }, step);
    expect(t.queueLength).toBeLessThanOrEqual(100);
    await t.endRun("FINISHED");
    server.clearFaults();
    expect(await syncRunDir(tmp.dir, { retry: FAST_RETRY, env: {} })).toMatchObject({ remaining: 0, rejected: [] });
    expectExactlyOnce(server.runs.get(runId)!.metrics, 300, ["loss"]);
  });

  it("keeps delivering after a 4xx rejection, sets the rejected items aside and reports them at endRun", async () => {
    const t = tracker();
    const runId = await t.startRun(info);
    await t.flush();
    server.inject({ kind: "status", status: 400, errorCode: "INVALID_PARAMETER_VALUE" }, { path: "log-batch" });
    for (let step = 0; step < 5; step++) t.logMetrics({ loss: step }, step);
    await until(() => server.requestsTo("log-batch").some((r) => r.outcome === "400"));
    for (let step = 5; step < 10; step++) t.logMetrics({ loss: step }, step);
    const err = await t.endRun("FINISHED").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TrackingError);
    expect((err as TrackingError).message).toMatch(/1 log-batch request\(s\) were rejected/);
    expect((err as TrackingError).errorCode).toBe("INVALID_PARAMETER_VALUE");
    expect(server.requestsTo("log-batch").filter((r) => r.outcome === "400")).toHaveLength(1);
    expect(server.metricHistory(runId, "loss").map((m) => m.step)).toEqual([5, 6, 7, 8, 9]);
    expect(server.runs.get(runId)!.info.status).toBe("FINISHED");
    const rejected = readOps(join(tmp.dir, REJECTED_FILE));
    expect(rejected).toHaveLength(1);
    expect(rejected[0].type === "log-batch" && rejected[0].metrics.map((m) => m.step)).toEqual([0, 1, 2, 3, 4]);
  });

  it("without a run dir, refuses to silently drop data when the server is down at the end", async () => {
    const t = tracker({ runDir: undefined });
    await t.startRun(info);
    await t.flush();
    server.inject({ kind: "status", status: 503 }, { times: 10_000 });
    t.logMetrics({ loss: 1 }, 0);
    await expect(t.endRun("FINISHED")).rejects.toThrow(/no run directory to keep them/);
  });

  it("rejects invalid metric names at the call site", async () => {
    const t = tracker();
    await t.startRun(info);
    expect(() => t.logMetrics({ "../escape": 1 })).toThrow(TrackingError);
    expect(() => t.logMetrics({ "bad*name": 1 })).toThrow(/Invalid metric name/);
    expect(() => t.logMetrics({ "acc/task_0": 1 })).not.toThrow();
    await t.endRun("FINISHED");
  });
});

describe("mnemo sync", () => {
  it("replays a run's pending file to the server and exits 0", async () => {
    const { syncCommand } = await import("../../cli/src/commands/sync.js");
    const t = tracker();
    const runId = await t.startRun(info);
    await t.flush();
    server.inject({ kind: "status", status: 503 }, { times: 10_000 });
    for (let step = 0; step < 30; step++) t.logMetrics({ loss: step }, step);
    await t.endRun("FINISHED");
    const lines: string[] = [];
    const sink = { stdout: (l: string) => lines.push(l), stderr: (l: string) => lines.push(l) };
    expect(await syncCommand([tmp.dir], sink)).toBe(1);
    expect(lines.join("\n")).toMatch(/still unavailable/);
    server.clearFaults();
    expect(await syncCommand([tmp.dir, "--uri", server.url], sink)).toBe(0);
    expectExactlyOnce(server.runs.get(runId)!.metrics, 30, ["loss"]);
    expect(server.runs.get(runId)!.info.status).toBe("FINISHED");
  });
});
