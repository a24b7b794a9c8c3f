import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { appendFile, mkdir, readFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parse as parseYaml } from "yaml";
import { TrackingError } from "@mnemo/core/errors";
import { newExperimentId, newRunId } from "./ids.js";
import { validateArtifactPath, validateKey, validateParamValue, validateRunId, validateTagValue } from "./limits.js";
import { dumpFlatYaml } from "./pyyaml.js";
import { pythonFloatRepr } from "./python-float.js";
import { MLFLOW_TAGS, RUN_STATUS_CODES, type Clock, type KeyValue, type MetricRecord, type MlflowRunStatus } from "./types.js";

export const DEFAULT_EXPERIMENT_ID = "0";
export const DEFAULT_EXPERIMENT_NAME = "Default";
/** mlflow.entities.SourceType.LOCAL, which MLflow's FileStore always persists. */
const SOURCE_TYPE_LOCAL = 4;

export interface FileStoreOptions {
  /** The `mlruns` directory (MLflow's `--backend-store-uri`). */
  root: string;
  clock?: Clock;
  newRunId?: () => string;
  newExperimentId?: () => string;
}

export interface FileRunInfo {
  runId: string;
  experimentId: string;
  runName: string;
  userId: string;
  startTime: number;
  artifactUri: string;
  dir: string;
}

/**
 * Writes MLflow's FileStore layout (mlflow/store/tracking/file_store.py) so that
 * `mlflow ui --backend-store-uri ./mlruns` lists Mnemo runs:
 *
 *   mlruns/<exp>/meta.yaml
 *   mlruns/<exp>/<run>/meta.yaml, metrics/<key> ("<ms> <value> <step>" lines),
 *   params/<key>, tags/<key> (raw values, no newline), artifacts/
 */
export class MlflowFileStore {
  readonly root: string;
  private readonly clock: Clock;
  private readonly runIdGen: () => string;
  private readonly experimentIdGen: () => string;

  constructor(options: FileStoreOptions) {
    this.root = resolve(options.root);
    this.clock = options.clock ?? Date.now;
    this.runIdGen = options.newRunId ?? newRunId;
    this.experimentIdGen = options.newExperimentId ?? newExperimentId;
  }

  /** Like MLflow: a new store gets experiment 0 ("Default") and a `.trash` folder. */
  ensureRoot(): void {
    if (!existsSync(this.root) || readdirSync(this.root).length === 0) {
      mkdirSync(this.root, { recursive: true });
      this.writeExperiment(DEFAULT_EXPERIMENT_ID, DEFAULT_EXPERIMENT_NAME);
    } else if (!this.looksLikeStore() && !existsSync(join(this.root, ".trash"))) {
      throw new TrackingError(
        `${this.root} exists but is not an MLflow file store (no experiment meta.yaml inside). Point MLFLOW_TRACKING_URI at an empty directory or an existing mlruns directory.`,
      );
    }
    mkdirSync(join(this.root, ".trash"), { recursive: true });
  }

  getExperimentIdByName(name: string): string | undefined {
    if (!existsSync(this.root)) return undefined;
    for (const entry of readdirSync(this.root, { withFileTypes: true })) {
      if (!entry.isDirectory() || entry.name === ".trash") continue;
      const meta = join(this.root, entry.name, "meta.yaml");
      if (!existsSync(meta)) continue;
      const parsed = parseYaml(readFileSync(meta, "utf8")) as { name?: unknown; experiment_id?: unknown; lifecycle_stage?: unknown } | null;
      if (parsed && String(parsed.name) === name && parsed.lifecycle_stage !== "deleted") return String(parsed.experiment_id);
    }
    return undefined;
  }

  getOrCreateExperiment(name: string): string {
    this.ensureRoot();
    const existing = this.getExperimentIdByName(name);
    if (existing !== undefined) return existing;
    if (name.trim() === "") throw new TrackingError(`Invalid experiment name '${name}': give the experiment a non-empty name.`);
    let id = this.experimentIdGen();
    for (let i = 0; existsSync(join(this.root, id)) && i < 100; i++) id = this.experimentIdGen();
    this.writeExperiment(id, name);
    return id;
  }

  experimentArtifactLocation(experimentId: string): string {
    const meta = parseYaml(readFileSync(join(this.root, experimentId, "meta.yaml"), "utf8")) as { artifact_location?: unknown };
    return String(meta.artifact_location);
  }

