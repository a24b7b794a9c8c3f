import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { configDiff, groupRuns, meanStd, readSweepDir, sweepPoints } from "../src/compare.js";
import { readRunDir } from "../src/run-dir.js";
import { renderReport, writeReport } from "../src/report.js";
import { runJson, writeRunDir } from "./fixtures.js";
import { tempDir } from "./helpers.js";

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => {
  tmp = tempDir();
});
afterEach(() => tmp.cleanup());

// Two configs (lr 0.01 and 0.001) x two seeds; output.dir differs per run and is not a treatment.
const RUNS = [
  { name: "a-s1", lr: "0.01", seed: 1, matrix: [[90, null], [60, 80]] },
  { name: "a-s2", lr: "0.01", seed: 2, matrix: [[94, null], [70, 90]] },
  { name: "b-s1", lr: "0.001", seed: 1, matrix: [[98, null], [50, 96]] },
  { name: "b-s2", lr: "0.001", seed: 2, matrix: [[96, null], [40, 92]] },
];

function writeRuns(root: string): string[] {
  return RUNS.map((r) =>
    writeRunDir(join(root, r.name), runJson({ runName: r.name, seed: r.seed }), r.matrix, `name: split\nseed: ${r.seed}\ntraining:\n  lr: ${r.lr}\n  epochs: 1\noutput:\n  dir: out/${r.name}\n`),
  );
}

const cells = (html: string, tableId: string): string[][] => {
  const body = new RegExp(`<table id="${tableId}">[\\s\\S]*?<tbody>([\\s\\S]*?)</tbody>`).exec(html)?.[1] ?? "";
  return [...body.matchAll(/<tr>(.*?)<\/tr>/g)].map((m) => [...(m[1] as string).matchAll(/<td[^>]*>(.*?)<\/td>/g)].map((c) => c[1] as string));
};

