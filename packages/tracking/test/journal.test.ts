import { existsSync, readdirSync, readFileSync, writeFileSync, appendFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { TrackingError } from "@mnemo/core";
import { MlflowTestServer } from "../src/testing/mlflow-test-server.js";
import { AckLog, Journal, JOURNAL_FILE, JOURNAL_LOCK } from "../src/journal.js";
import { JournalTracker } from "../src/journal-tracker.js";
import { FileStoreDestination, RestDestination } from "../src/destinations.js";
import { MlflowRestClient } from "../src/rest-client.js";
import { createTracker } from "../src/factory.js";
import { FAILURE_TAG, findCrashedRuns, syncJournal, syncRunDir } from "../src/sync.js";
import { FAST_RETRY, noWarn, tempDir, tickingClock } from "./helpers.js";
import { readMlflowFileStore } from "./mlflow-file-store-reader.js";

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => {
  tmp = tempDir("mnemo-journal-");
});
afterEach(() => tmp.cleanup());

const info = { experimentName: "split-mnist", runName: "er-seed1", params: { lr: "0.1", "stream.increment": "2" }, tags: { "mnemo.seed": "1" } };

function fileTracker(runDir: string, root: string, extra: Partial<ConstructorParameters<typeof JournalTracker>[0]> = {}): JournalTracker {
  return new JournalTracker({ runDir, destination: new FileStoreDestination(root), target: { kind: "file", root }, clock: tickingClock(), flushIntervalMs: 5, onWarning: noWarn, ...extra });
}

/** (key, step) -> count over every metric of a run. */
function pointCounts(metrics: { key: string; step: number }[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const p of metrics) m.set(`${p.key}@${p.step}`, (m.get(`${p.key}@${p.step}`) ?? 0) + 1);
  return m;
}

describe("journal", () => {
  it("appends are idempotent on their key, written before returning, and survive reopening", () => {
    const j = new Journal(tmp.dir);
    const a = j.append([{ key: "m/0/loss", type: "metric", name: "loss", value: 1, timestamp: 5, step: 0 }]);
    expect(a.map((e) => e.seq)).toEqual([1]);
    expect(j.append([{ key: "m/0/loss", type: "metric", name: "loss", value: 2, timestamp: 6, step: 0 }])).toEqual([]);
    expect(j.skipped).toBe(1);
    // On disk already, without close(): a kill -9 now loses nothing.
    expect(readFileSync(join(tmp.dir, JOURNAL_FILE), "utf8").trim().split("\n")).toHaveLength(1);
    const k = new Journal(tmp.dir);
    expect(k.has("m/0/loss")).toBe(true);
    expect(k.append([{ key: "m/1/loss", type: "metric", name: "loss", value: 1, timestamp: 7, step: 1 }])[0]?.seq).toBe(2);
    j.close();
    k.close();
  });

  it("a torn last line (kill inside write) is dropped on reopen and the journal stays appendable", () => {
    const j = new Journal(tmp.dir);
    j.append([{ key: "m/0/a", type: "metric", name: "a", value: 1, timestamp: 1, step: 0 }]);
    j.close();
    appendFileSync(join(tmp.dir, JOURNAL_FILE), '{"seq":2,"key":"m/1/a","ty');
    const k = new Journal(tmp.dir);
    expect(k.lastSeq).toBe(1);
    k.append([{ key: "m/1/a", type: "metric", name: "a", value: 2, timestamp: 2, step: 1 }]);
    k.close();
    const lines = readFileSync(join(tmp.dir, JOURNAL_FILE), "utf8").trim().split("\n");
    expect(lines.map((l) => (JSON.parse(l) as { seq: number }).seq)).toEqual([1, 2]);
  });

  it("a damaged line in the middle is an error naming file and line, not silently skipped", () => {
    writeFileSync(join(tmp.dir, JOURNAL_FILE), '{"seq":1,"key":"x","type":"tag","name":"a","value":"b"}\nnot json\n{"seq":3}\n');
    expect(() => new Journal(tmp.dir)).toThrow(/tracking-journal\.jsonl:2: unreadable journal entry/);
  });
});