  /**
   * Creates a run (with `runId` if given: the journal's id, so that re-creating after a crash
   * finds the same run). meta.yaml is written last: a run dir without it is an unfinished create.
   */
  createRun(req: { experimentId: string; runName: string; userId: string; startTime?: number; tags?: KeyValue[]; runId?: string }): FileRunInfo {
    const runId = req.runId ?? this.runIdGen();
    validateRunId(runId);
    const startTime = req.startTime ?? this.clock();
    const dir = join(this.root, req.experimentId, runId);
    const artifactUri = `${this.experimentArtifactLocation(req.experimentId).replace(/\/+$/, "")}/${runId}/artifacts`;
    const info: FileRunInfo = { runId, experimentId: req.experimentId, runName: req.runName, userId: req.userId, startTime, artifactUri, dir };
    mkdirSync(dir, { recursive: true });
    for (const sub of ["metrics", "params", "artifacts", "tags"]) mkdirSync(join(dir, sub), { recursive: true });
    const tags = [...(req.tags ?? [])];
    if (!tags.some((t) => t.key === MLFLOW_TAGS.runName)) tags.push({ key: MLFLOW_TAGS.runName, value: req.runName });
    for (const tag of tags) this.writeTagSync(dir, tag);
    atomicWrite(dir, join(dir, "meta.yaml"), this.runMeta(info, "RUNNING", null));
    return info;
  }

  /** The run with this id in any experiment, read back from its meta.yaml. */
  findRun(runId: string): FileRunInfo | undefined {
    validateRunId(runId);
    if (!existsSync(this.root)) return undefined;
    for (const entry of readdirSync(this.root, { withFileTypes: true })) {
      if (!entry.isDirectory() || entry.name === ".trash") continue;
      const meta = join(this.root, entry.name, runId, "meta.yaml");
      if (!existsSync(meta)) continue;
      const m = parseYaml(readFileSync(meta, "utf8")) as Record<string, unknown>;
      return {
        runId,
        experimentId: String(m.experiment_id),
        runName: String(m.run_name ?? ""),
        userId: String(m.user_id ?? ""),
        startTime: Number(m.start_time),
        artifactUri: String(m.artifact_uri),
        dir: join(this.root, entry.name, runId),
      };
    }
    return undefined;
  }

  /**
   * Appends only points whose (key, step) the run does not have yet: the file store's
   * de-duplication for replays after a crash (each metric has one point per step).
   */
  async appendMetricsOnce(run: FileRunInfo, metrics: MetricRecord[]): Promise<number> {
    const fresh: MetricRecord[] = [];
    const touched = new Set<string>();
    for (const m of metrics) {
      const { steps } = this.stepsOf(run, m.key);
      const step = Math.trunc(m.step);
      if (steps.has(step)) continue;
      steps.add(step);
      fresh.push(m);
      touched.add(m.key);
    }
    await this.appendMetrics(run, fresh);
    for (const key of touched) {
      const file = join(run.dir, "metrics", key);
      const cached = this.stepCache.get(file);
      if (cached) cached.size = statSync(file).size;
    }
    return fresh.length;
  }

  /** Steps per metric file, with the file size they were read at (another writer since then: re-read). */
  private readonly stepCache = new Map<string, { size: number; steps: Set<number> }>();

  private stepsOf(run: FileRunInfo, key: string): { size: number; steps: Set<number> } {
    validateKey("metric", key);
    const file = join(run.dir, "metrics", key);
    const size = existsSync(file) ? statSync(file).size : 0;
    const cached = this.stepCache.get(file);
    if (cached && cached.size === size) return cached;
    const entry = { size, steps: new Set<number>() };
    if (size > 0) {
      const text = readFileSync(file, "utf8");
      const end = text.lastIndexOf("\n") + 1;
      // A line cut short by a kill mid-append: drop it (it was never acknowledged, so it is resent).
      if (end < text.length) {
        entry.size = Buffer.byteLength(text.slice(0, end));
        truncateSync(file, entry.size);
      }
      for (const line of text.slice(0, end).split("\n")) {
        const parts = line.trim().split(" ");
        if (parts.length >= 3) entry.steps.add(Number(parts[2]));
        else if (parts.length === 2) entry.steps.add(0);
      }
    }
    this.stepCache.set(file, entry);
    return entry;
  }

  async setStatus(run: FileRunInfo, status: MlflowRunStatus, endTime: number | null): Promise<void> {
    atomicWrite(run.dir, join(run.dir, "meta.yaml"), this.runMeta(run, status, status === "RUNNING" ? null : endTime));
  }

