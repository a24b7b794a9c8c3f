import got, { RequestError, type Got, type Method } from "got";
import { TrackingError } from "@mnemo/core/errors";
import { authFromEnv, authorizationHeader, type TrackingAuth } from "./auth.js";
import { chunkBatch } from "./chunk.js";
import { redactSecrets, redactUri, uriCredentials } from "./redact.js";
import { backoffDelay, DEFAULT_RETRY, isRetryableNetworkCode, isRetryableStatus, parseRetryAfter, sleep as realSleep, type RetryPolicy } from "./retry.js";
import type { KeyValue, LogBatch, MetricRecord, MlflowRunStatus } from "./types.js";

/** Error code of a TrackingError that retrying later may fix (server down, overloaded, network). */
export const UNAVAILABLE = "UNAVAILABLE";

export function isTransientTrackingError(error: unknown): boolean {
  return error instanceof TrackingError && error.errorCode === UNAVAILABLE;
}

export interface MlflowClientOptions {
  /** `http(s)://host[:port][/prefix]` of the MLflow tracking server. */
  trackingUri: string;
  /** Defaults to MLFLOW_TRACKING_USERNAME / MLFLOW_TRACKING_PASSWORD / MLFLOW_TRACKING_TOKEN. */
  auth?: TrackingAuth;
  env?: NodeJS.ProcessEnv;
  retry?: Partial<RetryPolicy>;
  /** Injected for deterministic tests. */
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export interface MlflowExperiment {
  experimentId: string;
  name: string;
  artifactLocation: string;
  lifecycleStage: string;
}

export interface MlflowRunInfo {
  runId: string;
  runName: string;
  experimentId: string;
  userId: string;
  status: MlflowRunStatus;
  startTime: number;
  endTime?: number;
  artifactUri: string;
  lifecycleStage: string;
}

export interface MlflowRun {
  info: MlflowRunInfo;
  data: { metrics: MetricRecord[]; params: KeyValue[]; tags: KeyValue[] };
}

export interface CreateRunRequest {
  experimentId: string;
  runName: string;
  startTime: number;
  userId?: string;
  tags?: KeyValue[];
}

export interface SearchRunsRequest {
  experimentIds: string[];
  filter?: string;
  maxResults?: number;
  orderBy?: string[];
  pageToken?: string;
}

interface RequestSpec {
  method: Method;
  path: string;
  json?: unknown;
  searchParams?: Record<string, string>;
  body?: Buffer;
}

type Json = Record<string, unknown>;

/**
 * Thin, typed client for the MLflow tracking REST API 2.0. Every call retries 429/5xx and network
 * failures with bounded exponential backoff and never retries other 4xx; errors are TrackingErrors
 * whose `errorCode` is MLflow's (or UNAVAILABLE once retries are exhausted).
 */
export class MlflowRestClient {
  /** The server's URI without credentials: safe to print, log and store. */
  readonly trackingUri: string;
  readonly policy: RetryPolicy;
  private readonly http: Got;
  private readonly random: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  /** Credential strings to mask in any message that might echo them. */
  private readonly secrets: (string | undefined)[];

  constructor(options: MlflowClientOptions) {
    const shown = redactUri(options.trackingUri);
    let url: URL;
    try {
      url = new URL(options.trackingUri);
    } catch (cause) {
      throw new TrackingError(`Invalid MLflow tracking URI '${shown}': expected http(s)://host:port (e.g. MLFLOW_TRACKING_URI=http://127.0.0.1:5000).`, {}, { cause });
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw new TrackingError(`Invalid MLflow tracking URI '${shown}': the REST client needs http:// or https://; use a path or file: URI for the local file store.`);
    }
    this.trackingUri = shown.replace(/\/+$/, "");
    this.policy = { ...DEFAULT_RETRY, ...options.retry };
    this.random = options.random ?? Math.random;
    this.sleep = options.sleep ?? realSleep;
    // Credentials in the URI's user info count as basic auth (as in MLflow's client); explicit
    // auth or the MLFLOW_TRACKING_* variables win.
    const envAuth = options.auth ?? authFromEnv(options.env);
    const auth = envAuth.token || envAuth.username !== undefined || envAuth.password !== undefined ? envAuth : (uriCredentials(options.trackingUri) ?? envAuth);
    this.secrets = [auth.password, auth.token, uriCredentials(options.trackingUri)?.password];
    const authorization = authorizationHeader(auth);
    this.http = got.extend({
      prefixUrl: `${this.trackingUri}/`,
      // Retries are ours: got's would retry 4xx-free POSTs too, but without our accounting.
      retry: { limit: 0 },
      throwHttpErrors: false,
      timeout: { request: this.policy.timeoutMs },
      responseType: "buffer",
      headers: authorization ? { authorization } : {},
    });
  }

