/**
 * The experiment is a library: examples/er-in-code.ts builds configs/cil-mnist-er.yaml's experiment in
 * TypeScript and gets, bit for bit, the accuracy matrix `mnemo run` writes, and an MLflow run with the
 * same params and metrics. A method from a package outside packages/ runs from a YAML config.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { experimentConfig, loadExperimentConfig } from "@mnemo/experiment";
import { cilMnistEr, runErInCode } from "../../examples/er-in-code.js";

const root = resolve(import.meta.dirname, "../..");
const quick = ["training.max_steps_per_task=15", "evaluation.batch_size=2000"];

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

/** The single MLflow run in a file store: params and metric points (key -> "value@step" list), timings left out. */
function storedRun(store: string): { params: Record<string, string>; metrics: Record<string, string[]> } {
  const metas = filesUnder(store).filter((f) => f.endsWith("/meta.yaml") && existsSync(join(f, "..", "params")));
  expect(metas).toHaveLength(1);
  const runDir = join(metas[0] as string, "..");
  const params = Object.fromEntries(filesUnder(join(runDir, "params")).map((f) => [relative(join(runDir, "params"), f), readFileSync(f, "utf8")]));
  const metrics: Record<string, string[]> = {};
  for (const f of filesUnder(join(runDir, "metrics"))) {
    const key = relative(join(runDir, "metrics"), f);
    // Measurements of the machine (wall and CPU time, throughput, process memory, checkpoint size) differ between any two runs, per task too (train_seconds_task0).
    if (/(_sec|_seconds|peak_rss_bytes|wasm_heap_bytes|checkpoint_bytes)(_task\d+)?$/.test(key)) continue;
    metrics[key] = readFileSync(f, "utf8").trim().split("\n").map((l) => {
      const [, value, step] = l.split(" ");
      return `${value}@${step}`;
    });
  }
  return { params, metrics };
}

const saved = process.env.MLFLOW_TRACKING_URI;
afterEach(() => {
  if (saved === undefined) delete process.env.MLFLOW_TRACKING_URI;
  else process.env.MLFLOW_TRACKING_URI = saved;
});

describe("examples", () => {
  it("er-in-code.ts holds exactly configs/cil-mnist-er.yaml", () => {
    expect(experimentConfig(cilMnistEr).value).toEqual(loadExperimentConfig(join(root, "configs/cil-mnist-er.yaml")).value);
  });

  it("er-in-code.ts gives mnemo run's accuracy matrix bit for bit, and the same MLflow params and metrics", async () => {
    const out = mkdtempSync(join(tmpdir(), "mnemo-example-"));
    const overrides = [...quick, `output.dir=${join(out, "runs")}`];
    const cli = spawnSync(process.execPath, ["packages/cli/bin/mnemo.mjs", "run", "configs/cil-mnist-er.yaml", "--quiet", ...overrides.flatMap((o) => ["--set", o])], {
      cwd: root,
      encoding: "utf8",
      env: { ...process.env, MLFLOW_TRACKING_URI: join(out, "mlruns-cli") },
    });
    expect(cli.status, cli.stderr).toBe(0);
    const cliRun = /run directory: (\S+)/.exec(cli.stdout)?.[1] as string;
    const cliMatrix = JSON.parse(readFileSync(join(cliRun, "accuracy_matrix.json"), "utf8")).matrix as number[][];

    process.env.MLFLOW_TRACKING_URI = join(out, "mlruns-code");
    const { result, runDir } = await runErInCode(overrides);
    expect(runDir).not.toBe(cliRun);
    expect(result.matrix).toEqual(cliMatrix); // toEqual on numbers is exact: bit for bit
    expect(JSON.parse(readFileSync(join(runDir, "accuracy_matrix.json"), "utf8")).matrix).toEqual(cliMatrix);
    const a = storedRun(join(out, "mlruns-cli"));
    const b = storedRun(join(out, "mlruns-code"));
    expect(Object.keys(a.metrics)).toContain("accuracy_task4");
    expect(b.params).toEqual(a.params);
    expect(b.metrics).toEqual(a.metrics);
  });

  it("runs a method registered by a package outside packages/ from its YAML config", () => {
    const out = mkdtempSync(join(tmpdir(), "mnemo-user-method-"));
    const r = spawnSync(
      process.execPath,
      ["packages/cli/bin/mnemo.mjs", "run", "examples/user-method/l2-mnist.yaml", "--quiet", "--set", "training.max_steps_per_task=15", "--set", `output.dir=${out}`],
      { cwd: root, encoding: "utf8", env: { ...process.env, MLFLOW_TRACKING_URI: join(out, "mlruns") } },
    );
    expect(r.status, r.stderr).toBe(0);
    const runDir = /run directory: (\S+)/.exec(r.stdout)?.[1] as string;
    const matrix = JSON.parse(readFileSync(join(runDir, "accuracy_matrix.json"), "utf8")).matrix as number[][];
    expect(matrix).toHaveLength(5);
    expect(matrix[0]?.[0]).toBeGreaterThan(90); // it learned the first task
    expect(readFileSync(join(runDir, "config.yaml"), "utf8")).toMatch(/name: l2_anchor/);
  });

  it("names the config file and key when an imported module is missing", () => {
    const r = spawnSync(process.execPath, ["packages/cli/bin/mnemo.mjs", "run", "examples/user-method/l2-mnist.yaml", "--set", "imports=[./nope.ts]"], { cwd: root, encoding: "utf8" });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/l2-mnist\.yaml imports: \.\/nope\.ts not found/);
    expect(r.stderr).not.toMatch(/unexpected error|\n\s+at /);
  });
});
