import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { accuracyCurveSampleWeighted, MemoryTracker, summarize, TrackingError } from "@mnemo/core";
import { flattenConfig } from "../src/flatten.js";
import { accuracyMatrixCsv, readRunDir } from "../src/run-dir.js";
import { logRunDir } from "../src/experiment-result.js";
import { accuracyColor, accuracyCurvesSvg, accuracyHeatmapSvg, seenTaskAccuracy } from "../src/svg.js";
import { renderReport, writeReport } from "../src/report.js";
import { FileTracker } from "../src/file-tracker.js";
import { syncCommand } from "../../cli/src/commands/sync.js";
import { reportCommand } from "../../cli/src/commands/report.js";
import { MATRIX, runJson, writeRunDir } from "./fixtures.js";
import { tempDir } from "./helpers.js";

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => {
  tmp = tempDir();
});
afterEach(() => tmp.cleanup());

describe("flattenConfig", () => {
  it("flattens nested objects into dotted string params", () => {
    expect(flattenConfig({ stream: { increment: 10, scenario: "class-incremental", shuffle: true }, model: { hidden: [256, 256], dropout: null }, empty: {}, skip: undefined })).toEqual({
      "stream.increment": "10",
      "stream.scenario": "class-incremental",
      "stream.shuffle": "true",
      "model.hidden": "[256,256]",
      "model.dropout": "null",
      empty: "{}",
    });
  });

  it("stops on cyclic configs", () => {
    const a: Record<string, unknown> = {};
    a.self = a;
    expect(() => flattenConfig(a)).toThrow(TrackingError);
  });
});

describe("accuracy matrix artifacts", () => {
  it("writes CSV with empty cells for tasks not yet evaluated", () => {
    expect(accuracyMatrixCsv({ matrix: MATRIX, taskClasses: [] })).toBe("trained_through_task,task_0,task_1,task_2\n0,99.1,,\n1,90.5,97.2,\n2,80.25,88,96.4\n");
  });

  it("averages each row over the seen tasks only (task-macro without test sizes)", () => {
    expect(seenTaskAccuracy(MATRIX).map((v) => v?.toFixed(4))).toEqual(["99.1000", "93.8500", "88.2167"]);
    // Future tasks evaluated at 0% (class-incremental, expanding head) do not pull the average down.
    expect(seenTaskAccuracy([[99, 0], [50, 98]])).toEqual([99, 74]);
    // A row missing a seen entry has no A_t.
    expect(seenTaskAccuracy([[99, null], [null, 98]])).toEqual([99, null]);
  });
});