  async getExperimentByName(name: string): Promise<MlflowExperiment | undefined> {
    try {
      const res = await this.call({ method: "GET", path: "api/2.0/mlflow/experiments/get-by-name", searchParams: { experiment_name: name } });
      return decodeExperiment(res.experiment as Json);
    } catch (error) {
      if (error instanceof TrackingError && error.errorCode === "RESOURCE_DOES_NOT_EXIST") return undefined;
      throw error;
    }
  }

  async createExperiment(name: string): Promise<string> {
    const res = await this.call({ method: "POST", path: "api/2.0/mlflow/experiments/create", json: { name } });
    return String(res.experiment_id);
  }

  /** Looks the experiment up by name and creates it if missing (tolerating a concurrent creator). */
  async getOrCreateExperiment(name: string): Promise<string> {
    const existing = await this.getExperimentByName(name);
    if (existing) return existing.experimentId;
    try {
      return await this.createExperiment(name);
    } catch (error) {
      if (error instanceof TrackingError && error.errorCode === "RESOURCE_ALREADY_EXISTS") {
        const raced = await this.getExperimentByName(name);
        if (raced) return raced.experimentId;
      }
      throw error;
    }
  }

  async getExperiment(experimentId: string): Promise<MlflowExperiment> {
    const res = await this.call({ method: "GET", path: "api/2.0/mlflow/experiments/get", searchParams: { experiment_id: experimentId } });
    return decodeExperiment(res.experiment as Json);
  }

  async createRun(req: CreateRunRequest): Promise<MlflowRunInfo> {
    const res = await this.call({
      method: "POST",
      path: "api/2.0/mlflow/runs/create",
      json: {
        experiment_id: req.experimentId,
        run_name: req.runName,
        start_time: req.startTime,
        user_id: req.userId,
        tags: req.tags ?? [],
      },
    });
    return decodeRun(res.run as Json).info;
  }

  async updateRun(runId: string, status: MlflowRunStatus, endTime?: number): Promise<void> {
    await this.call({ method: "POST", path: "api/2.0/mlflow/runs/update", json: { run_id: runId, status, end_time: endTime } });
  }

  async getRun(runId: string): Promise<MlflowRun> {
    const res = await this.call({ method: "GET", path: "api/2.0/mlflow/runs/get", searchParams: { run_id: runId } });
    return decodeRun(res.run as Json);
  }

  async searchRuns(req: SearchRunsRequest): Promise<{ runs: MlflowRun[]; nextPageToken?: string }> {
    const res = await this.call({
      method: "POST",
      path: "api/2.0/mlflow/runs/search",
      json: {
        experiment_ids: req.experimentIds,
        filter: req.filter,
        max_results: req.maxResults,
        order_by: req.orderBy,
        page_token: req.pageToken,
      },
    });
    const runs = Array.isArray(res.runs) ? (res.runs as Json[]).map(decodeRun) : [];
    const token = typeof res.next_page_token === "string" && res.next_page_token ? res.next_page_token : undefined;
    return { runs, nextPageToken: token };
  }

  /** Child runs of a sweep: MLflow links them only through the `mlflow.parentRunId` tag. */
  async listChildRuns(experimentId: string, parentRunId: string): Promise<MlflowRun[]> {
    const out: MlflowRun[] = [];
    let pageToken: string | undefined;
    for (let page = 0; page < 1000; page++) {
      const res = await this.searchRuns({ experimentIds: [experimentId], filter: `tags.\`mlflow.parentRunId\` = '${parentRunId}'`, pageToken });
      out.push(...res.runs);
      pageToken = res.nextPageToken;
      if (!pageToken) break;
    }
    return out;
  }

  /**
   * One log-batch request; the caller must respect MLflow's per-call limits (see chunkBatch).
   * `attempts: 1` turns off the client's own retries, for callers that must check what the
   * server holds before resending (a retried batch may duplicate points on a file-backed server).
   */
  async logBatchChunk(runId: string, batch: LogBatch, options: { attempts?: number } = {}): Promise<void> {
    await this.call(
      {
        method: "POST",
        path: "api/2.0/mlflow/runs/log-batch",
        json: { run_id: runId, metrics: batch.metrics.map(encodeMetric), params: batch.params, tags: batch.tags },
      },
      options.attempts,
    );
  }

  /** The pause before attempt `attempt + 1` (backoff with jitter), for callers running their own retry loop. */
  async backoff(attempt: number): Promise<void> {
    await this.sleep(backoffDelay(attempt, this.policy, this.random));
  }

