/**
 * Reads an `mlruns` directory with the rules of MLflow's own FileStore
 * (mlflow/store/tracking/file_store.py), strictly: what this reader rejects, `mlflow ui` would
 * show as a malformed experiment or run, or fail on.
 *
 *  - experiments are the sub-directories of the root except `.trash` (and MLflow's `models`);
 *    each has meta.yaml whose experiment_id equals the folder name;
 *  - runs are the sub-directories of an experiment except the reserved `tags`, `datasets`,
 *    `traces`; each has meta.yaml whose experiment_id is its experiment and whose run_id is the
 *    folder name; status is the integer RunStatus enum (1..5);
 *  - every file under metrics/ (recursively: names may contain '/') is a metric, with lines
 *    "<int ms> <float> [<int step>]" (2 or 3 fields) and at least one line; every file under
 *    params/ and tags/ is one param/tag whose content is the raw value.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { parse as parseYaml } from "yaml";

const RUN_STATUS = { 1: "RUNNING", 2: "SCHEDULED", 3: "FINISHED", 4: "FAILED", 5: "KILLED" } as const;
const RESERVED_EXPERIMENT_FOLDERS = new Set(["tags", "datasets", "traces"]);
const RUN_META_FIELDS = ["artifact_uri", "end_time", "experiment_id", "lifecycle_stage", "run_id", "run_name", "run_uuid", "start_time", "status", "user_id"];
const EXPERIMENT_META_FIELDS = ["artifact_location", "creation_time", "experiment_id", "last_update_time", "lifecycle_stage", "name"];

export interface ReadMetric {
  timestamp: number;
  value: number;
  step: number;
}

export interface ReadRun {
  info: { run_id: string; run_name: string; experiment_id: string; status: string; start_time: number; end_time: number | null; artifact_uri: string; lifecycle_stage: string; user_id: string };
  metrics: Record<string, ReadMetric[]>;
  params: Record<string, string>;
  tags: Record<string, string>;
  /** Relative artifact paths. */
  artifacts: string[];
}

export interface ReadExperiment {
  experiment_id: string;
  name: string;
  artifact_location: string;
  runs: ReadRun[];
}

/** Like os.walk over a folder: every file below it, as a '/'-joined path relative to it. */
function walkFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  const visit = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) visit(p);
      else out.push(relative(dir, p));
    }
  };
  visit(dir);
  return out.sort();
}

function yamlAt(file: string): Record<string, unknown> {
  const parsed = parseYaml(readFileSync(file, "utf8")) as unknown;
  if (!parsed || typeof parsed !== "object") throw new Error(`${file}: meta.yaml is not a mapping`);
  return parsed as Record<string, unknown>;
}

function pythonFloat(text: string, where: string): number {
  const t = text.toLowerCase();
  if (t === "nan") return NaN;
  if (t === "inf" || t === "infinity") return Infinity;
  if (t === "-inf" || t === "-infinity") return -Infinity;
  if (!/^[-+]?(\d+(\.\d*)?|\.\d+)(e[-+]?\d+)?$/.test(t)) throw new Error(`${where}: '${text}' is not a Python float`);
  return Number(text);
}

function pythonInt(text: string, where: string): number {
  if (!/^[-+]?\d+$/.test(text)) throw new Error(`${where}: '${text}' is not a Python int`);
  return Number(text);
}

function readMetricFile(file: string): ReadMetric[] {
  const lines = readFileSync(file, "utf8").split("\n").filter((l) => l.length > 0);
  if (lines.length === 0) throw new Error(`${file}: Metric is malformed. No data found.`);
  return lines.map((line, i) => {
    const parts = line.trim().split(" ");
    if (parts.length !== 2 && parts.length !== 3) throw new Error(`${file}:${i + 1}: persisted metric data contained ${parts.length} fields. Expected 2 or 3 fields.`);
    return {
      timestamp: pythonInt(parts[0] as string, `${file}:${i + 1}`),
      value: pythonFloat(parts[1] as string, `${file}:${i + 1}`),
      step: parts.length === 3 ? pythonInt(parts[2] as string, `${file}:${i + 1}`) : 0,
    };
  });
}

