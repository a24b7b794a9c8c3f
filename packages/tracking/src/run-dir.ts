import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import { TrackingError } from "@mnemo/core/errors";
import type { RunStatus } from "@mnemo/core";

/** `<runDir>/run.json`, written by the CLI. */
export interface RunJson {
  experiment: string;
  runName: string;
  seed: number;
  backend: string;
  threads: number;
  gitCommit: string | null;
  mnemoVersion: string;
  startedAt: string;
  endedAt: string;
  status: RunStatus;
  taskTimingsSec: number[];
}

/** `<runDir>/accuracy_matrix.json`: percent; row i = after training task i, column j = test on task j. */
export interface AccuracyMatrixJson {
  matrix: (number | null)[][];
  taskClasses: number[][];
  /** Test samples per task (A_t is weighted by them); absent in older run directories. */
  testSizes?: number[];
}

/** `<runDir>/metrics.json`. */
export interface MetricsJson {
  final: Record<string, number>;
  perStep: Record<string, number>[];
  /** What the run cost (img/s, CPU seconds, peak RSS, wasm heap, params, FLOPs, buffer bytes); absent in older runs. */
  cost?: Record<string, number>;
  /** ACC / AIA on the validation split, when the stream has one. */
  validation?: Record<string, number>;
}

export interface ExperimentResult {
  run: RunJson;
  /** Parsed config.yaml (empty if absent). */
  config: Record<string, unknown>;
  /** config.yaml as written, logged verbatim as an artifact. */
  configYaml?: string;
  accuracy?: AccuracyMatrixJson;
  metrics?: MetricsJson;
}

export interface RunDirContents extends ExperimentResult {
  dir: string;
}

function readJson<T>(file: string, check: (v: unknown) => string | undefined): T {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, "utf8"));
  } catch (cause) {
    throw new TrackingError(`${file}: cannot read JSON (${(cause as Error).message}). Is this a Mnemo run directory?`, {}, { cause });
  }
  const problem = check(parsed);
  if (problem) throw new TrackingError(`${file}: ${problem}`);
  return parsed as T;
}

const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

function checkRun(v: unknown): string | undefined {
  if (!isObj(v)) return "expected a JSON object";
  for (const k of ["experiment", "runName", "status"]) if (typeof v[k] !== "string") return `field '${k}' must be a string`;
  if (!["FINISHED", "FAILED", "KILLED"].includes(v.status as string)) return `field 'status' must be FINISHED, FAILED or KILLED, got '${String(v.status)}'`;
  if (v.taskTimingsSec !== undefined && !Array.isArray(v.taskTimingsSec)) return "field 'taskTimingsSec' must be an array of numbers";
  return undefined;
}

export function checkAccuracy(v: unknown): string | undefined {
  if (!isObj(v) || !Array.isArray(v.matrix)) return "expected { matrix: (number|null)[][], taskClasses: number[][] }";
  for (const [i, row] of (v.matrix as unknown[]).entries()) {
    if (!Array.isArray(row)) return `matrix row ${i} is not an array`;
    for (const [j, cell] of row.entries()) {
      if (cell !== null && (typeof cell !== "number" || !Number.isFinite(cell))) return `matrix[${i}][${j}] must be a finite number or null`;
    }
  }
  if (v.testSizes !== undefined && (!Array.isArray(v.testSizes) || !v.testSizes.every((n) => Number.isInteger(n) && (n as number) >= 0))) {
    return "testSizes must be an array of non-negative integers (test samples per task)";
  }
  return undefined;
}

function checkMetrics(v: unknown): string | undefined {
  if (!isObj(v) || !isObj(v.final) || !Array.isArray(v.perStep)) return "expected { final: {...}, perStep: [...] }";
  return undefined;
}

/** Reads a run directory written by `mnemo run`; only run.json is mandatory. */
export function readRunDir(dir: string): RunDirContents {
  const runFile = join(dir, "run.json");
  if (!existsSync(runFile)) throw new TrackingError(`${dir} is not a Mnemo run directory: ${runFile} is missing.`);
  const run = readJson<RunJson>(runFile, checkRun);
  const configFile = join(dir, "config.yaml");
  let config: Record<string, unknown> = {};
  let configYaml: string | undefined;
  if (existsSync(configFile)) {
    configYaml = readFileSync(configFile, "utf8");
    try {
      const parsed: unknown = parseYaml(configYaml);
      config = isObj(parsed) ? parsed : {};
    } catch (cause) {
      throw new TrackingError(`${configFile}: cannot parse YAML (${(cause as Error).message}).`, {}, { cause });
    }
  }
  const accFile = join(dir, "accuracy_matrix.json");
  const accuracy = existsSync(accFile) ? readJson<AccuracyMatrixJson>(accFile, checkAccuracy) : undefined;
  const metricsFile = join(dir, "metrics.json");
  const metrics = existsSync(metricsFile) ? readJson<MetricsJson>(metricsFile, checkMetrics) : undefined;
  return { dir, run, config, configYaml, accuracy, metrics };
}

/** CSV with one row per training step: `trained_through_task,task_0,...`; empty cell = not evaluated. */
export function accuracyMatrixCsv(acc: AccuracyMatrixJson): string {
  const cols = Math.max(0, ...acc.matrix.map((r) => r.length));
  const header = ["trained_through_task", ...Array.from({ length: cols }, (_, j) => `task_${j}`)].join(",");
  const rows = acc.matrix.map((row, i) => [String(i), ...Array.from({ length: cols }, (_, j) => (row[j] === null || row[j] === undefined ? "" : String(row[j])))].join(","));
  return [header, ...rows].join("\n") + "\n";
}

export function accuracyMatrixJson(acc: AccuracyMatrixJson): string {
  return JSON.stringify(acc, null, 2) + "\n";
}
