import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { TrackingError } from "@mnemo/core";
import { MlflowTestServer } from "../src/testing/mlflow-test-server.js";
import { artifactProxyPath, MlflowRestClient, UNAVAILABLE } from "../src/rest-client.js";
import { chunkBatch } from "../src/chunk.js";
import type { MetricRecord } from "../src/types.js";
import { FAST_RETRY } from "./helpers.js";

let server: MlflowTestServer;
let client: MlflowRestClient;

beforeEach(async () => {
  server = await MlflowTestServer.start();
  client = new MlflowRestClient({ trackingUri: server.url, retry: FAST_RETRY, env: {} });
});
afterEach(async () => {
  await server.close();
});

const metrics = (n: number, key = "loss"): MetricRecord[] => Array.from({ length: n }, (_, i) => ({ key, value: i / 10, timestamp: 1000 + i, step: i }));

describe("MlflowRestClient against the test server", () => {
  it("runs a full lifecycle: experiment, run with tags, batch, history, update, get, search", async () => {
    expect(await client.getExperimentByName("split-mnist")).toBeUndefined();
    const expId = await client.getOrCreateExperiment("split-mnist");
    expect(await client.getOrCreateExperiment("split-mnist")).toBe(expId);
    expect((await client.getExperiment(expId)).name).toBe("split-mnist");

    const info = await client.createRun({ experimentId: expId, runName: "ewc-seed1", startTime: 123, userId: "ada", tags: [{ key: "mnemo.seed", value: "1" }] });
    expect(info.runId).toMatch(/^[0-9a-f]{32}$/);
    expect(info.status).toBe("RUNNING");
    expect(info.artifactUri).toBe(`mlflow-artifacts:/${expId}/${info.runId}/artifacts`);

    await client.logBatch(info.runId, {
      metrics: [
        { key: "acc", value: 0.5, timestamp: 10, step: 0 },
        { key: "acc", value: 0.75, timestamp: 11, step: 1 },
        { key: "weird", value: NaN, timestamp: 12, step: 0 },
      ],
      params: [{ key: "stream.increment", value: "10" }],
      tags: [{ key: "phase", value: "train" }],
    });
    expect(await client.getMetricHistory(info.runId, "acc")).toEqual([
      { key: "acc", value: 0.5, timestamp: 10, step: 0 },
      { key: "acc", value: 0.75, timestamp: 11, step: 1 },
    ]);
    expect(Number.isNaN((await client.getMetricHistory(info.runId, "weird"))[0].value)).toBe(true);

    await client.updateRun(info.runId, "FINISHED", 999);
    const run = await client.getRun(info.runId);
    expect(run.info.status).toBe("FINISHED");
    expect(run.info.endTime).toBe(999);
    expect(run.data.params).toEqual([{ key: "stream.increment", value: "10" }]);
    expect(Object.fromEntries(run.data.tags.map((t) => [t.key, t.value]))).toMatchObject({ "mnemo.seed": "1", phase: "train", "mlflow.runName": "ewc-seed1" });
    expect(run.data.metrics.find((m) => m.key === "acc")?.value).toBe(0.75);

    const found = await client.searchRuns({ experimentIds: [expId], filter: "tags.phase = 'train'" });
    expect(found.runs.map((r) => r.info.runId)).toEqual([info.runId]);
  });

  it("links nested runs through mlflow.parentRunId", async () => {
    const expId = await client.getOrCreateExperiment("sweep");
    const parent = await client.createRun({ experimentId: expId, runName: "sweep", startTime: 1 });
    const kids = [];
    for (const name of ["lr=0.1", "lr=0.01"]) {
      kids.push(await client.createRun({ experimentId: expId, runName: name, startTime: 2, tags: [{ key: "mlflow.parentRunId", value: parent.runId }] }));
    }
    await client.createRun({ experimentId: expId, runName: "unrelated", startTime: 3 });
    const children = await client.listChildRuns(expId, parent.runId);
    expect(children.map((c) => c.info.runName).sort()).toEqual(["lr=0.01", "lr=0.1"]);
  });

  it("chunks 2500 metrics into exactly 3 log-batch calls within MLflow's limits", async () => {
    const expId = await client.getOrCreateExperiment("e");
    const run = await client.createRun({ experimentId: expId, runName: "r", startTime: 1 });
    const calls = await client.logBatch(run.runId, { metrics: metrics(2500), params: [], tags: [] });
    expect(calls).toBe(3);
    const batches = server.requestsTo("log-batch").map((r) => (r.body as { metrics: unknown[] }).metrics.length);
    expect(batches).toEqual([1000, 1000, 500]);
    expect(server.metricHistory(run.runId, "loss")).toHaveLength(2500);
  });

  it("keeps every chunk within 1000 entities, 100 params and 100 tags", () => {
    const params = Array.from({ length: 250 }, (_, i) => ({ key: `p${i}`, value: "v" }));
    const tags = Array.from({ length: 130 }, (_, i) => ({ key: `t${i}`, value: "v" }));
    const chunks = chunkBatch({ metrics: metrics(2000), params, tags });
    for (const c of chunks) {
      expect(c.params.length).toBeLessThanOrEqual(100);
      expect(c.tags.length).toBeLessThanOrEqual(100);
      expect(c.metrics.length + c.params.length + c.tags.length).toBeLessThanOrEqual(1000);
    }
    expect(chunks.reduce((n, c) => n + c.metrics.length, 0)).toBe(2000);
    expect(chunks.reduce((n, c) => n + c.params.length, 0)).toBe(250);
    expect(chunks.reduce((n, c) => n + c.tags.length, 0)).toBe(130);
    expect(chunks[0].metrics.length).toBe(800);
  });

  it("retries injected 500s, 503s, 429 and dropped connections, then succeeds", async () => {
    const expId = await client.getOrCreateExperiment("e");
    const run = await client.createRun({ experimentId: expId, runName: "r", startTime: 1 });
    server.inject({ kind: "status", status: 500 }, { path: "log-batch" });
    server.inject({ kind: "status", status: 429, retryAfterSec: 0 }, { path: "log-batch" });
    server.inject({ kind: "drop" }, { path: "log-batch" });
    await client.logBatch(run.runId, { metrics: metrics(3), params: [], tags: [] });
    expect(server.requestsTo("log-batch").map((r) => r.outcome)).toEqual(["500", "429", "drop", "ok"]);
    expect(server.metricHistory(run.runId, "loss")).toHaveLength(3);
  });

  it("retries a request that times out", async () => {
    const expId = await client.getOrCreateExperiment("e");
    server.inject({ kind: "timeout" }, { path: "runs/create" });
    const run = await client.createRun({ experimentId: expId, runName: "r", startTime: 1 });
    expect(server.requestsTo("runs/create").map((r) => r.outcome)).toEqual(["timeout", "ok"]);
    expect(server.runs.has(run.runId)).toBe(true);
  });

  it("gives up after maxAttempts with an UNAVAILABLE TrackingError", async () => {
    server.inject({ kind: "status", status: 503 }, { times: 100 });
    const err = await client.getOrCreateExperiment("e").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TrackingError);
    expect((err as TrackingError).errorCode).toBe(UNAVAILABLE);
    expect((err as TrackingError).message).toMatch(/failed after 4 attempts.*503/);
    expect(server.requests).toHaveLength(FAST_RETRY.maxAttempts);
  });

  it("never retries other 4xx and reports MLflow's error code", async () => {
    const expId = await client.getOrCreateExperiment("e");
    const run = await client.createRun({ experimentId: expId, runName: "r", startTime: 1 });
    await client.logBatch(run.runId, { metrics: [], params: [{ key: "lr", value: "0.1" }], tags: [] });
    // Same value again is idempotent, as in MLflow.
    await client.logBatch(run.runId, { metrics: [], params: [{ key: "lr", value: "0.1" }], tags: [] });
    const before = server.requests.length;
    const err = await client.logBatch(run.runId, { metrics: [], params: [{ key: "lr", value: "0.2" }], tags: [] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TrackingError);
    expect((err as TrackingError).status).toBe(400);
    expect((err as TrackingError).errorCode).toBe("INVALID_PARAMETER_VALUE");
    expect((err as TrackingError).message).toMatch(/Changing param values is not allowed/);
    expect(server.requests.length - before).toBe(1);

    const missing = await client.getRun("0".repeat(32)).catch((e: unknown) => e);
    expect((missing as TrackingError).errorCode).toBe("RESOURCE_DOES_NOT_EXIST");
    expect((missing as TrackingError).status).toBe(404);

    const dup = await client.createExperiment("e").catch((e: unknown) => e);
    expect((dup as TrackingError).errorCode).toBe("RESOURCE_ALREADY_EXISTS");
  });

  it("answers malformed JSON with 400 BAD_REQUEST and unknown endpoints with ENDPOINT_NOT_FOUND", async () => {
    const res = await fetch(`${server.url}/api/2.0/mlflow/runs/log-batch`, { method: "POST", body: "{not json", headers: { "content-type": "application/json" } });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error_code: string }).error_code).toBe("BAD_REQUEST");
    const wrong = new MlflowRestClient({ trackingUri: `${server.url}/not-mlflow`, retry: FAST_RETRY, env: {} });
    const err = await wrong.getExperiment("0").catch((e: unknown) => e);
    expect((err as TrackingError).errorCode).toBe("ENDPOINT_NOT_FOUND");
    expect((err as TrackingError).message).toMatch(/MLFLOW_TRACKING_URI/);
  });

  it("rejects bad tracking URIs with actionable messages", () => {
    expect(() => new MlflowRestClient({ trackingUri: "not a url" })).toThrow(/expected http\(s\):\/\/host:port/);
    expect(() => new MlflowRestClient({ trackingUri: "ftp://x" })).toThrow(/needs http:\/\/ or https:\/\//);
  });

  it("reports a refused connection as UNAVAILABLE after bounded attempts", async () => {
    const closed = await MlflowTestServer.start();
    const url = closed.url;
    await closed.close();
    const c = new MlflowRestClient({ trackingUri: url, retry: FAST_RETRY, env: {} });
    const err = await c.getExperiment("0").catch((e: unknown) => e);
    expect((err as TrackingError).errorCode).toBe(UNAVAILABLE);
    expect((err as TrackingError).message).toMatch(/ECONNREFUSED/);
  });

  it("uploads artifacts through the mlflow-artifacts proxy path", async () => {
    const expId = await client.getOrCreateExperiment("e");
    const run = await client.createRun({ experimentId: expId, runName: "r", startTime: 1 });
    await client.uploadArtifact(run, "plots/heatmap.svg", "<svg/>");
    await client.uploadArtifact(run, "raw.bin", new Uint8Array([1, 2, 3]));
    expect(server.requestsTo("mlflow-artifacts").map((r) => `${r.method} ${r.path}`)).toEqual([
      `PUT /api/2.0/mlflow-artifacts/artifacts/${expId}/${run.runId}/artifacts/plots/heatmap.svg`,
      `PUT /api/2.0/mlflow-artifacts/artifacts/${expId}/${run.runId}/artifacts/raw.bin`,
    ]);
    expect(server.artifacts.get(`${expId}/${run.runId}/artifacts/plots/heatmap.svg`)?.toString()).toBe("<svg/>");
    expect([...(server.artifacts.get(`${expId}/${run.runId}/artifacts/raw.bin`) ?? [])]).toEqual([1, 2, 3]);
    expect(artifactProxyPath({ runId: "r", experimentId: "7", artifactUri: "s3://bucket/x" })).toBe("api/2.0/mlflow-artifacts/artifacts/7/r/artifacts");
  });
});