  async appendMetrics(run: FileRunInfo, metrics: MetricRecord[]): Promise<void> {
    const byKey = new Map<string, string[]>();
    for (const m of metrics) {
      validateKey("metric", m.key);
      const lines = byKey.get(m.key) ?? [];
      lines.push(`${Math.trunc(m.timestamp)} ${pythonFloatRepr(m.value)} ${Math.trunc(m.step)}\n`);
      byKey.set(m.key, lines);
    }
    for (const [key, lines] of byKey) {
      const file = join(run.dir, "metrics", key);
      await mkdir(dirname(file), { recursive: true });
      await appendFile(file, lines.join(""));
    }
  }

  /** Params are immutable in MLflow: re-logging the same value is fine, another value is an error. */
  async writeParams(run: FileRunInfo, params: KeyValue[]): Promise<void> {
    for (const p of params) {
      validateKey("param", p.key);
      validateParamValue(p.key, p.value);
      const file = join(run.dir, "params", p.key);
      if (existsSync(file)) {
        const current = await readFile(file, "utf8");
        if (current !== p.value) {
          throw new TrackingError(
            `Changing param values is not allowed. Param with key='${p.key}' was already logged with value='${current}' for run ID='${run.runId}'. Attempted logging new value '${p.value}'.`,
            { errorCode: "INVALID_PARAMETER_VALUE" },
          );
        }
        continue;
      }
      await mkdir(dirname(file), { recursive: true });
      atomicWrite(run.dir, file, p.value);
    }
  }

  async writeTags(run: FileRunInfo, tags: KeyValue[]): Promise<void> {
    for (const tag of tags) {
      validateKey("tag", tag.key);
      validateTagValue(tag.key, tag.value);
      const file = join(run.dir, "tags", tag.key);
      await mkdir(dirname(file), { recursive: true });
      atomicWrite(run.dir, file, tag.value);
    }
  }

  async writeArtifact(run: FileRunInfo, relativePath: string, content: string | Uint8Array): Promise<void> {
    const file = join(run.dir, "artifacts", validateArtifactPath(relativePath));
    await mkdir(dirname(file), { recursive: true });
    atomicWrite(run.dir, file, content);
  }

  async finishRun(run: FileRunInfo, status: MlflowRunStatus, endTime: number): Promise<void> {
    atomicWrite(run.dir, join(run.dir, "meta.yaml"), this.runMeta(run, status, endTime));
  }

  private writeTagSync(dir: string, tag: KeyValue): void {
    validateKey("tag", tag.key);
    validateTagValue(tag.key, tag.value);
    const file = join(dir, "tags", tag.key);
    mkdirSync(dirname(file), { recursive: true });
    atomicWrite(dir, file, tag.value);
  }

  private runMeta(info: FileRunInfo, status: MlflowRunStatus, endTime: number | null): string {
    return dumpFlatYaml({
      artifact_uri: info.artifactUri,
      deleted_time: null,
      end_time: endTime,
      entry_point_name: "",
      experiment_id: info.experimentId,
      lifecycle_stage: "active",
      run_id: info.runId,
      run_name: info.runName,
      run_uuid: info.runId,
      source_name: "",
      source_type: SOURCE_TYPE_LOCAL,
      source_version: "",
      start_time: info.startTime,
      status: RUN_STATUS_CODES[status],
      tags: [],
      user_id: info.userId,
    });
  }

  private writeExperiment(id: string, name: string): void {
    const now = this.clock();
    const dir = join(this.root, id);
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, "meta.yaml"),
      dumpFlatYaml({
        artifact_location: `${pathToFileURL(this.root).href}/${id}`,
        creation_time: now,
        experiment_id: id,
        last_update_time: now,
        lifecycle_stage: "active",
        name,
      }),
    );
  }

  private looksLikeStore(): boolean {
    return readdirSync(this.root, { withFileTypes: true }).some((e) => e.isDirectory() && existsSync(join(this.root, e.name, "meta.yaml")));
  }
}

let tmpCounter = 0;

/**
 * Temp file + rename: a crash leaves the old or the new content, never half (a torn param file
 * would read as a different value and make the replay a "changed param" error). The temp file
 * sits in the run directory itself, where MLflow's FileStore reads no listing (a stray one in
 * params/ would show up as a param).
 */
function atomicWrite(runDir: string, file: string, content: string | Uint8Array): void {
  const tmp = join(runDir, `.tmp-${process.pid}-${tmpCounter++}`);
  writeFileSync(tmp, content);
  renameSync(tmp, file);
}
