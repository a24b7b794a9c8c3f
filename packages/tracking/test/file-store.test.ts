import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { TrackingError } from "@mnemo/core";
import { FileTracker } from "../src/file-tracker.js";
import { pythonFloatRepr } from "../src/python-float.js";
import { dumpFlatYaml } from "../src/pyyaml.js";
import { newExperimentId, newRunId } from "../src/ids.js";
import { tempDir } from "./helpers.js";

let tmp: ReturnType<typeof tempDir>;
let root: string;
let now: number;
const RUN_ID = "0123456789abcdef0123456789abcdef";
const EXP_ID = "123456789012345678";

beforeEach(() => {
  tmp = tempDir();
  root = join(tmp.dir, "mlruns");
  now = 1_700_000_000_000;
});
afterEach(() => tmp.cleanup());

function fileTracker(runIds: string[] = [RUN_ID]): FileTracker {
  const ids = [...runIds];
  return new FileTracker({ root, clock: () => now, newRunId: () => ids.shift() ?? newRunId(), newExperimentId: () => EXP_ID, userId: "ada", flushIntervalMs: 10_000 });
}

/** Every file under dir, relative, sorted: the layout MLflow's FileStore reads. */
function tree(dir: string, prefix = ""): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const rel = prefix ? `${prefix}/${name}` : name;
      return statSync(join(dir, name)).isDirectory() ? [`${rel}/`, ...tree(join(dir, name), rel)] : [rel];
    });
}

