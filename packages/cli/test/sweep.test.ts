import { mkdtempSync, readdirSync, readFileSync, writeFileSync, cpSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { gridPoints, sweepCommand } from "../src/commands/sweep.js";

describe("mnemo sweep", () => {
  it("expands the grid in a stable order", () => {
    expect(gridPoints({ a: [1, 2], b: ["x", "y"] })).toEqual([
      { a: 1, b: "x" },
      { a: 1, b: "y" },
      { a: 2, b: "x" },
      { a: 2, b: "y" },
    ]);
    expect(gridPoints({})).toEqual([{}]);
  });

  it("runs every point x seed nested under one MLflow parent run and writes mean ± std", async () => {
    const work = mkdtempSync(join(tmpdir(), "mnemo-sweep-"));
    cpSync(resolve(import.meta.dirname, "../../../configs/cil-synthetic.yaml"), join(work, "base.yaml"));
    writeFileSync(
      join(work, "sweep.yaml"),
      `name: tiny\nbase: base.yaml\nseeds: [0, 1]\ngrid:\n  training.lr: [0.001, 0.01]\nset:\n  training.epochs: 1\n  output.dir: ${join(work, "runs")}\n`,
    );
    const cwd = process.cwd();
    process.chdir(work);
    process.env.MLFLOW_TRACKING_URI = join(work, "mlruns");
    try {
      expect(await sweepCommand([join(work, "sweep.yaml"), "--quiet"])).toBe(0);
    } finally {
      process.chdir(cwd);
      delete process.env.MLFLOW_TRACKING_URI;
    }
    const sweepDir = join(work, "runs", "sweeps", "tiny");
    const stamp = readdirSync(sweepDir)[0] as string;
    const summary = JSON.parse(readFileSync(join(sweepDir, stamp, "summary.json"), "utf8"));
    expect(summary.runs).toHaveLength(4);
    // Ranked on validation (the base config has a validation split): rank 1 has the higher mean
    // validation ACC, whatever the test numbers say.
    expect(summary.rankedBy).toBe("validation.acc_task_macro");
    expect(summary.note).toMatch(/ranked by validation/);
    type Point = { point: Record<string, number>; runs: number; rank: number; val_acc_task_macro: { mean: number } };
    const points = summary.summary as Point[];
    expect(points.map((s) => s.point["training.lr"]).sort()).toEqual([0.001, 0.01]);
    expect(points.map((s) => [s.rank, s.runs])).toEqual([
      [1, 2],
      [2, 2],
    ]);
    expect(points[0]!.val_acc_task_macro.mean).toBeGreaterThanOrEqual(points[1]!.val_acc_task_macro.mean);
    // Children carry the parent's run id (MLflow's nested-run tag).
    const mlruns = join(work, "mlruns");
    const parentTags: string[] = [];
    for (const exp of readdirSync(mlruns).filter((d) => /^\d+$/.test(d) && d !== "0")) {
      for (const run of readdirSync(join(mlruns, exp)).filter((d) => d !== "meta.yaml")) {
        try {
          parentTags.push(readFileSync(join(mlruns, exp, run, "tags", "mlflow.parentRunId"), "utf8"));
        } catch {
          /* the parent run itself has no parent tag */
        }
      }
    }
    expect(parentTags).toHaveLength(4);
    expect(new Set(parentTags).size).toBe(1);
  });

  it("keeps its runs inside the sweep directory and in one MLflow experiment with the parent", async () => {
    const work = mkdtempSync(join(tmpdir(), "mnemo-sweep-"));
    cpSync(resolve(import.meta.dirname, "../../../configs/cil-synthetic.yaml"), join(work, "base.yaml"));
    writeFileSync(join(work, "sweep.yaml"), `name: where\nbase: base.yaml\nseeds: [0]\ngrid:\n  training.lr: [0.001, 0.01]\nset:\n  training.epochs: 1\n`);
    const cwd = process.cwd();
    process.chdir(work);
    process.env.MLFLOW_TRACKING_URI = join(work, "mlruns");
    try {
      expect(await sweepCommand(["sweep.yaml", "--quiet"])).toBe(0);
    } finally {
      process.chdir(cwd);
      delete process.env.MLFLOW_TRACKING_URI;
    }
    // Not runs/cil-synthetic/, where the base config's own runs go.
    expect(readdirSync(join(work, "runs")).sort()).toEqual(["sweeps"]);
    const stamp = readdirSync(join(work, "runs", "sweeps", "where"))[0] as string;
    const children = join(work, "runs", "sweeps", "where", stamp, "runs", "cil-synthetic");
    expect(readdirSync(children)).toHaveLength(2);
    const summary = JSON.parse(readFileSync(join(work, "runs", "sweeps", "where", stamp, "summary.json"), "utf8"));
    for (const r of summary.runs as { runDir: string }[]) expect(resolve(work, r.runDir).startsWith(children)).toBe(true);
    // Parent and children: one experiment (the base config's name), three runs.
    const experiments = readdirSync(join(work, "mlruns")).filter((d) => /^\d+$/.test(d) && d !== "0");
    expect(experiments).toHaveLength(1);
    expect(readdirSync(join(work, "mlruns", experiments[0] as string)).filter((d) => d !== "meta.yaml")).toHaveLength(3);
  });

  it("--help prints its usage instead of asking for a sweep file", async () => {
    const out: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((c: string | Uint8Array) => (out.push(String(c)), true)) as typeof process.stdout.write;
    try {
      expect(await sweepCommand(["--help"])).toBe(0);
    } finally {
      process.stdout.write = write;
    }
    expect(out.join("")).toContain("usage: mnemo sweep <sweep.yaml>");
  });

  it("rejects a grid key that is not a config key before running anything", async () => {
    const work = mkdtempSync(join(tmpdir(), "mnemo-sweep-"));
    cpSync(resolve(import.meta.dirname, "../../../configs/cil-synthetic.yaml"), join(work, "base.yaml"));
    writeFileSync(join(work, "sweep.yaml"), `name: bad\nbase: base.yaml\ngrid:\n  training.lrr: [0.1]\n`);
    await expect(sweepCommand([join(work, "sweep.yaml")])).rejects.toThrow(/--set training.lrr.*unknown key/);
  });
});
