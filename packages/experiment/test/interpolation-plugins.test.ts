/**
 * The weight-interpolation plugins through the config's `plugins:` list: their errors are located
 * at their keys, they refuse what they cannot compose with, WiSE-FT's α lands in metrics.json, and
 * each of them resumes bit-identically from a mid-task checkpoint (its state is in the learner's).
 */
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, MemoryTracker, TrainingInterrupted } from "@mnemo/core";
import { runFromConfig, type RunFromConfigArgs } from "@mnemo/experiment";

const dir = mkdtempSync(join(tmpdir(), "mnemo-interp-plugins-"));
let n = 0;

/** A 3-task synthetic stream; `plugins` is the YAML of the plugins: list (indented by two). */
function config(options: { method?: string; plugins: string; validation?: boolean; extra?: string }): string {
  const id = `c${n++}`;
  const file = join(dir, `${id}.yaml`);
  writeFileSync(
    file,
    `name: interp
seed: 3
stream:
  kind: class-incremental
  dataset: { name: synthetic-blobs, num_classes: 6, train_per_class: 40, test_per_class: 20, noise: 40 }
  increment: 2
${options.validation === false ? "" : "  validation: { per_class: 8 }\n"}model: { backbone: mlp, hidden: [16] }
method:
${options.method ?? "  name: finetune"}
plugins:
${options.plugins}
training:
  epochs: 2
  batch_size: 16
  lr: 0.01
  optimizer: { name: adam }
${options.extra ?? ""}output: { dir: ${join(dir, "runs", id)} }
`,
  );
  return file;
}

const quiet = { quiet: true, log: () => {}, handleSignals: false, tracker: new MemoryTracker() } satisfies Partial<RunFromConfigArgs>;