describe("MLflow file store layout", () => {
  it("writes exactly MLflow's FileStore files and formats", async () => {
    const t = fileTracker();
    const runId = await t.startRun({ experimentName: "split-mnist", runName: "ewc-seed1", params: { "stream.increment": "10", "model.hidden": "[256,256]" }, tags: { "mnemo.seed": "1" } });
    expect(runId).toBe(RUN_ID);
    now += 1000;
    t.logMetrics({ acc: 0.5, loss: 2 }, 0);
    now += 1000;
    t.logMetrics({ acc: 0.75, loss: 1e-5 }, 1);
    t.setTags({ note: "it's: fine" });
    await t.logArtifact("plots/heatmap.svg", "<svg/>");
    now += 3000;
    await t.endRun("FINISHED");

    expect(tree(root)).toEqual([
      ".trash/",
      "0/",
      "0/meta.yaml",
      `${EXP_ID}/`,
      `${EXP_ID}/${RUN_ID}/`,
      `${EXP_ID}/${RUN_ID}/artifacts/`,
      `${EXP_ID}/${RUN_ID}/artifacts/plots/`,
      `${EXP_ID}/${RUN_ID}/artifacts/plots/heatmap.svg`,
      `${EXP_ID}/${RUN_ID}/meta.yaml`,
      `${EXP_ID}/${RUN_ID}/metrics/`,
      `${EXP_ID}/${RUN_ID}/metrics/acc`,
      `${EXP_ID}/${RUN_ID}/metrics/loss`,
      `${EXP_ID}/${RUN_ID}/params/`,
      `${EXP_ID}/${RUN_ID}/params/model.hidden`,
      `${EXP_ID}/${RUN_ID}/params/stream.increment`,
      `${EXP_ID}/${RUN_ID}/tags/`,
      `${EXP_ID}/${RUN_ID}/tags/mlflow.runName`,
      `${EXP_ID}/${RUN_ID}/tags/mlflow.user`,
      `${EXP_ID}/${RUN_ID}/tags/mnemo.seed`,
      `${EXP_ID}/${RUN_ID}/tags/note`,
      `${EXP_ID}/meta.yaml`,
    ]);
    const rootUri = pathToFileURL(root).href;
    // As PyYAML safe_dump writes them (sorted keys, block style, string ids quoted).
    expect(readFileSync(join(root, "0", "meta.yaml"), "utf8")).toBe(
      `artifact_location: ${rootUri}/0\ncreation_time: 1700000000000\nexperiment_id: '0'\nlast_update_time: 1700000000000\nlifecycle_stage: active\nname: Default\n`,
    );
    expect(readFileSync(join(root, EXP_ID, "meta.yaml"), "utf8")).toBe(
      `artifact_location: ${rootUri}/${EXP_ID}\ncreation_time: 1700000000000\nexperiment_id: '${EXP_ID}'\nlast_update_time: 1700000000000\nlifecycle_stage: active\nname: split-mnist\n`,
    );
    expect(readFileSync(join(root, EXP_ID, RUN_ID, "meta.yaml"), "utf8")).toBe(
      [
        `artifact_uri: ${rootUri}/${EXP_ID}/${RUN_ID}/artifacts`,
        "deleted_time: null",
        "end_time: 1700000005000",
        "entry_point_name: ''",
        `experiment_id: '${EXP_ID}'`,
        "lifecycle_stage: active",
        `run_id: ${RUN_ID}`,
        "run_name: ewc-seed1",
        `run_uuid: ${RUN_ID}`,
        "source_name: ''",
        "source_type: 4",
        "source_version: ''",
        "start_time: 1700000000000",
        "status: 3",
        "tags: []",
        "user_id: ada",
        "",
      ].join("\n"),
    );
    const run = join(root, EXP_ID, RUN_ID);
    expect(readFileSync(join(run, "metrics", "acc"), "utf8")).toBe("1700000001000 0.5 0\n1700000002000 0.75 1\n");
    expect(readFileSync(join(run, "metrics", "loss"), "utf8")).toBe("1700000001000 2.0 0\n1700000002000 1e-05 1\n");
    // Params and tags: the raw value, no trailing newline.
    expect(readFileSync(join(run, "params", "stream.increment"), "utf8")).toBe("10");
    expect(readFileSync(join(run, "params", "model.hidden"), "utf8")).toBe("[256,256]");
    expect(readFileSync(join(run, "tags", "mlflow.runName"), "utf8")).toBe("ewc-seed1");
    expect(readFileSync(join(run, "tags", "note"), "utf8")).toBe("it's: fine");
    expect(readFileSync(join(run, "artifacts", "plots", "heatmap.svg"), "utf8")).toBe("<svg/>");
  });

  it("marks a running run with status 1 and no end time, and FAILED/KILLED as 4/5", async () => {
    const t = fileTracker(["a".repeat(32), "b".repeat(32)]);
    const id = await t.startRun({ experimentName: "e", runName: "r", params: {}, tags: {} });
    const meta = (): string => readFileSync(join(root, EXP_ID, id, "meta.yaml"), "utf8");
    expect(meta()).toMatch(/^status: 1$/m);
    expect(meta()).toMatch(/^end_time: null$/m);
    await t.endRun("KILLED");
    expect(meta()).toMatch(/^status: 5$/m);
    expect(() => t.logMetrics({ late: 1 })).toThrow(/after endRun/);
    const t2 = fileTracker(["b".repeat(32)]);
    const id2 = await t2.startRun({ experimentName: "e", runName: "r2", params: {}, tags: {}, parentRunId: id });
    await t2.endRun("FAILED");
    expect(readFileSync(join(root, EXP_ID, id2, "meta.yaml"), "utf8")).toMatch(/^status: 4$/m);
    expect(readFileSync(join(root, EXP_ID, id2, "tags", "mlflow.parentRunId"), "utf8")).toBe(id);
    // Same experiment reused by name; the default experiment is created once.
    expect(readdirSync(root).sort()).toEqual([".trash", "0", EXP_ID]);
  });

  it("refuses names MLflow refuses, a changed param value, and artifact paths escaping the run", async () => {
    const t = fileTracker();
    await expect(t.startRun({ experimentName: "e", runName: "r", params: { "../x": "1" }, tags: {} })).rejects.toThrow(/Invalid param name/);
    const t2 = fileTracker();
    await t2.startRun({ experimentName: "e", runName: "r", params: { lr: "0.1" }, tags: {} });
    expect(() => t2.logMetrics({ "a//b": 1 })).toThrow(/must not resolve to another name/);
    expect(() => t2.logMetrics({ "a*b": 1 })).toThrow(/Invalid metric name/);
    await expect(t2.logArtifact("../../etc/passwd", "x")).rejects.toThrow(/Invalid artifact path/);
    await expect(t2.store.writeParams(t2.runInfo!, [{ key: "lr", value: "0.2" }])).rejects.toMatchObject({ errorCode: "INVALID_PARAMETER_VALUE" });
    await expect(t2.store.writeParams(t2.runInfo!, [{ key: "lr", value: "0.1" }])).resolves.toBeUndefined();
    await t2.endRun("FINISHED");
  });

  it("refuses to write into a directory that is not an MLflow store", async () => {
    mkdirSync(root, { recursive: true });
    writeFileSync(join(root, "thesis.tex"), "x");
    await expect(fileTracker().startRun({ experimentName: "e", runName: "r", params: {}, tags: {} })).rejects.toThrow(TrackingError);
  });

  it("generates MLflow-shaped ids", () => {
    for (let i = 0; i < 50; i++) {
      expect(newRunId()).toMatch(/^[0-9a-f]{32}$/);
      expect(newExperimentId()).toMatch(/^[1-9][0-9]{17}$/);
    }
  });
});