describe("SVG plots", () => {
  it("heatmap has one coloured cell per evaluated entry, values, axis labels and a colour scale", () => {
    const svg = accuracyHeatmapSvg(MATRIX);
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg" id="accuracy-heatmap"/);
    expect(svg).toContain("trained through task i");
    expect(svg).toContain("evaluated on task j");
    expect(svg.match(/<title>trained through task \d, evaluated on task \d: /g)).toHaveLength(6);
    expect(svg).toContain(">80.3<");
    expect(svg).toContain(`fill="${accuracyColor(99.1)}"`);
    expect(svg).toContain(">100%<");
    expect(accuracyColor(0)).toBe("rgb(68,1,84)");
    expect(accuracyColor(100)).toBe("rgb(253,231,37)");
  });

  it("curves have one line per task plus the average", () => {
    const svg = accuracyCurvesSvg(MATRIX);
    const labels = [...svg.matchAll(/<polyline class="series" data-label="([^"]+)"/g)].map((m) => m[1]);
    expect(labels).toEqual(["task 0", "task 1", "task 2", "A_t (seen tasks)"]);
    // Task 2 is only evaluated after step 2: a single point.
    expect(/data-label="task 2"[^>]*points="([^"]+)"/.exec(svg)?.[1].split(" ")).toHaveLength(1);
  });

  it("draws a task only from the step it was trained at, and the average equals the run table's A_t column", () => {
    // Split-MNIST with plain fine-tuning: the full matrix (future tasks evaluated, at 0%), unequal test sizes.
    const R = [
      [99.9, 0, 0, 0, 0],
      [0, 97.1, 0, 0, 0],
      [0, 0, 93.3, 0, 0],
      [0, 0, 0, 99.4, 0],
      [0, 0, 0, 0, 98.4],
    ];
    const testSizes = [2115, 2042, 1874, 1986, 1983];
    const svg = accuracyCurvesSvg(R, { testSizes });
    const values = (label: string): (number | null)[] =>
      (new RegExp(`data-label="${label.replace(/[()]/g, "\\$&")}" data-values="([^"]*)"`).exec(svg)?.[1] ?? "").split(" ").map((v) => (v === "" ? null : Number(v)));
    // The A_t column as mnemo run prints it: summarize() of the rows so far, sample-weighted.
    const table = R.map((_, i) => summarize(R.slice(0, i + 1).map((r) => r.slice(0, i + 1)), { testSizes: testSizes.slice(0, i + 1) }).accuracyCurveSampleWeighted[i]);
    expect(values("A_t (seen tasks)")).toEqual(table);
    expect(values("A_t (seen tasks)")).toEqual(accuracyCurveSampleWeighted(R, testSizes));
    expect(table[4]).toBeCloseTo((98.4 * 1983) / 10000, 10);
    // Task 3 is drawn from step 3 on, not at 0% before it was trained.
    expect(values("task 3")).toEqual([null, null, null, 99.4, 0]);
    expect(/data-label="task 3"[^>]*points="([^"]+)"/.exec(svg)?.[1].split(" ")).toHaveLength(2);
    // Plotted heights follow the values: the average sits at A_4 (19.5%), not near 20% from the start.
    const yOf = (v: number): number => 40 + 250 - (v / 100) * 250;
    const pts = /data-label="A_t \(seen tasks\)"[^>]*points="([^"]+)"/.exec(svg)?.[1].split(" ").map((p) => Number(p.split(",")[1]));
    expect(pts?.[0]).toBeCloseTo(yOf(99.9), 1);
    expect(pts?.[4]).toBeCloseTo(yOf(table[4] as number), 1);
  });

  it("escapes text and survives an empty matrix", () => {
    expect(accuracyHeatmapSvg([], { title: "<b>&" })).toContain("&lt;b&gt;&amp;");
    expect(accuracyCurvesSvg([])).toContain("</svg>");
  });
});