async function configError(file: string): Promise<ConfigError> {
  try {
    await runFromConfig({ configFile: file, ...quiet });
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error("expected a ConfigError");
}

// Runs train a small MLP on a shared 2-core machine: seconds each, more than vitest's 5 s default.
describe("interpolation plugins: config errors at their keys", { timeout: 60_000 }, () => {
  it("a tau outside [0, 1] is an error at plugins.0.tau, with its line", async () => {
    const file = config({ plugins: "  - name: momentum_interpolation\n    tau: 1.5" });
    const err = await configError(file);
    expect(err.path).toBe("plugins.0.tau");
    expect(err.line).toBe(13);
    expect(err.message).toContain("[0, 1]");
  });

  it.each([
    ["wise_ft", "  - name: wise_ft"],
    ["soup", "  - name: soup\n    recipe: greedy"],
  ])("%s without stream.validation says which key to add", async (name, plugins) => {
    const err = await configError(config({ plugins, validation: false }));
    expect(err.path).toBe("plugins.0.name");
    expect(err.line).toBe(11);
    expect(err.message).toContain(`${name} chooses on the validation split`);
    expect(err.message).toContain("stream.validation: { per_class: 100 }");
  });

  it("a uniform soup needs no validation split", async () => {
    const out = await runFromConfig({ configFile: config({ plugins: "  - name: soup\n    recipe: uniform", validation: false }), ...quiet });
    expect(out.result.matrix).toHaveLength(3);
  });

  it("two plugins that both decide the evaluated weights: an error naming both", async () => {
    const err = await configError(config({ plugins: "  - name: momentum_interpolation\n  - name: wise_ft" }));
    expect(err.path).toBe("plugins.1.name");
    expect(err.message).toBe(`${err.file}:${err.line} plugins.1.name: plugins[0] (momentum_interpolation) and plugins[1] (wise_ft) both swap the evaluated weights; keep one of them`);
  });

  it("iCaRL's nearest-mean scores with swapped evaluation weights: an error naming both", async () => {
    const icarl = "  name: icarl\n  memory: { policy: fixed-total, total: 30 }";
    const err = await configError(config({ method: icarl, plugins: "  - name: momentum_interpolation" }));
    expect(err.path).toBe("plugins.0.name");
    expect(err.message).toContain("method (icarl) fits its class scores on the trained weights, but plugins[0] (momentum_interpolation) evaluates other weights");
    // With its trained head (classifier: cnn) iCaRL replaces no scores, and the plugin composes.
    const fc = await runFromConfig({ configFile: config({ method: `${icarl}\n  classifier: cnn`, plugins: "  - name: momentum_interpolation" }), ...quiet });
    expect(fc.result.matrix).toHaveLength(3);
  });

  it("the nmc head beside an interpolation plugin: an error naming both", async () => {
    const err = await configError(config({ method: "  name: er\n  memory_size: 20", plugins: "  - name: nmc\n  - name: wise_ft" }));
    expect(err.path).toBe("plugins.1.name");
    expect(err.message).toContain("plugins[0] (nmc) fits its class scores on the trained weights, but plugins[1] (wise_ft) evaluates other weights");
  });

  it("a method without a gradient learner: an error naming method.name and the plugin", async () => {
    const err = await configError(config({ method: "  name: gdumb\n  memory_size: 20", plugins: "  - name: momentum_interpolation" }));
    expect(err.path).toBe("plugins");
    expect(err.message).toContain('method.name "gdumb" and plugins[0] (momentum_interpolation) cannot be combined');
  });
});

/** The run directory of the only run of config file `file`. */
function onlyRun(file: string): string {
  const exp = join(file.replace(/\.yaml$/, "").replace(/(c\d+)$/, "runs/$1"), "interp");
  const runs = readdirSync(exp);
  expect(runs).toHaveLength(1);
  return join(exp, runs[0] as string);
}

describe("interpolation plugins in a run", { timeout: 60_000 }, () => {
  it("wise_ft records the α it chose on validation per task in metrics.json", async () => {
    const file = config({ plugins: "  - name: wise_ft\n    alphas: [0, 0.5, 1]" });
    const out = await runFromConfig({ configFile: file, ...quiet });
    const metrics = JSON.parse(readFileSync(join(out.runDir, "metrics.json"), "utf8")) as { perStep: Record<string, number>[] };
    // The first task's start is the random initialisation: no choice there (first_task: false).
    expect(metrics.perStep[0]?.wise_ft_alpha).toBeUndefined();
    for (const t of [1, 2]) {
      expect([0, 0.5, 1]).toContain(metrics.perStep[t]?.wise_ft_alpha);
      expect(metrics.perStep[t]?.wise_ft_val_accuracy).toBeGreaterThanOrEqual(0);
    }
  });

  it.each([
    ["momentum_interpolation", "  - name: momentum_interpolation\n    tau: 0.9\n    every: 2"],
    ["wise_ft", "  - name: wise_ft\n    alphas: [0.3, 0.6, 1]"],
    ["soup", "  - name: soup\n    recipe: greedy\n    every_steps: 3"],
  ])("%s stopped mid-task and resumed ends with the bit-identical matrix", async (_name, plugins) => {
    const reference = await runFromConfig({ configFile: config({ plugins }), ...quiet });
    const file = config({ plugins });
    // Per task 2 classes x 32 training images (8 per class held out) at batch 16: 4 steps x 2 epochs, so step 11 is inside task 2.
    await expect(runFromConfig({ configFile: file, ...quiet, stopAfterSteps: 11 })).rejects.toBeInstanceOf(TrainingInterrupted);
    const runDir = onlyRun(file);
    const manifest = JSON.parse(readFileSync(join(runDir, "checkpoint", "manifest.json"), "utf8")) as { position: { task: number; complete: boolean } };
    expect(manifest.position).toEqual({ task: 1, complete: false });
    const resumed = await runFromConfig({ configFile: join(runDir, "config.yaml"), ...quiet, resume: runDir });
    expect(resumed.result.matrix).toEqual(reference.result.matrix);
    // Per-task plugin metrics (α, soup members) come from the restored plugin state.
    const perStep = (d: string): unknown => (JSON.parse(readFileSync(join(d, "metrics.json"), "utf8")) as { perStep: unknown }).perStep;
    expect(perStep(runDir)).toEqual(perStep(reference.runDir));
  });
});