  /** Logs a batch of any size, chunked to MLflow's limits; returns the number of requests made. */
  async logBatch(runId: string, batch: LogBatch): Promise<number> {
    const chunks = chunkBatch(batch);
    for (const chunk of chunks) await this.logBatchChunk(runId, chunk);
    return chunks.length;
  }

  async getMetricHistory(runId: string, metricKey: string): Promise<MetricRecord[]> {
    const out: MetricRecord[] = [];
    let pageToken: string | undefined;
    for (let page = 0; page < 10_000; page++) {
      const searchParams: Record<string, string> = { run_id: runId, metric_key: metricKey };
      if (pageToken) searchParams.page_token = pageToken;
      const res = await this.call({ method: "GET", path: "api/2.0/mlflow/metrics/get-history", searchParams });
      if (Array.isArray(res.metrics)) out.push(...(res.metrics as Json[]).map(decodeMetric));
      pageToken = typeof res.next_page_token === "string" && res.next_page_token ? res.next_page_token : undefined;
      if (!pageToken) break;
    }
    return out;
  }

  /** Uploads through the server's artifact proxy (`mlflow server` with artifact serving, the default since 2.0). */
  async uploadArtifact(run: Pick<MlflowRunInfo, "runId" | "experimentId" | "artifactUri">, relativePath: string, content: string | Uint8Array): Promise<void> {
    const path = `${artifactProxyPath(run)}/${relativePath.split("/").map(encodeURIComponent).join("/")}`;
    const body = typeof content === "string" ? Buffer.from(content, "utf8") : Buffer.from(content.buffer, content.byteOffset, content.byteLength);
    await this.call({ method: "PUT", path, body });
  }

  private async call(spec: RequestSpec, attempts?: number): Promise<Json> {
    try {
      return await this.callOnce(spec, attempts ?? this.policy.maxAttempts);
    } catch (error) {
      if (error instanceof TrackingError) {
        const clean = redactSecrets(error.message, this.secrets);
        if (clean === error.message) throw error;
        throw new TrackingError(clean, { status: error.status, errorCode: error.errorCode });
      }
      throw error;
    }
  }

  private async callOnce(spec: RequestSpec, maxAttempts: number): Promise<Json> {
    const what = `${spec.method} ${this.trackingUri}/${spec.path}`;
    let lastProblem = "";
    let lastStatus: number | undefined;
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      let retryAfterMs: number | undefined;
      try {
        const res = await this.http(spec.path, {
          method: spec.method,
          json: spec.json,
          body: spec.body,
          searchParams: spec.searchParams,
          headers: spec.body ? { "content-type": "application/octet-stream" } : undefined,
          responseType: "buffer",
        });
        const status = res.statusCode;
        if (status >= 200 && status < 300) return parseBody(res.body, what);
        const { errorCode, message } = parseError(res.body);
        if (!isRetryableStatus(status)) throw requestError(what, status, errorCode, message);
        lastStatus = status;
        lastProblem = `${status}${errorCode ? ` ${errorCode}` : ""}${message ? `: ${message}` : ""}`;
        retryAfterMs = status === 429 ? parseRetryAfter(res.headers["retry-after"], Date.now()) : undefined;
      } catch (error) {
        if (error instanceof TrackingError) throw error;
        if (!(error instanceof RequestError) || !isRetryableNetworkCode(error.code)) {
          throw new TrackingError(`${what} failed: ${(error as Error).message}. Check MLFLOW_TRACKING_URI.`, {}, { cause: error });
        }
        lastStatus = undefined;
        lastProblem = `${error.code}: ${error.message}`;
      }
      if (attempt < maxAttempts) await this.sleep(backoffDelay(attempt, this.policy, this.random, retryAfterMs));
    }
    throw new TrackingError(
      `${what} failed after ${maxAttempts} attempts (last: ${lastProblem}). Is the MLflow server at ${this.trackingUri} up? Unsent data is kept and can be replayed with \`mnemo sync <run-dir>\`.`,
      { status: lastStatus, errorCode: UNAVAILABLE },
    );
  }
}

/** `mlflow-artifacts:/<exp>/<run>/artifacts` -> `api/2.0/mlflow-artifacts/artifacts/<exp>/<run>/artifacts`. */
export function artifactProxyPath(run: Pick<MlflowRunInfo, "runId" | "experimentId" | "artifactUri">): string {
  const base = "api/2.0/mlflow-artifacts/artifacts";
  const m = /^mlflow-artifacts:(?:\/\/[^/]*)?\/(.*)$/.exec(run.artifactUri ?? "");
  const rel = m ? m[1].replace(/\/+$/, "") : `${run.experimentId}/${run.runId}/artifacts`;
  return `${base}/${rel}`;
}