describe("JournalTracker -> file store", () => {
  it("writes a run MLflow's FileStore reads back, and records every acknowledgement", async () => {
    const root = join(tmp.dir, "mlruns");
    const runDir = join(tmp.dir, "run");
    const t = fileTracker(runDir, root);
    const runId = await t.startRun(info);
    for (let s = 0; s < 5; s++) t.logMetrics({ train_loss: 1 / (s + 1), "accuracy/task_0": 50 + s }, s);
    t.setTags({ "mnemo.note": "hello" });
    await t.logArtifact("plots/x.svg", "<svg/>");
    await t.endRun("FINISHED");
    const store = readMlflowFileStore(root);
    const run = store.experiments.find((e) => e.name === "split-mnist")?.runs[0];
    expect(run?.info.run_id).toBe(runId);
    expect(run?.info.status).toBe("FINISHED");
    expect(run?.params).toEqual({ lr: "0.1", "stream.increment": "2" });
    expect(run?.tags["mlflow.runName"]).toBe("er-seed1");
    expect(run?.tags["mnemo.note"]).toBe("hello");
    expect(run?.metrics["train_loss"]?.map((m) => m.step)).toEqual([0, 1, 2, 3, 4]);
    expect(run?.artifacts).toContain("plots/x.svg");
    const j = new Journal(runDir);
    expect(new AckLog(runDir).get(`file://${root}`)?.seq).toBe(j.lastSeq);
    j.close();
    expect(existsSync(join(runDir, JOURNAL_LOCK))).toBe(false);
  });

  it("each metric key once per step: a second point at the same step is dropped (backward_transfer at the last step)", async () => {
    const root = join(tmp.dir, "mlruns");
    const t = fileTracker(join(tmp.dir, "run"), root);
    await t.startRun(info);
    t.logMetrics({ backward_transfer: -3.5, forgetting: 4 }, 4);
    t.logMetrics({ backward_transfer: -3.5, final_average_accuracy: 80 }, 4);
    await t.endRun("FINISHED");
    expect(t.stats.duplicatesSkipped).toBe(1);
    const run = readMlflowFileStore(root).experiments[1]?.runs[0];
    expect(run?.metrics["backward_transfer"]).toHaveLength(1);
  });

  it("a resumed run continues the same MLflow run: RUNNING again, then FINISHED, no point twice", async () => {
    const root = join(tmp.dir, "mlruns");
    const runDir = join(tmp.dir, "run");
    const first = fileTracker(runDir, root);
    const id1 = await first.startRun(info);
    for (let s = 0; s < 6; s++) first.logMetrics({ train_loss: s }, s);
    await first.endRun("KILLED");
    expect(readMlflowFileStore(root).experiments[1]?.runs[0]?.info.status).toBe("KILLED");
    const second = fileTracker(runDir, root);
    const id2 = await second.startRun({ ...info, tags: { ...info.tags, "mnemo.resumedAtTask": "2" } });
    expect(id2).toBe(id1);
    expect(second.resumed).toBe(true);
    expect(readMlflowFileStore(root).experiments[1]?.runs[0]?.info.status).toBe("RUNNING");
    // The resumed run re-trains from a checkpoint at step 3 and logs steps 3..9 again.
    for (let s = 3; s < 10; s++) second.logMetrics({ train_loss: s }, s);
    await second.endRun("FINISHED");
    const runs = readMlflowFileStore(root).experiments[1]?.runs ?? [];
    expect(runs).toHaveLength(1);
    expect(runs[0]?.info.status).toBe("FINISHED");
    expect(runs[0]?.metrics["train_loss"]?.map((m) => m.step)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it("refuses a param that changes value on resume (MLflow params are immutable)", async () => {
    const root = join(tmp.dir, "mlruns");
    const runDir = join(tmp.dir, "run");
    const a = fileTracker(runDir, root);
    await a.startRun(info);
    await a.endRun("KILLED");
    const b = fileTracker(runDir, root);
    await expect(b.startRun({ ...info, params: { ...info.params, lr: "0.5" } })).rejects.toThrow(/param 'lr' was logged as '0.1'.*cannot change to '0.5'/);
    expect(existsSync(join(runDir, JOURNAL_LOCK))).toBe(false);
  });

  it("two live writers on one run directory are refused", async () => {
    const runDir = join(tmp.dir, "run");
    const a = fileTracker(runDir, join(tmp.dir, "mlruns"));
    await a.startRun(info);
    // Same process, so the lock looks live: a second tracker must not write the same journal.
    writeFileSync(join(runDir, JOURNAL_LOCK), JSON.stringify({ pid: process.ppid, host: (await import("node:os")).hostname(), since: "now", what: "mnemo run" }));
    const b = fileTracker(runDir, join(tmp.dir, "mlruns"));
    await expect(b.startRun(info)).rejects.toThrow(/the run is in use by mnemo run/);
  });
});

describe("JournalTracker -> MLflow server", () => {
  let server: MlflowTestServer;
  beforeEach(async () => {
    // dedupeMetrics: false = a file-backed MLflow server, where a resent point would be a second row.
    server = await MlflowTestServer.start({ dedupeMetrics: false });
  });
  afterEach(async () => server.close());

  function restTracker(runDir: string, uri = server.url): JournalTracker {
    const client = new MlflowRestClient({ trackingUri: uri, env: {}, retry: FAST_RETRY });
    return new JournalTracker({ runDir, destination: new RestDestination(client), target: { kind: "rest", uri: client.trackingUri }, clock: tickingClock(), flushIntervalMs: 5, onWarning: noWarn });
  }

  it("a response lost after the server applied a batch is resent without a duplicate point", async () => {
    const runDir = join(tmp.dir, "run");
    const t = restTracker(runDir);
    const runId = await t.startRun(info);
    await t.flush();
    server.inject({ kind: "apply-then-drop" }, { path: "log-batch", times: 1 });
    for (let s = 0; s < 50; s++) t.logMetrics({ train_loss: s, lr: 0.1 }, s);
    await t.endRun("FINISHED");
    const run = server.runs.get(runId);
    expect(run?.info.status).toBe("FINISHED");
    const counts = pointCounts(run?.metrics ?? []);
    expect([...counts.values()].every((c) => c === 1)).toBe(true);
    expect(counts.size).toBe(100);
    // The in-doubt resend asked the server what it had.
    expect(server.requestsTo("metrics/get-history").length).toBeGreaterThan(0);
  });

  it("a server killed and restarted mid-run: nothing lost, nothing twice, one FINISHED run", async () => {
    const runDir = join(tmp.dir, "run");
    const t = restTracker(runDir);
    const runId = await t.startRun(info);
    for (let s = 0; s < 20; s++) t.logMetrics({ train_loss: s }, s);
    await t.flush();
    await server.stop();
    for (let s = 20; s < 40; s++) t.logMetrics({ train_loss: s }, s);
    await t.logArtifact("a.txt", "x");
    expect(await t.flush()).toBe(false);
    await server.restart();
    for (let s = 40; s < 60; s++) t.logMetrics({ train_loss: s }, s);
    await t.endRun("FINISHED");
    expect(server.runs.size).toBe(1);
    const run = server.runs.get(runId);
    expect(run?.info.status).toBe("FINISHED");
    expect(run?.metrics.map((m) => m.step)).toEqual(Array.from({ length: 60 }, (_, i) => i));
    expect([...server.artifacts.keys()].some((k) => k.endsWith("/a.txt"))).toBe(true);
  });

  it("the server down at the end: the journal keeps it all and `sync` delivers it later, once", async () => {
    const runDir = join(tmp.dir, "run");
    const warnings: string[] = [];
    const client = new MlflowRestClient({ trackingUri: server.url, env: {}, retry: FAST_RETRY });
    const t = new JournalTracker({ runDir, destination: new RestDestination(client), target: { kind: "rest", uri: server.url }, clock: tickingClock(), flushIntervalMs: 5, onWarning: (m) => warnings.push(m) });
    const runId = await t.startRun(info);
    await t.flush();
    await server.stop();
    for (let s = 0; s < 30; s++) t.logMetrics({ train_loss: s }, s);
    await t.endRun("FINISHED");
    expect(warnings.join("\n")).toMatch(/mnemo sync/);
    await server.restart();
    const r = await syncRunDir(runDir, { env: {}, retry: FAST_RETRY });
    expect(r.remaining).toBe(0);
    expect(r.markedFailed).toBe(false);
    const again = await syncRunDir(runDir, { env: {}, retry: FAST_RETRY });
    expect(again.sent).toBe(0);
    const run = server.runs.get(runId);
    expect(run?.info.status).toBe("FINISHED");
    expect(run?.metrics).toHaveLength(30);
  });

  it("a run created on the server whose id never reached the ack log is found again, not created twice", async () => {
    const runDir = join(tmp.dir, "run");
    const t = restTracker(runDir);
    const runId = await t.startRun(info);
    await t.endRun("KILLED");
    // As if the process died right after runs/create answered.
    writeFileSync(join(runDir, "tracking-acks.jsonl"), "");
    const again = restTracker(runDir);
    expect(await again.startRun(info)).toBe(runId);
    await again.endRun("FINISHED");
    expect(server.runs.size).toBe(1);
  });
});

describe("sync of crashed runs", () => {
  it("marks a crashed run FAILED with a tag saying why; a later resume sets it RUNNING then FINISHED", async () => {
    const root = join(tmp.dir, "mlruns");
    const exp = join(tmp.dir, "runs", "split-mnist");
    const runDir = join(exp, "r1");
    const t = fileTracker(runDir, root);
    await t.startRun(info);
    t.logMetrics({ train_loss: 1 }, 0);
    // Settle the in-process tracker: from here on it stands for a process that is gone.
    await t.flush();
    writeFileSync(join(runDir, "run.json"), JSON.stringify({ experiment: "split-mnist", runName: "r1", status: "RUNNING" }));
    // Simulate the process dying: its lock names a pid that no longer exists.
    writeFileSync(join(runDir, JOURNAL_LOCK), JSON.stringify({ pid: 2 ** 22 + 12345, host: (await import("node:os")).hostname(), since: "then", what: "mnemo run" }));
    expect(findCrashedRuns(exp)).toEqual([runDir]);
    const r = await syncJournal(runDir, { onWarning: noWarn });
    expect(r.markedFailed).toBe(true);
    const run = readMlflowFileStore(root).experiments[1]?.runs[0];
    expect(run?.info.status).toBe("FAILED");
    expect(run?.tags[FAILURE_TAG]).toMatch(/ended without closing the run .* mnemo run --resume/);
    expect(run?.metrics["train_loss"]).toHaveLength(1);
    expect(JSON.parse(readFileSync(join(runDir, "run.json"), "utf8")).status).toBe("FAILED");
    expect(findCrashedRuns(exp)).toEqual([]);
    const resumed = fileTracker(runDir, root);
    await resumed.startRun(info);
    expect(readMlflowFileStore(root).experiments[1]?.runs[0]?.info.status).toBe("RUNNING");
    await resumed.endRun("FINISHED");
    expect(readMlflowFileStore(root).experiments[1]?.runs[0]?.info.status).toBe("FINISHED");
  });

  it("sync refuses a run whose process is alive", async () => {
    const runDir = join(tmp.dir, "run");
    const t = fileTracker(runDir, join(tmp.dir, "mlruns"));
    await t.startRun(info);
    await expect(syncJournal(runDir)).rejects.toThrow(TrackingError);
    await t.endRun("FINISHED");
    expect((await syncJournal(runDir)).markedFailed).toBe(false);
  });

  it("createTracker({ journal: true }) journals to the configured store", async () => {
    const root = join(tmp.dir, "store");
    const t = createTracker({ runDir: join(tmp.dir, "run"), uri: root, journal: true, env: {} });
    expect(t).toBeInstanceOf(JournalTracker);
    await t.startRun(info);
    await t.endRun("FINISHED");
    expect(readdirSync(root).length).toBeGreaterThan(1);
  });
});

describe("credentials never leave the process in text", () => {
  const CANARY = "Canary-Pa55word-7f3e";

  function filesUnder(dir: string): string[] {
    const out: string[] = [];
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) out.push(...filesUnder(p));
      else out.push(p);
    }
    return out;
  }

  it("a password in the tracking URI authenticates but appears in no message, journal, ack or store", async () => {
    const server = await MlflowTestServer.start({ auth: { username: "alice", password: CANARY } });
    try {
      const uri = server.url.replace("http://", `http://alice:${CANARY}@`);
      const runDir = join(tmp.dir, "run");
      const warnings: string[] = [];
      const t = createTracker({ runDir, uri, journal: true, env: {}, retry: FAST_RETRY, flushIntervalMs: 5, onWarning: (m) => warnings.push(m) }) as JournalTracker;
      const runId = await t.startRun({ ...info, tags: { ...info.tags, "mnemo.trackingUri": "set by caller" } });
      t.logMetrics({ loss: 1 }, 0);
      await t.flush();
      await server.stop();
      t.logMetrics({ loss: 2 }, 1);
      await t.endRun("FINISHED");
      expect(warnings.length).toBeGreaterThan(0);
      await server.restart();
      const r = await syncRunDir(runDir, { uri, env: {}, retry: FAST_RETRY });
      expect(r.remaining).toBe(0);
      expect(server.runs.get(runId)?.metrics).toHaveLength(2);
      const texts = [...warnings, JSON.stringify(r), ...filesUnder(runDir).map((f) => readFileSync(f, "utf8"))];
      for (const text of texts) expect(text).not.toContain(CANARY);
      expect(readFileSync(join(runDir, JOURNAL_FILE), "utf8")).toContain(server.url);
      // The server's stored tags and params do not carry it either.
      const run = server.runs.get(runId);
      expect(JSON.stringify([...(run?.tags ?? [])])).not.toContain(CANARY);
    } finally {
      await server.close();
    }
  });

  it("connection errors and invalid-URI errors print the URI without its password", async () => {
    const client = new MlflowRestClient({ trackingUri: `http://bob:${CANARY}@127.0.0.1:9/prefix`, env: {}, retry: FAST_RETRY });
    const err = await client.getExperimentByName("x").then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err?.message).toMatch(/127\.0\.0\.1:9\/prefix/);
    expect(err?.message).not.toContain(CANARY);
    expect(() => createTracker({ uri: `postgresql://bob:${CANARY}@db/mlflow`, env: {} })).toThrow(/postgresql:\/\/db\/mlflow/);
    try {
      createTracker({ uri: `postgresql://bob:${CANARY}@db/mlflow`, env: {} });
    } catch (e) {
      expect((e as Error).message).not.toContain(CANARY);
    }
  });
});
