/**
 * An in-process MLflow tracking server for tests: the REST subset Mnemo uses, MLflow's
 * request/response shapes and error codes, and injectable faults (429/5xx, hung requests,
 * dropped connections, "applied but the response was lost"). Listens on 127.0.0.1 only.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { randomUUID } from "node:crypto";

export type Fault =
  | { kind: "status"; status: number; errorCode?: string; retryAfterSec?: number }
  /** Never answer; the client must time out. */
  | { kind: "timeout" }
  /** Close the connection before doing anything. */
  | { kind: "drop" }
  /** Apply the request, then close the connection: the client never learns it succeeded. */
  | { kind: "apply-then-drop" };

export interface RecordedRequest {
  method: string;
  path: string;
  body: unknown;
  /** What happened: "ok", an HTTP status, or the fault kind. */
  outcome: string;
}

export interface ServerMetric {
  key: string;
  value: number;
  timestamp: number;
  step: number;
}

export interface ServerRun {
  info: {
    run_id: string;
    run_uuid: string;
    run_name: string;
    experiment_id: string;
    user_id: string;
    status: string;
    start_time: number;
    end_time?: number;
    artifact_uri: string;
    lifecycle_stage: string;
  };
  params: Map<string, string>;
  tags: Map<string, string>;
  metrics: ServerMetric[];
  /** Identity of every stored metric, for SQL-store-like de-duplication in O(1). */
  metricIds: Set<string>;
}

export interface TestServerOptions {
  /** Require credentials; `readOnly` users get 403 on writes. */
  auth?: { username: string; password: string; readOnly?: boolean } | { token: string; readOnly?: boolean };
  /**
   * Drop a metric identical in key, value, timestamp and step to one already stored, as MLflow's
   * SQL store does (primary key). false mimics the file store, which appends duplicates.
   */
  dedupeMetrics?: boolean;
}

class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: string,
    message: string,
  ) {
    super(message);
  }
}

interface FaultRule {
  fault: Fault;
  path?: string;
  remaining: number;
}

type Json = Record<string, unknown>;

export class MlflowTestServer {
  readonly requests: RecordedRequest[] = [];
  readonly experiments = new Map<string, { experiment_id: string; name: string; artifact_location: string; lifecycle_stage: string; creation_time: number; last_update_time: number }>();
  readonly runs = new Map<string, ServerRun>();
  readonly artifacts = new Map<string, Buffer>();
  private readonly faults: FaultRule[] = [];
  private readonly sockets = new Set<Socket>();
  private nextExperimentId = 1;
  url = "";

  private constructor(
    private readonly server: Server,
    private readonly options: TestServerOptions,
  ) {
    this.experiments.set("0", { experiment_id: "0", name: "Default", artifact_location: "mlflow-artifacts:/0", lifecycle_stage: "active", creation_time: 0, last_update_time: 0 });
  }

