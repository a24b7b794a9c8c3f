/**
 * The weight-interpolation plugins on real Split-MNIST (class-incremental, 5 tasks, 2 x 400 MLP),
 * through `runFromConfig` exactly as `mnemo run` does, with the shipped configs
 * (cil-mnist-er-momentum.yaml, cil-mnist-er-soup.yaml, cil-mnist-finetune-wiseft.yaml). Each run is capped at 40 optimizer
 * steps per task (as split-mnist-methods.test.ts) to keep CI short; the full-epoch numbers over 3
 * seeds are in configs/README.md.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, MemoryTracker, type AccuracyMatrix } from "@mnemo/core";
import { selectBackend } from "@mnemo/runtime";
import { runFromConfig } from "@mnemo/experiment";

const root = resolve(import.meta.dirname, "../..");
const STEPS = 40;
let out: string;

beforeAll(async () => {
  await selectBackend({ backend: "wasm" });
  out = mkdtempSync(join(tmpdir(), "mnemo-interp-e2e-"));
});

afterAll(() => rmSync(out, { recursive: true, force: true }));

interface Outcome {
  matrix: AccuracyMatrix;
  /** Final average accuracy (task-macro, %). */
  acc: number;
  perStep: Record<string, number>[];
}

async function run(config: string, extra: string[] = []): Promise<Outcome> {
  const { result, runDir, summary } = await runFromConfig({
    configFile: join(root, "configs", config),
    overrides: [`output.dir=${join(out, "runs")}`, `training.max_steps_per_task=${STEPS}`, "evaluation.future_tasks=false", ...extra],
    quiet: true,
    log: () => {},
    handleSignals: false,
    tracker: new MemoryTracker(),
  });
  const metrics = JSON.parse(readFileSync(join(runDir, "metrics.json"), "utf8")) as { perStep: Record<string, number>[] };
  process.stderr.write(`${config} ${extra.join(" ")}: ACC ${summary.finalAverageAccuracy.toFixed(2)}\n`);
  return { matrix: result.matrix, acc: summary.finalAverageAccuracy, perStep: metrics.perStep };
}

describe("ER + momentum_interpolation on Split-MNIST", { timeout: 240_000 }, () => {
  let er: Outcome;
  beforeAll(async () => {
    er = await run("cil-mnist-er.yaml");
  }, 240_000);

  it("τ = 0 evaluates the trained weights: the matrix of ER alone, bit for bit", async () => {
    // The plugin draws no randomness and never touches training, so only the evaluated weights can differ.
    const same = await run("cil-mnist-er-momentum.yaml", ["plugins.0.tau=0"]);
    expect(same.matrix).toEqual(er.matrix);
  });

  it("the configured τ evaluates slow weights that differ from ER's and keep its accuracy (≥ ER − 3 pp)", async () => {
    const mom = await run("cil-mnist-er-momentum.yaml");
    expect(mom.matrix).not.toEqual(er.matrix);
    expect(mom.acc).toBeGreaterThanOrEqual(er.acc - 3);
  });
});

describe("ER + soup on Split-MNIST", { timeout: 240_000 }, () => {
  it("ends each task with a greedy soup of its checkpoints, judged on validation", async () => {
    // 40 steps per task, a checkpoint every 10 (as the config): 4 ingredients, the last one the final weights.
    const soup = await run("cil-mnist-er-soup.yaml", ["plugins.0.every_steps=10"]);
    for (const s of soup.perStep) {
      expect(s.soup_ingredients).toBe(4);
      expect(s.soup_members).toBeGreaterThanOrEqual(1);
      expect(s.soup_members).toBeLessThanOrEqual(4);
      expect(s.soup_val_accuracy).toBeGreaterThan(50);
    }
    expect(soup.acc).toBeGreaterThan(75); // ER alone at this cap: ~85 %
  });
});

describe("finetune + wise_ft on Split-MNIST", { timeout: 240_000 }, () => {
  it("chooses α on validation at every task end after the first, and forgets less than fine-tuning", async () => {
    const finetune = await run("cil-mnist.yaml");
    const wise = await run("cil-mnist-finetune-wiseft.yaml");
    const alphas = wise.perStep.map((s) => s.wise_ft_alpha);
    expect(alphas[0]).toBeUndefined(); // the first task's start is the random initialisation
    for (const a of alphas.slice(1)) expect([0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1]).toContain(a);
    // Fine-tuning overwrites every old task (~20 %); θ_α keeps part of the previous model.
    expect(wise.acc).toBeGreaterThan(finetune.acc + 10);
  });

  it("without a validation split the config error names stream.validation, at the plugin's key", async () => {
    const err = await run("cil-mnist-finetune-wiseft.yaml", ["stream.validation.per_class=0"]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    const c = err as ConfigError;
    expect(c.file).toBe(join(root, "configs", "cil-mnist-finetune-wiseft.yaml"));
    expect(c.path).toBe("plugins.0.name");
    expect(c.message).toContain("wise_ft chooses on the validation split, but stream.validation is missing");
  });
});