describe("run directories", () => {
  it("logs a run directory through any Tracker", async () => {
    const dir = writeRunDir(join(tmp.dir, "run1"));
    const t = new MemoryTracker();
    await logRunDir(t, dir, { parentRunId: "p".repeat(32) });
    expect(t.info?.params).toEqual({ "stream.increment": "10", "stream.scenario": "class-incremental", "model.hidden": "[256,256]", lr: "0.01" });
    expect(t.info?.parentRunId).toBe("p".repeat(32));
    expect(t.tags).toMatchObject({ "mnemo.seed": "1", "mnemo.backend": "cpu", "mnemo.gitCommit": "abc123", "mlflow.source.git.commit": "abc123" });
    expect(t.metrics.filter((m) => m.key === "accuracy_task0").map((m) => [m.step, m.value])).toEqual([
      [0, 99.1],
      [1, 90.5],
      [2, 80.25],
    ]);
    expect(t.metrics.filter((m) => m.key === "accuracy_task2")).toHaveLength(1);
    expect(t.metrics.filter((m) => m.key === "avg_accuracy")).toHaveLength(3);
    expect(t.metrics.filter((m) => m.key === "forgetting")).toEqual([{ key: "forgetting", value: 14.2, step: 2 }]);
    expect(t.metrics.filter((m) => m.key === "task_time_sec").map((m) => m.value)).toEqual([1.5, 2.5, 3.5]);
    expect([...t.artifacts.keys()].sort()).toEqual(["accuracy_matrix.csv", "accuracy_matrix.json", "config.yaml", "plots/accuracy_curves.svg", "plots/accuracy_heatmap.svg", "run.json"]);
    expect(t.status).toBe("FINISHED");
  });

  it("logs a run directory into the MLflow file store", async () => {
    const dir = writeRunDir(join(tmp.dir, "run1"), runJson({ status: "FAILED" }));
    const t = new FileTracker({ root: join(tmp.dir, "mlruns"), userId: "ada" });
    const runId = await logRunDir(t, dir);
    const runDir = join(tmp.dir, "mlruns", t.runInfo!.experimentId, runId);
    expect(readFileSync(join(runDir, "meta.yaml"), "utf8")).toMatch(/^status: 4$/m);
    expect(readFileSync(join(runDir, "metrics", "accuracy_task1"), "utf8").trim().split("\n").map((l) => l.split(" ").slice(1).join(" "))).toEqual(["97.2 1", "88.0 2"]);
    expect(existsSync(join(runDir, "artifacts", "plots", "accuracy_heatmap.svg"))).toBe(true);
  });

  it("names the file and the problem for a broken run directory", () => {
    expect(() => readRunDir(tmp.dir)).toThrow(/run.json is missing/);
    const dir = writeRunDir(join(tmp.dir, "bad"));
    writeFileSync(join(dir, "accuracy_matrix.json"), JSON.stringify({ matrix: [[1, "x"]], taskClasses: [] }));
    expect(() => readRunDir(dir)).toThrow(/accuracy_matrix.json: matrix\[0\]\[1\] must be a finite number or null/);
  });
});

describe("report", () => {
  it("renders a comparison table and one heatmap per run", () => {
    const a = writeRunDir(join(tmp.dir, "a"));
    const b = writeRunDir(join(tmp.dir, "b"), runJson({ runName: "<replay>", seed: 2 }), [[95, null], [70, 96]]);
    const out = writeReport([a, b], join(tmp.dir, "out", "report.html"));
    const html = readFileSync(out, "utf8");
    expect(html).toContain('<table id="final-metrics">');
    expect(html).toContain("<th>avg_accuracy</th>");
    expect(html).toContain("&lt;replay&gt;");
    expect(html).toContain('id="accuracy-heatmap-0"');
    expect(html).toContain('id="accuracy-heatmap-1"');
    expect(renderReport([])).toContain("<tbody>");
  });
});

describe("CLI commands", () => {
  const io = () => {
    const out: string[] = [];
    const err: string[] = [];
    return { out, err, io: { stdout: (l: string) => out.push(l), stderr: (l: string) => err.push(l) } };
  };

  it("mnemo report writes the page and validates arguments", async () => {
    const a = writeRunDir(join(tmp.dir, "a"));
    const c = io();
    expect(await reportCommand([a, "--out", join(tmp.dir, "r.html")], c.io)).toBe(0);
    expect(existsSync(join(tmp.dir, "r.html"))).toBe(true);
    expect(c.out[0]).toMatch(/wrote .*r.html \(1 run\)/);
    expect(await reportCommand([], io().io)).toBe(2);
    expect(await reportCommand([a, "--bogus"], io().io)).toBe(2);
    const missing = io();
    expect(await reportCommand([join(tmp.dir, "nope")], missing.io)).toBe(1);
    expect(missing.err[0]).toMatch(/run.json is missing/);
  });

  it("mnemo sync with nothing pending succeeds; usage errors exit 2", async () => {
    const c = io();
    expect(await syncCommand([tmp.dir], c.io)).toBe(0);
    expect(c.out[0]).toMatch(/sent 0 pending operation\(s\); 0 remaining/);
    expect(await syncCommand([], io().io)).toBe(2);
    expect(await syncCommand([tmp.dir, "--uri"], io().io)).toBe(2);
  });
});