  static async start(options: TestServerOptions = {}): Promise<MlflowTestServer> {
    const server = createServer();
    const self = new MlflowTestServer(server, options);
    server.on("connection", (s) => {
      self.sockets.add(s);
      s.on("close", () => self.sockets.delete(s));
    });
    server.on("request", (req, res) => void self.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => resolve());
    });
    const addr = server.address();
    if (!addr || typeof addr === "string") throw new Error("test server has no port");
    self.url = `http://127.0.0.1:${addr.port}`;
    return self;
  }

  /** The next `times` requests whose path contains `path` (all requests if omitted) get `fault`. */
  inject(fault: Fault, options: { path?: string; times?: number } = {}): void {
    this.faults.push({ fault, path: options.path, remaining: options.times ?? 1 });
  }

  clearFaults(): void {
    this.faults.length = 0;
  }

  requestsTo(pathPart: string): RecordedRequest[] {
    return this.requests.filter((r) => r.path.includes(pathPart));
  }

  metricHistory(runId: string, key: string): ServerMetric[] {
    return (this.runs.get(runId)?.metrics ?? []).filter((m) => m.key === key);
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    if (!this.server.listening) return;
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /**
   * The server process going away: every connection is cut and the port stops answering
   * (connection refused) until `restart()`. What was stored survives, as with a server whose
   * backend store is a database or a directory.
   */
  async stop(): Promise<void> {
    await this.close();
  }

  /** Listens again on the same port, with the same stored experiments and runs. */
  async restart(): Promise<void> {
    if (this.server.listening) return;
    const port = Number(new URL(this.url).port);
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(port, "127.0.0.1", () => {
        this.server.off("error", reject);
        resolve();
      });
    });
  }

  private takeFault(path: string): Fault | undefined {
    const rule = this.faults.find((f) => f.remaining > 0 && (!f.path || path.includes(f.path)));
    if (!rule) return undefined;
    rule.remaining -= 1;
    return rule.fault;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks);
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const method = req.method ?? "GET";
    const isArtifact = url.pathname.startsWith("/api/2.0/mlflow-artifacts/");
    let body: unknown = undefined;
    const record: RecordedRequest = { method, path: url.pathname, body: undefined, outcome: "ok" };
    this.requests.push(record);
    const fault = this.takeFault(url.pathname);
    if (fault?.kind === "drop") {
      record.outcome = "drop";
      req.socket.destroy();
      return;
    }
    if (fault?.kind === "timeout") {
      record.outcome = "timeout";
      return;
    }
    if (fault?.kind === "status") {
      record.outcome = String(fault.status);
      const headers: Record<string, string> = { "content-type": "application/json" };
      if (fault.retryAfterSec !== undefined) headers["retry-after"] = String(fault.retryAfterSec);
      res.writeHead(fault.status, headers).end(JSON.stringify({ error_code: fault.errorCode ?? (fault.status === 429 ? "REQUEST_LIMIT_EXCEEDED" : "INTERNAL_ERROR"), message: "injected fault" }));
      return;
    }
    try {
      this.authorize(req, method);
      if (!isArtifact && method !== "GET" && raw.length > 0) {
        try {
          body = JSON.parse(raw.toString("utf8"));
        } catch {
          throw new ApiError(400, "BAD_REQUEST", `Malformed request: body is not valid JSON`);
        }
        record.body = body;
      }
      const result = this.route(method, url, (body ?? {}) as Json, raw);
      if (fault?.kind === "apply-then-drop") {
        record.outcome = "apply-then-drop";
        req.socket.destroy();
        return;
      }
      if (Buffer.isBuffer(result)) {
        res.writeHead(200, { "content-type": "application/octet-stream" }).end(result);
      } else {
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(result));
      }
    } catch (error) {
      const e = error instanceof ApiError ? error : new ApiError(500, "INTERNAL_ERROR", String(error));
      record.outcome = String(e.status);
      res.writeHead(e.status, { "content-type": "application/json" }).end(JSON.stringify({ error_code: e.errorCode, message: e.message }));
    }
  }

  private authorize(req: IncomingMessage, method: string): void {
    const auth = this.options.auth;
    if (!auth) return;
    const header = req.headers.authorization ?? "";
    const ok =
      "token" in auth
        ? header === `Bearer ${auth.token}`
        : header === `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString("base64")}`;
    if (!ok) throw new ApiError(401, "UNAUTHENTICATED", "You are not authenticated. Please see https://www.mlflow.org/docs/latest/auth/index.html on how to authenticate.");
    if (auth.readOnly && method !== "GET") throw new ApiError(403, "PERMISSION_DENIED", "Permission denied");
  }

  private route(method: string, url: URL, body: Json, raw: Buffer): Json | Buffer {
    const p = url.pathname;
    const q = url.searchParams;
    const key = `${method} ${p}`;
    if (p.startsWith("/api/2.0/mlflow-artifacts/artifacts/")) {
      const artifactPath = decodeURIComponent(p.slice("/api/2.0/mlflow-artifacts/artifacts/".length));
      if (method === "PUT") {
        this.artifacts.set(artifactPath, raw);
        return {};
      }
      if (method === "GET") {
        const found = this.artifacts.get(artifactPath);
        if (!found) throw new ApiError(404, "RESOURCE_DOES_NOT_EXIST", `File ${artifactPath} not found`);
        return found;
      }
    }
    switch (key) {
      case "GET /api/2.0/mlflow/experiments/get-by-name": {
        const name = required(q.get("experiment_name"), "experiment_name");
        const exp = [...this.experiments.values()].find((e) => e.name === name);
        if (!exp) throw new ApiError(404, "RESOURCE_DOES_NOT_EXIST", `Could not find experiment with name '${name}'`);
        return { experiment: exp };
      }
      case "GET /api/2.0/mlflow/experiments/get": {
        const id = required(q.get("experiment_id"), "experiment_id");
        const exp = this.experiments.get(id);
        if (!exp) throw new ApiError(404, "RESOURCE_DOES_NOT_EXIST", `No Experiment with id=${id} exists`);
        return { experiment: exp };
      }
      case "POST /api/2.0/mlflow/experiments/create": {
        const name = required(body.name, "name");
        if ([...this.experiments.values()].some((e) => e.name === name)) {
          throw new ApiError(400, "RESOURCE_ALREADY_EXISTS", `Experiment(name=${name}) already exists.`);
        }
        const id = String(this.nextExperimentId++);
        this.experiments.set(id, { experiment_id: id, name, artifact_location: `mlflow-artifacts:/${id}`, lifecycle_stage: "active", creation_time: Date.now(), last_update_time: Date.now() });
        return { experiment_id: id };
      }
      case "POST /api/2.0/mlflow/runs/create": {
        const experimentId = String(body.experiment_id ?? "0");
        if (!this.experiments.has(experimentId)) throw new ApiError(404, "RESOURCE_DOES_NOT_EXIST", `No Experiment with id=${experimentId} exists`);
        const runId = randomUUID().replace(/-/g, "");
        const tags = new Map<string, string>();
        for (const t of asKvList(body.tags, "tags")) tags.set(t.key, t.value);
        const runName = typeof body.run_name === "string" && body.run_name ? body.run_name : (tags.get("mlflow.runName") ?? "run");
        tags.set("mlflow.runName", runName);
        const run: ServerRun = {
          info: {
            run_id: runId,
            run_uuid: runId,
            run_name: runName,
            experiment_id: experimentId,
            user_id: typeof body.user_id === "string" ? body.user_id : "",
            status: "RUNNING",
            start_time: Number(body.start_time ?? Date.now()),
            artifact_uri: `mlflow-artifacts:/${experimentId}/${runId}/artifacts`,
            lifecycle_stage: "active",
          },
          params: new Map(),
          tags,
          metrics: [],
          metricIds: new Set(),
        };
        this.runs.set(runId, run);
        return { run: runJson(run) };
      }
      case "POST /api/2.0/mlflow/runs/update": {
        const run = this.getRun(body.run_id ?? body.run_uuid);
        if (body.status !== undefined) {
          if (!["RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED"].includes(String(body.status))) {
            throw new ApiError(400, "INVALID_PARAMETER_VALUE", `Invalid value ${String(body.status)} for parameter 'status'`);
          }
          run.info.status = String(body.status);
        }
        if (body.end_time !== undefined && body.end_time !== null) run.info.end_time = Number(body.end_time);
        return { run_info: run.info };
      }
      case "GET /api/2.0/mlflow/runs/get":
        return { run: runJson(this.getRun(q.get("run_id") ?? q.get("run_uuid"))) };
      case "POST /api/2.0/mlflow/runs/search":
        return this.search(body);
      case "POST /api/2.0/mlflow/runs/log-batch":
        this.logBatch(body);
        return {};
      case "GET /api/2.0/mlflow/metrics/get-history": {
        const run = this.getRun(q.get("run_id"));
        const metricKey = required(q.get("metric_key"), "metric_key");
        const all = run.metrics.filter((m) => m.key === metricKey);
        const max = Number(q.get("max_results") ?? 25000);
        const offset = Number(q.get("page_token") ?? 0);
        const page = all.slice(offset, offset + max);
        const next = offset + max < all.length ? String(offset + max) : undefined;
        return { metrics: page.map(metricJson), ...(next ? { next_page_token: next } : {}) };
      }
      default:
        throw new ApiError(404, "ENDPOINT_NOT_FOUND", `No API endpoint for ${method} ${p}`);
    }
  }

  private getRun(id: unknown): ServerRun {
    const runId = required(id, "run_id");
    const run = this.runs.get(runId);
    if (!run) throw new ApiError(404, "RESOURCE_DOES_NOT_EXIST", `Run '${runId}' not found`);
    return run;
  }

  private logBatch(body: Json): void {
    const run = this.getRun(body.run_id);
    const metrics = Array.isArray(body.metrics) ? (body.metrics as Json[]) : [];
    const params = asKvList(body.params, "params");
    const tags = asKvList(body.tags, "tags");
    if (metrics.length > 1000) throw new ApiError(400, "INVALID_PARAMETER_VALUE", `A batch logging request can contain at most 1000 metrics. Got ${metrics.length} metrics.`);
    if (params.length > 100) throw new ApiError(400, "INVALID_PARAMETER_VALUE", `A batch logging request can contain at most 100 params. Got ${params.length} params.`);
    if (tags.length > 100) throw new ApiError(400, "INVALID_PARAMETER_VALUE", `A batch logging request can contain at most 100 tags. Got ${tags.length} tags.`);
    const total = metrics.length + params.length + tags.length;
    if (total > 1000) throw new ApiError(400, "INVALID_PARAMETER_VALUE", `A batch logging request can contain at most 1000 total metrics, params, and tags. Got ${total}.`);
    // Validate everything first: MLflow applies a batch atomically.
    for (const p of params) {
      if (p.value.length > 6000) throw new ApiError(400, "INVALID_PARAMETER_VALUE", `Param value '${p.value.slice(0, 20)}...' had length ${p.value.length}, which exceeded length limit of 6000`);
      const current = run.params.get(p.key);
      if (current !== undefined && current !== p.value) {
        throw new ApiError(
          400,
          "INVALID_PARAMETER_VALUE",
          `Changing param values is not allowed. Param with key='${p.key}' was already logged with value='${current}' for run ID='${run.info.run_id}'. Attempted logging new value '${p.value}'.`,
        );
      }
    }
    const parsed = metrics.map((m) => {
      if (typeof m.key !== "string" || m.timestamp === undefined) throw new ApiError(400, "INVALID_PARAMETER_VALUE", "Metric must have key, value and timestamp");
      return { key: m.key, value: decodeValue(m.value), timestamp: Number(m.timestamp), step: Number(m.step ?? 0) };
    });
    for (const p of params) run.params.set(p.key, p.value);
    for (const m of parsed) {
      const id = `${m.key}\u0000${m.timestamp}\u0000${m.step}\u0000${String(m.value)}`;
      if (this.options.dedupeMetrics !== false && run.metricIds.has(id)) continue;
      run.metricIds.add(id);
      run.metrics.push(m);
    }
    for (const t of tags) run.tags.set(t.key, t.value);
  }

  private search(body: Json): Json {
    const ids = Array.isArray(body.experiment_ids) ? body.experiment_ids.map(String) : [];
    const clauses = parseFilter(typeof body.filter === "string" ? body.filter : "");
    const matching = [...this.runs.values()].filter((r) => ids.includes(r.info.experiment_id) && clauses.every((c) => c(r)));
    const max = Number(body.max_results ?? 1000);
    const offset = Number(body.page_token ?? 0);
    const page = matching.slice(offset, offset + max);
    const next = offset + max < matching.length ? String(offset + max) : undefined;
    return { runs: page.map(runJson), ...(next ? { next_page_token: next } : {}) };
  }
}