describe("Python-compatible formatting", () => {
  it("formats floats like Python's repr", () => {
    const cases: [number, string][] = [
      [0.5, "0.5"],
      [1, "1.0"],
      [0, "0.0"],
      [-2.5, "-2.5"],
      [1e-5, "1e-05"],
      [0.0001, "0.0001"],
      [1e16, "1e+16"],
      [1.5e16, "1.5e+16"],
      [1e15, "1000000000000000.0"],
      [123456789, "123456789.0"],
      [1 / 3, "0.3333333333333333"],
      [97.25, "97.25"],
      [-1.2345e-7, "-1.2345e-07"],
      [1e300, "1e+300"],
      [NaN, "nan"],
      [Infinity, "inf"],
      [-Infinity, "-inf"],
    ];
    for (const [x, s] of cases) expect(pythonFloatRepr(x), String(x)).toBe(s);
  });

  it("quotes YAML scalars as PyYAML does", () => {
    const out = dumpFlatYaml({ a: "yes", b: "1.5", c: "a: b", d: "it's", e: "'q", f: "", g: "null", h: "-x", i: "#x", j: "2024-01-01", k: "1e5", l: "0777", m: "deadbeef", n: "Default", o: null, p: 42, q: [] });
    expect(out).toBe(
      "a: 'yes'\nb: '1.5'\nc: 'a: b'\nd: it's\ne: '''q'\nf: ''\ng: 'null'\nh: -x\ni: '#x'\nj: '2024-01-01'\nk: 1e5\nl: '0777'\nm: deadbeef\nn: Default\no: null\np: 42\nq: []\n",
    );
  });
});

describe("read back with MLflow FileStore's rules", () => {
  it("a FileTracker run (nested metric names, non-finite values, odd characters) reads back exactly", async () => {
    const { readMlflowFileStore } = await import("./mlflow-file-store-reader.js");
    const t = fileTracker();
    await t.startRun({ experimentName: "read-back", runName: "r: 1", params: { "model.hidden": "[400, 400]", note: "a 'quoted' value\nwith a newline" }, tags: { "mnemo.seed": "0" } });
    t.logMetrics({ "accuracy/task_0": 97.5, loss: NaN, big: Infinity, tiny: 1e-5 }, 0);
    now += 5;
    t.logMetrics({ "accuracy/task_0": 95.25, loss: 0.5 }, 1);
    await t.logArtifact("plots/accuracy_heatmap.svg", "<svg/>");
    await t.endRun("FINISHED");
    const store = readMlflowFileStore(root);
    expect(store.experiments.map((e) => e.name)).toEqual(["Default", "read-back"]);
    const exp = store.experiments[1]!;
    expect(exp.artifact_location).toBe(`${pathToFileURL(root).href}/${EXP_ID}`);
    const run = exp.runs[0]!;
    expect(run.info).toMatchObject({ run_id: RUN_ID, run_name: "r: 1", experiment_id: EXP_ID, status: "FINISHED", user_id: "ada", lifecycle_stage: "active" });
    expect(run.info.end_time).toBe(now);
    expect(run.info.artifact_uri).toBe(`${exp.artifact_location}/${RUN_ID}/artifacts`);
    expect(run.metrics["accuracy/task_0"]).toEqual([
      { timestamp: 1_700_000_000_000, value: 97.5, step: 0 },
      { timestamp: 1_700_000_000_005, value: 95.25, step: 1 },
    ]);
    expect(run.metrics.loss?.[0]?.value).toBeNaN();
    expect(run.metrics.big?.[0]?.value).toBe(Infinity);
    expect(run.metrics.tiny?.[0]?.value).toBe(1e-5);
    expect(run.params).toEqual({ "model.hidden": "[400, 400]", note: "a 'quoted' value\nwith a newline" });
    expect(run.tags).toEqual({ "mlflow.runName": "r: 1", "mlflow.user": "ada", "mnemo.seed": "0" });
    expect(run.artifacts).toEqual(["plots/accuracy_heatmap.svg"]);
    // No temp files left where MLflow would list them as params, tags or metrics.
    expect(readdirSync(join(root, EXP_ID, RUN_ID)).filter((f) => f.startsWith(".tmp"))).toEqual([]);
  });

  it("the reader rejects what MLflow would: a torn metric line, an experiment id mismatch", async () => {
    const { readMlflowFileStore } = await import("./mlflow-file-store-reader.js");
    const t = fileTracker();
    await t.startRun({ experimentName: "bad", runName: "r", params: {}, tags: {} });
    t.logMetrics({ loss: 1 }, 0);
    await t.endRun("FINISHED");
    writeFileSync(join(root, EXP_ID, RUN_ID, "metrics", "loss"), "1700000000000 1.0 0\n17000");
    expect(() => readMlflowFileStore(root)).toThrow(/not a Python float|Expected 2 or 3 fields/);
    writeFileSync(join(root, EXP_ID, RUN_ID, "metrics", "loss"), "1700000000000 1.0 0\n");
    const meta = readFileSync(join(root, EXP_ID, "meta.yaml"), "utf8");
    writeFileSync(join(root, EXP_ID, "meta.yaml"), meta.replace(`experiment_id: '${EXP_ID}'`, "experiment_id: '999'"));
    expect(() => readMlflowFileStore(root)).toThrow(/Experiment ID mismatch/);
  });
});