describe("authentication", () => {
  it("sends basic auth from MLFLOW_TRACKING_USERNAME/PASSWORD", async () => {
    const s = await MlflowTestServer.start({ auth: { username: "ada", password: "s3cret" } });
    try {
      const ok = new MlflowRestClient({ trackingUri: s.url, retry: FAST_RETRY, env: { MLFLOW_TRACKING_USERNAME: "ada", MLFLOW_TRACKING_PASSWORD: "s3cret" } });
      expect(await ok.getOrCreateExperiment("e")).toBe("1");
      const bad = new MlflowRestClient({ trackingUri: s.url, retry: FAST_RETRY, env: { MLFLOW_TRACKING_USERNAME: "ada", MLFLOW_TRACKING_PASSWORD: "nope" } });
      const before = s.requests.length;
      const err = await bad.getExperiment("0").catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TrackingError);
      expect((err as TrackingError).status).toBe(401);
      expect((err as TrackingError).message).toMatch(/MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD, or MLFLOW_TRACKING_TOKEN/);
      expect(s.requests.length - before).toBe(1);
    } finally {
      await s.close();
    }
  });

  it("sends a bearer token from MLFLOW_TRACKING_TOKEN and reports 403 clearly", async () => {
    const s = await MlflowTestServer.start({ auth: { token: "tok", readOnly: true } });
    try {
      const c = new MlflowRestClient({ trackingUri: s.url, retry: FAST_RETRY, env: { MLFLOW_TRACKING_TOKEN: "tok" } });
      expect((await c.getExperiment("0")).name).toBe("Default");
      const err = await c.createExperiment("e").catch((e: unknown) => e);
      expect((err as TrackingError).status).toBe(403);
      expect((err as TrackingError).errorCode).toBe("PERMISSION_DENIED");
      expect((err as TrackingError).message).toMatch(/lack permission/);
      expect(s.requestsTo("experiments/create")).toHaveLength(1);
    } finally {
      await s.close();
    }
  });
});