describe("comparing runs", () => {
  it("mean ± std uses the sample standard deviation", () => {
    expect(meanStd([70, 80])).toEqual({ mean: 75, std: Math.sqrt(50), n: 2 });
    expect(meanStd([5])).toEqual({ mean: 5, std: 0, n: 1 });
    expect(meanStd([]).n).toBe(0);
  });

  it("the config diff lists exactly the keys that differ", () => {
    const runs = writeRuns(tmp.dir).map((d) => readRunDir(d));
    const diff = configDiff(runs.map((r) => r.config));
    expect(diff.keys).toEqual(["output.dir", "seed", "training.lr"]);
    expect(diff.values[2]).toEqual(["out/b-s1", "1", "0.001"]);
    expect(diff.common).toEqual({ name: "split", "training.epochs": "1" });
  });

  it("groups by everything but the seed (and output location), with mean ± std of metrics and of A_t", () => {
    const runs = writeRuns(tmp.dir).map((d) => readRunDir(d));
    const groups = groupRuns(runs);
    expect(groups.map((g) => [g.label, g.members, g.seeds])).toEqual([
      ["training.lr=0.01", [0, 1], [1, 2]],
      ["training.lr=0.001", [2, 3], [1, 2]],
    ]);
    // Final avg_accuracy (fixture: mean of the last row): 70, 80 and 73, 66.
    expect(groups[0]!.metrics.avg_accuracy).toEqual({ mean: 75, std: Math.sqrt(50), n: 2 });
    expect(groups[1]!.metrics.avg_accuracy!.mean).toBeCloseTo(69.5, 10);
    expect(groups[1]!.metrics.avg_accuracy!.std).toBeCloseTo(Math.sqrt(24.5), 10);
    expect(groups[0]!.curve.map((c) => c?.mean)).toEqual([92, 75]);
    expect(groups[1]!.curve.map((c) => c?.mean)).toEqual([97, 69.5]);
  });

  it("the report shows the config diff, the groups' mean ± std, an overlay of their curves, and each heading once", () => {
    const out = writeReport(writeRuns(tmp.dir), join(tmp.dir, "report.html"));
    const html = readFileSync(out, "utf8");
    expect(cells(html, "config-diff")).toEqual([
      ["a-s1", "out/a-s1", "1", "0.01"],
      ["a-s2", "out/a-s2", "2", "0.01"],
      ["b-s1", "out/b-s1", "1", "0.001"],
      ["b-s2", "out/b-s2", "2", "0.001"],
    ]);
    expect(html).toContain("<th>training.lr</th>");
    const groups = cells(html, "group-summary");
    expect(groups.map((r) => r.slice(0, 3))).toEqual([
      ["training.lr=0.01", "2", "1, 2"],
      ["training.lr=0.001", "2", "1, 2"],
    ]);
    expect(groups[0]).toContain("75.00 ± 7.07");
    expect(groups[1]).toContain("69.50 ± 4.95");
    const overlay = /<svg[^>]*id="accuracy-overlay"[\s\S]*?<\/svg>/.exec(html)?.[0] ?? "";
    const series = [...overlay.matchAll(/<polyline class="series" data-label="([^"]+)" data-values="([^"]*)"/g)].map((m) => [m[1], m[2]]);
    expect(series).toEqual([
      ["training.lr=0.01 (2 runs)", "92 75"],
      ["training.lr=0.001 (2 runs)", "97 69.5"],
    ]);
    expect(overlay.match(/<polygon class="band"/g)).toHaveLength(2);
    // Each run heading once: no "<name> (<name>)".
    for (const r of RUNS) expect(html.match(new RegExp(`<h2>${r.name}`, "g"))).toHaveLength(1);
    expect(html).not.toMatch(/<small>/);
  });

  it("shows each run's cost (img/s, memory, buffer, params, FLOPs) from metrics.json, blank where not measured", () => {
    const [a, b] = writeRuns(tmp.dir);
    const withCost = (dir: string, cost: Record<string, number>) => {
      const file = join(dir, "metrics.json");
      writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, "utf8")), cost }));
    };
    withCost(a!, { train_images_per_sec: 4321.4, peak_rss_bytes: 640 * 2 ** 20, param_count: 477_610, forward_flops_per_image: 955_200, buffer_bytes: 2 ** 20, buffer_bytes_per_sample: 796 });
    withCost(b!, { train_images_per_sec: 1000 });
    const html = renderReport([readRunDir(a!), readRunDir(b!)]);
    const head = /<table id="cost">\s*<thead><tr>(.*?)<\/tr>/.exec(html)?.[1] ?? "";
    expect(head).toContain("train img/s");
    expect(head).toContain("MFLOPs/img");
    const rows = cells(html, "cost");
    expect(rows[0]).toEqual(["a-s1", "cpu", "4321", "", "", "", "640", "", "1.00", "796", "0.478", "0.96"]);
    expect(rows[1]?.[2]).toBe("1000");
    expect(rows[1]?.slice(3).every((c) => c === "")).toBe(true);
    expect(renderReport([readRunDir(writeRuns(tmp.dir)[2]!)])).toContain("No run recorded its cost");
  });

  it("keeps a run without a cost record in the cost table, marked 'not recorded', beside runs that have one", () => {
    const [a, , c] = writeRuns(tmp.dir);
    const file = join(a!, "metrics.json");
    writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, "utf8")), cost: { train_images_per_sec: 2500, param_count: 1_000_000 } }));
    const rows = cells(renderReport([readRunDir(a!), readRunDir(c!)]), "cost");
    expect(rows.map((r) => r[0])).toEqual(["a-s1", "b-s1"]);
    expect(rows[0]?.[2]).toBe("2500");
    expect(rows[0]?.[10]).toBe("1.000");
    expect(rows[1]?.[2]).toBe("not recorded");
    expect(rows[1]?.slice(3).every((x) => x === "")).toBe(true);
  });

  it("one run: nothing to diff, a group of one", () => {
    const html = renderReport([readRunDir(writeRuns(tmp.dir)[0]!)]);
    expect(html).toContain("One run: nothing to compare.");
    expect(cells(html, "group-summary")[0]).toContain("70.00 (1 run)");
  });
});

