import { posix } from "node:path";
import { TrackingError } from "@mnemo/core/errors";

/**
 * MLflow's server-side limits (mlflow/utils/validation.py). Enforced client-side so a bad key
 * fails at the call site with a useful message instead of as a 400 minutes later in a background flush.
 */
export const MLFLOW_LIMITS = {
  maxMetricsPerBatch: 1000,
  maxParamsPerBatch: 100,
  maxTagsPerBatch: 100,
  maxEntitiesPerBatch: 1000,
  maxKeyLength: 250,
  maxParamValueLength: 6000,
  maxTagValueLength: 8000,
} as const;

const VALID_NAME = /^[/\w.\- :]*$/;
const RUN_ID = /^[0-9a-f]{32}$/;

/** posixpath.normpath-based check from MLflow: a key must not resolve to another file name. */
function pathNotUnique(name: string): boolean {
  const norm = posix.normalize(name).replace(/(.)\/$/, "$1");
  return norm !== name || norm === "." || norm.startsWith("..") || norm.startsWith("/");
}

export type EntityKind = "metric" | "param" | "tag";

// Training loops log the same few keys millions of times; validate each once.
const validated = new Set<string>();
const MAX_CACHED = 10_000;

export function validateKey(kind: EntityKind, key: string): void {
  const cacheKey = `${kind}\u0000${key}`;
  if (validated.has(cacheKey)) return;
  checkKey(kind, key);
  if (validated.size < MAX_CACHED) validated.add(cacheKey);
}

function checkKey(kind: EntityKind, key: string): void {
  if (typeof key !== "string" || key.length === 0) {
    throw new TrackingError(`Invalid ${kind} name: empty. Give every ${kind} a non-empty name.`, {
      errorCode: "INVALID_PARAMETER_VALUE",
    });
  }
  if (key.length > MLFLOW_LIMITS.maxKeyLength) {
    throw new TrackingError(
      `Invalid ${kind} name '${key.slice(0, 40)}...': ${key.length} characters, MLflow allows at most ${MLFLOW_LIMITS.maxKeyLength}.`,
      { errorCode: "INVALID_PARAMETER_VALUE" },
    );
  }
  // Tags may contain any character in MLflow's SQL store, but the file store uses the key as a
  // file name, so both stores get the same (file-safe) rule for metrics and params.
  if (kind !== "tag" && !VALID_NAME.test(key)) {
    throw new TrackingError(
      `Invalid ${kind} name '${key}'. Names may only contain alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ), colon (:) and slashes (/).`,
      { errorCode: "INVALID_PARAMETER_VALUE" },
    );
  }
  if (pathNotUnique(key)) {
    throw new TrackingError(
      `Invalid ${kind} name '${key}'. Names are used as file names and must not resolve to another name (would resolve to '${posix.normalize(key)}').`,
      { errorCode: "INVALID_PARAMETER_VALUE" },
    );
  }
}

export function validateParamValue(key: string, value: string): void {
  if (value.length > MLFLOW_LIMITS.maxParamValueLength) {
    throw new TrackingError(
      `Param '${key}' has a ${value.length}-character value; MLflow allows at most ${MLFLOW_LIMITS.maxParamValueLength}. Log long values as an artifact instead.`,
      { errorCode: "INVALID_PARAMETER_VALUE" },
    );
  }
}

export function validateTagValue(key: string, value: string): void {
  if (value.length > MLFLOW_LIMITS.maxTagValueLength) {
    throw new TrackingError(
      `Tag '${key}' has a ${value.length}-character value; MLflow allows at most ${MLFLOW_LIMITS.maxTagValueLength}. Log long values as an artifact instead.`,
      { errorCode: "INVALID_PARAMETER_VALUE" },
    );
  }
}

export function validateRunId(runId: string): void {
  if (!RUN_ID.test(runId)) {
    throw new TrackingError(`Invalid run id '${runId}': MLflow run ids are 32 lowercase hex characters.`, {
      errorCode: "INVALID_PARAMETER_VALUE",
    });
  }
}

/** Artifact paths are relative, '/'-separated and may not escape the run's artifact directory. */
export function validateArtifactPath(relativePath: string): string {
  const norm = posix.normalize(relativePath.replace(/\\/g, "/"));
  if (relativePath.length === 0 || norm.startsWith("..") || norm.startsWith("/") || norm === ".") {
    throw new TrackingError(
      `Invalid artifact path '${relativePath}': use a relative path inside the run's artifacts, e.g. "plots/heatmap.svg".`,
      { errorCode: "INVALID_PARAMETER_VALUE" },
    );
  }
  return norm;
}