function readRun(expDir: string, runId: string, experimentId: string): ReadRun {
  const runDir = join(expDir, runId);
  const meta = yamlAt(join(runDir, "meta.yaml"));
  for (const f of RUN_META_FIELDS) if (!(f in meta)) throw new Error(`${runDir}/meta.yaml: field '${f}' missing`);
  if (String(meta.experiment_id) !== experimentId) throw new Error(`Run '${runId}' metadata is in invalid state (experiment_id ${String(meta.experiment_id)} in experiment ${experimentId}).`);
  if (meta.run_id !== runId || meta.run_uuid !== runId) throw new Error(`${runDir}/meta.yaml: run_id/run_uuid ${String(meta.run_id)} != folder ${runId}`);
  const status = RUN_STATUS[meta.status as keyof typeof RUN_STATUS];
  if (!status) throw new Error(`${runDir}/meta.yaml: status ${String(meta.status)} is not a RunStatus integer`);
  if (typeof meta.start_time !== "number") throw new Error(`${runDir}/meta.yaml: start_time must be an int`);
  if (meta.end_time !== null && typeof meta.end_time !== "number") throw new Error(`${runDir}/meta.yaml: end_time must be an int or null`);
  const metrics: Record<string, ReadMetric[]> = {};
  for (const name of walkFiles(join(runDir, "metrics"))) metrics[name] = readMetricFile(join(runDir, "metrics", name));
  const params: Record<string, string> = {};
  for (const name of walkFiles(join(runDir, "params"))) params[name] = readFileSync(join(runDir, "params", name), "utf8");
  const tags: Record<string, string> = {};
  for (const name of walkFiles(join(runDir, "tags"))) tags[name] = readFileSync(join(runDir, "tags", name), "utf8");
  return {
    info: {
      run_id: runId,
      run_name: String(meta.run_name),
      experiment_id: experimentId,
      status,
      start_time: meta.start_time,
      end_time: meta.end_time as number | null,
      artifact_uri: String(meta.artifact_uri),
      lifecycle_stage: String(meta.lifecycle_stage),
      user_id: String(meta.user_id),
    },
    metrics,
    params,
    tags,
    artifacts: walkFiles(join(runDir, "artifacts")),
  };
}

export function readMlflowFileStore(root: string): { experiments: ReadExperiment[] } {
  const experiments: ReadExperiment[] = [];
  for (const e of readdirSync(root, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    if (!e.isDirectory() || e.name === ".trash" || e.name === "models") continue;
    const expDir = join(root, e.name);
    const meta = yamlAt(join(expDir, "meta.yaml"));
    for (const f of EXPERIMENT_META_FIELDS) if (!(f in meta)) throw new Error(`${expDir}/meta.yaml: field '${f}' missing`);
    if (String(meta.experiment_id) !== e.name) throw new Error(`Experiment ID mismatch for exp ${e.name}. ID recorded as '${String(meta.experiment_id)}' in meta data.`);
    const runs: ReadRun[] = [];
    for (const r of readdirSync(expDir, { withFileTypes: true })) {
      if (!r.isDirectory() || RESERVED_EXPERIMENT_FOLDERS.has(r.name)) continue;
      runs.push(readRun(expDir, r.name, e.name));
    }
    experiments.push({ experiment_id: e.name, name: String(meta.name), artifact_location: String(meta.artifact_location), runs });
  }
  // Default experiment first, as listed by id; tests index experiments[1] for the first created one.
  experiments.sort((a, b) => (a.experiment_id === "0" ? -1 : b.experiment_id === "0" ? 1 : 0));
  if (!statSync(join(root, ".trash")).isDirectory()) throw new Error(`${root}/.trash missing`);
  return { experiments };
}