function requestError(what: string, status: number, errorCode: string | undefined, message: string | undefined): TrackingError {
  const detail = `${status}${errorCode ? ` ${errorCode}` : ""}${message ? `: ${message}` : ""}`;
  if (status === 401) {
    return new TrackingError(
      `${what} was rejected as unauthenticated (${detail}). Set MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD, or MLFLOW_TRACKING_TOKEN.`,
      { status, errorCode: errorCode ?? "UNAUTHENTICATED" },
    );
  }
  if (status === 403) {
    return new TrackingError(
      `${what} was refused (${detail}). The credentials in MLFLOW_TRACKING_USERNAME/MLFLOW_TRACKING_TOKEN lack permission for this experiment; ask the server admin or use another user.`,
      { status, errorCode: errorCode ?? "PERMISSION_DENIED" },
    );
  }
  if (status === 404 && (!errorCode || errorCode === "ENDPOINT_NOT_FOUND")) {
    return new TrackingError(`${what} returned ${detail}. Is MLFLOW_TRACKING_URI pointing at an MLflow tracking server (and its path prefix)?`, {
      status,
      errorCode: errorCode ?? "ENDPOINT_NOT_FOUND",
    });
  }
  return new TrackingError(`${what} was rejected (${detail}).`, { status, errorCode });
}

function parseBody(body: Buffer, what: string): Json {
  if (body.length === 0) return {};
  try {
    const parsed: unknown = JSON.parse(body.toString("utf8"));
    return parsed && typeof parsed === "object" ? (parsed as Json) : {};
  } catch (cause) {
    throw new TrackingError(`${what} returned a non-JSON body; is MLFLOW_TRACKING_URI an MLflow server?`, {}, { cause });
  }
}

function parseError(body: Buffer): { errorCode?: string; message?: string } {
  try {
    const parsed = JSON.parse(body.toString("utf8")) as Json;
    return {
      errorCode: typeof parsed.error_code === "string" ? parsed.error_code : undefined,
      message: typeof parsed.message === "string" ? parsed.message : undefined,
    };
  } catch {
    // Proxies answer with HTML; the status code alone is still meaningful.
    return { message: body.toString("utf8").slice(0, 200) || undefined };
  }
}

/** Proto3 JSON mapping: non-finite doubles travel as strings. */
export function encodeMetricValue(value: number): number | string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "Infinity";
  if (value === -Infinity) return "-Infinity";
  return value;
}

export function decodeMetricValue(value: unknown): number {
  if (typeof value === "number") return value;
  if (value === "NaN") return NaN;
  if (value === "Infinity") return Infinity;
  if (value === "-Infinity") return -Infinity;
  return Number(value);
}

function encodeMetric(m: MetricRecord): Json {
  return { key: m.key, value: encodeMetricValue(m.value), timestamp: m.timestamp, step: m.step };
}

function decodeMetric(m: Json): MetricRecord {
  return { key: String(m.key), value: decodeMetricValue(m.value), timestamp: Number(m.timestamp ?? 0), step: Number(m.step ?? 0) };
}

function decodeKv(list: unknown): KeyValue[] {
  return Array.isArray(list) ? (list as Json[]).map((kv) => ({ key: String(kv.key), value: String(kv.value ?? "") })) : [];
}

function decodeExperiment(e: Json): MlflowExperiment {
  return {
    experimentId: String(e.experiment_id),
    name: String(e.name),
    artifactLocation: String(e.artifact_location ?? ""),
    lifecycleStage: String(e.lifecycle_stage ?? "active"),
  };
}

function decodeRun(run: Json): MlflowRun {
  const info = (run.info ?? {}) as Json;
  const data = (run.data ?? {}) as Json;
  return {
    info: {
      runId: String(info.run_id ?? info.run_uuid),
      runName: String(info.run_name ?? ""),
      experimentId: String(info.experiment_id),
      userId: String(info.user_id ?? ""),
      status: String(info.status ?? "RUNNING") as MlflowRunStatus,
      startTime: Number(info.start_time ?? 0),
      endTime: info.end_time === undefined || info.end_time === null ? undefined : Number(info.end_time),
      artifactUri: String(info.artifact_uri ?? ""),
      lifecycleStage: String(info.lifecycle_stage ?? "active"),
    },
    data: {
      metrics: Array.isArray(data.metrics) ? (data.metrics as Json[]).map(decodeMetric) : [],
      params: decodeKv(data.params),
      tags: decodeKv(data.tags),
    },
  };
}
