import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { sweepCommand } from "../src/commands/sweep.js";

function workdir(sweep: string): string {
  const work = mkdtempSync(join(tmpdir(), "mnemo-sweep-"));
  cpSync(resolve(import.meta.dirname, "../../../configs/cil-synthetic.yaml"), join(work, "base.yaml"));
  writeFileSync(join(work, "sweep.yaml"), sweep);
  return work;
}

async function inDir(work: string, argv: string[]): Promise<{ code: number; out: string[] }> {
  const cwd = process.cwd();
  process.chdir(work);
  process.env.MLFLOW_TRACKING_URI = join(work, "mlruns");
  const out: string[] = [];
  try {
    return { code: await sweepCommand(argv, (l) => out.push(l)), out };
  } finally {
    process.chdir(cwd);
    delete process.env.MLFLOW_TRACKING_URI;
  }
}

/** Every run of the one non-default experiment: its tags, and its run id as `id`. */
function mlflowRuns(work: string): Record<string, string>[] {
  const mlruns = join(work, "mlruns");
  const experiments = readdirSync(mlruns).filter((d) => /^\d+$/.test(d) && d !== "0");
  expect(experiments).toHaveLength(1);
  const exp = join(mlruns, experiments[0] as string);
  return readdirSync(exp)
    .filter((d) => d !== "meta.yaml")
    .map((run) => ({ ...Object.fromEntries(readdirSync(join(exp, run, "tags")).map((t) => [t, readFileSync(join(exp, run, "tags", t), "utf8")])), id: run }));
}

describe("mnemo sweep", () => {
  it("runs every point x seed nested under one MLflow parent run, ranks on validation, and a rerun runs nothing", async () => {
    const work = workdir(`name: tiny\nbase: base.yaml\nseeds: [0, 1]\ngrid:\n  training.lr: [0.001, 0.01]\nset:\n  training.epochs: 1\n`);
    const first = await inDir(work, ["sweep.yaml", "--quiet"]);
    expect(first.code).toBe(0);
    const dir = join(work, "runs", "sweeps", "tiny");
    const summary = JSON.parse(readFileSync(join(dir, "summary.json"), "utf8"));
    expect(summary.runs).toHaveLength(4);
    expect(summary.rankedBy).toBe("validation.acc_task_macro");
    type Point = { point: Record<string, number>; runs: number; rank: number; val_acc_task_macro: { mean: number } };
    const points = summary.summary as Point[];
    expect(points.map((s) => [s.rank, s.runs])).toEqual([
      [1, 2],
      [2, 2],
    ]);
    expect(points[0]!.val_acc_task_macro.mean).toBeGreaterThanOrEqual(points[1]!.val_acc_task_macro.mean);
    for (const f of ["summary.csv", "summary.md", "summary.html", "manifest.json", "plan.json"]) expect(existsSync(join(dir, f)), f).toBe(true);
    // The trial runs live in the sweep directory, not in runs/cil-synthetic/ with the base config's own runs.
    expect(readdirSync(join(work, "runs"))).toEqual(["sweeps"]);
    for (const r of summary.runs as { runDir: string; trialId: string }[]) expect(r.runDir.startsWith(join(dir, "trials", r.trialId, "runs"))).toBe(true);
    // One parent and four children in one experiment; the children carry the trial id and the worker host.
    const runs = mlflowRuns(work);
    expect(runs).toHaveLength(5);
    const parent = runs.find((t) => t["mnemo.sweep"] === "true")!;
    const children = runs.filter((t) => t["mlflow.parentRunId"]);
    expect(children).toHaveLength(4);
    expect(new Set(children.map((t) => t["mlflow.parentRunId"]))).toEqual(new Set([parent.id]));
    expect(new Set(children.map((t) => t["mnemo.sweep.trial"]))).toEqual(new Set((summary.runs as { trialId: string }[]).map((r) => r.trialId)));
    expect(children.every((t) => (t["mnemo.sweep.workerHost"] ?? "").length > 0)).toBe(true);

    const manifestBefore = readFileSync(join(dir, "manifest.json"), "utf8");
    const again = await inDir(work, ["sweep.yaml", "--quiet"]);
    expect(again.code).toBe(0);
    expect(readFileSync(join(dir, "manifest.json"), "utf8")).toBe(manifestBefore);
    expect(mlflowRuns(work)).toHaveLength(5); // the same parent, no new children
    expect(JSON.parse(readFileSync(join(dir, "summary.json"), "utf8")).summary).toEqual(summary.summary);

    // A new grid value adds its trials; the finished ones are not redone.
    writeFileSync(join(work, "sweep.yaml"), `name: tiny\nbase: base.yaml\nseeds: [0, 1]\ngrid:\n  training.lr: [0.001, 0.01, 0.003]\nset:\n  training.epochs: 1\n`);
    const plan = await inDir(work, ["sweep.yaml", "--plan"]);
    expect(plan.out.filter((l) => / finished /.test(l))).toHaveLength(4);
    expect(plan.out.filter((l) => / pending /.test(l))).toHaveLength(2);
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
    expect(out.join("")).toContain("usage: mnemo sweep [<sweep.yaml>]"); // optional: `--status --queue` takes none
    expect(out.join("")).toContain("mnemo sweep --status --queue redis://host:6379");
  });

  it("rejects a grid key that is not a config key before running anything, at its line in the sweep file", async () => {
    const work = workdir(`name: bad\nbase: base.yaml\ngrid:\n  training.lrr: [0.1]\n`);
    await expect(sweepCommand([join(work, "sweep.yaml")])).rejects.toThrow(/sweep\.yaml:4 grid\.training\.lrr\.0: .*unknown key/);
    expect(existsSync(join(work, "runs"))).toBe(false);
  });

  it("rejects --workers that is not a count", async () => {
    const work = workdir(`name: w\nbase: base.yaml\n`);
    await expect(sweepCommand([join(work, "sweep.yaml"), "--workers", "two"])).rejects.toThrow(/--workers expects a positive integer/);
  });
});