describe("sweep view", () => {
  it("reads a sweep directory and shows mean ± std per grid point", () => {
    const sweepDir = join(tmp.dir, "runs", "sweeps", "lr", "2026-01-01T00-00-00");
    mkdirSync(sweepDir, { recursive: true });
    const dirs = writeRuns(join(sweepDir, "runs"));
    writeFileSync(join(sweepDir, "sweep.yaml"), "name: lr\nbase: ../split.yaml\nseeds: [1, 2]\ngrid:\n  training.lr: [0.01, 0.001]\n");
    // summary.json records the paths as the sweep saw them (relative to where it ran).
    writeFileSync(join(sweepDir, "summary.json"), JSON.stringify({ runs: dirs.map((d) => ({ runDir: relative(process.cwd(), d) })) }));
    const sweep = readSweepDir(sweepDir);
    expect(sweep.name).toBe("lr");
    expect(sweep.runs).toHaveLength(4);
    expect(sweepPoints(sweep).map((p) => [p.point, p.group.members.length])).toEqual([
      [{ "training.lr": "0.01" }, 2],
      [{ "training.lr": "0.001" }, 2],
    ]);
    const html = readFileSync(writeReport([sweepDir], join(tmp.dir, "sweep.html")), "utf8");
    const rows = cells(html, "sweep-table-0");
    // No run has a validation split: nothing is ranked, grid order stays.
    expect(rows.map((r) => r.slice(0, 4))).toEqual([
      ["–", "0.01", "", "2"],
      ["–", "0.001", "", "2"],
    ]);
    expect(rows[0]).toContain("75.00 ± 7.07");
    expect(html).toContain('id="sweep-overlay-0"');
    expect(html).toContain("Not ranked: no run has a validation split");
    // The runs are in the page once each, though found twice (summary.json and the folder).
    expect(cells(html, "final-metrics")).toHaveLength(4);
  });

  it("ranks the sweep's grid points by validation ACC, not by the test numbers beside it", () => {
    const sweepDir = join(tmp.dir, "runs", "sweeps", "lr", "2026-01-02T00-00-00");
    mkdirSync(sweepDir, { recursive: true });
    const dirs = writeRuns(join(sweepDir, "runs"));
    writeFileSync(join(sweepDir, "sweep.yaml"), "name: lr\nbase: ../split.yaml\nseeds: [1, 2]\ngrid:\n  training.lr: [0.01, 0.001]\n");
    // Test ACC favours lr 0.01 (75.0 vs 69.5); validation favours lr 0.001.
    [50, 52, 80, 82].forEach((v, i) => {
      const file = join(dirs[i]!, "metrics.json");
      writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, "utf8")), validation: { acc_task_macro: v } }));
    });
    const html = renderReport([], [readSweepDir(sweepDir)]);
    const rows = cells(html, "sweep-table-0");
    expect(rows.map((r) => r.slice(0, 3))).toEqual([
      ["1", "0.001", "81.00 ± 1.41"],
      ["2", "0.01", "51.00 ± 1.41"],
    ]);
    expect(rows[1]).toContain("75.00 ± 7.07");
    expect(html).toContain("Ranked by validation ACC (task-macro)");
  });

  it("a summary.json naming a missing run is an error that names it", () => {
    const sweepDir = join(tmp.dir, "sw");
    mkdirSync(sweepDir, { recursive: true });
    writeFileSync(join(sweepDir, "sweep.yaml"), "name: x\ngrid: {}\n");
    writeFileSync(join(sweepDir, "summary.json"), JSON.stringify({ runs: [{ runDir: "runs/gone" }] }));
    expect(() => readSweepDir(sweepDir)).toThrow(/lists run runs\/gone, which is not there/);
  });
});