function required(v: unknown, name: string): string {
  if (typeof v !== "string" || v === "") throw new ApiError(400, "INVALID_PARAMETER_VALUE", `Missing value for required parameter '${name}'.`);
  return v;
}

function asKvList(v: unknown, name: string): { key: string; value: string }[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new ApiError(400, "INVALID_PARAMETER_VALUE", `Invalid value for parameter '${name}': expected a list`);
  return (v as Json[]).map((kv) => {
    if (typeof kv.key !== "string") throw new ApiError(400, "INVALID_PARAMETER_VALUE", `Invalid value for parameter '${name}': every entry needs a key`);
    return { key: kv.key, value: String(kv.value ?? "") };
  });
}

function decodeValue(v: unknown): number {
  if (v === "NaN") return NaN;
  if (v === "Infinity") return Infinity;
  if (v === "-Infinity") return -Infinity;
  if (typeof v !== "number") throw new ApiError(400, "INVALID_PARAMETER_VALUE", `Metric value must be a number, got ${JSON.stringify(v)}`);
  return v;
}

function metricJson(m: ServerMetric): Json {
  return { key: m.key, value: Number.isFinite(m.value) ? m.value : String(m.value), timestamp: m.timestamp, step: m.step };
}

function runJson(run: ServerRun): Json {
  const latest = new Map<string, ServerMetric>();
  for (const m of run.metrics) {
    const cur = latest.get(m.key);
    if (!cur || m.step > cur.step || (m.step === cur.step && m.timestamp >= cur.timestamp)) latest.set(m.key, m);
  }
  return {
    info: run.info,
    data: {
      metrics: [...latest.values()].map(metricJson),
      params: [...run.params].map(([key, value]) => ({ key, value })),
      tags: [...run.tags].map(([key, value]) => ({ key, value })),
    },
  };
}

/** Supports `tags.<k> = 'v'`, `params.<k> = 'v'`, `attributes.status = 'v'` joined by AND. */
function parseFilter(filter: string): ((r: ServerRun) => boolean)[] {
  if (!filter.trim()) return [];
  return filter.split(/\s+and\s+/i).map((clause) => {
    const m = /^\s*(tags|tag|params|param|attributes|attribute)\.(`[^`]+`|"[^"]+"|[\w.]+)\s*=\s*'([^']*)'\s*$/.exec(clause);
    if (!m) throw new ApiError(400, "INVALID_PARAMETER_VALUE", `Invalid filter '${clause}'`);
    const field = m[2].replace(/^[`"]|[`"]$/g, "");
    const value = m[3];
    if (m[1].startsWith("tag")) return (r: ServerRun) => r.tags.get(field) === value;
    if (m[1].startsWith("param")) return (r: ServerRun) => r.params.get(field) === value;
    return (r: ServerRun) => String((r.info as unknown as Json)[field]) === value;
  });
}
