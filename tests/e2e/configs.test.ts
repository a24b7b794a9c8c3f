/**
 * Every config in configs/ is valid, and one example per stream kind actually runs (briefly)
 * through `mnemo run`: class-, task-, domain-incremental (permuted, rotated), online/blurry.
 */
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig } from "@mnemo/experiment";
import { configSchema, defaultRegistry, runFromConfig } from "@mnemo/experiment";

const experimentConfigSchema = configSchema(defaultRegistry);

const root = resolve(import.meta.dirname, "../..");
const configs = readdirSync(join(root, "configs")).filter((f) => f.endsWith(".yaml"));

describe("configs/", () => {
  it.each(configs)("%s is a valid config", (file) => {
    const loaded = loadConfig(join(root, "configs", file), experimentConfigSchema);
    expect(loaded.value.name.length).toBeGreaterThan(0);
  });

  it.each(configs)("%s: a class-incremental config carves a validation split (hyper-parameters are chosen on it, never on test)", (file) => {
    const { stream } = loadConfig(join(root, "configs", file), experimentConfigSchema).value;
    if (stream.kind !== "class-incremental") return;
    const v = stream.validation;
    expect(v, `${file}: add stream.validation: { per_class: N }`).toBeDefined();
    expect((v?.per_class ?? v?.fraction ?? 0) > 0).toBe(true);
  });

  // A config that says it follows another's schedule has that schedule: the comment cannot drift
  // from the numbers (cil-cifar10-icarl.yaml said batch 64 "keeps the wasm heap under 2 GiB" while
  // cil-cifar.yaml, whose schedule it claims, runs 128 since the crash was fixed).
  it.each(configs)("%s: a config that names another's schedule has its epochs, batch size and lr schedule", (file) => {
    const comments = readFileSync(join(root, "configs", file), "utf8")
      .split("\n")
      .filter((l) => l.startsWith("#"))
      .map((l) => l.replace(/^#\s?/, ""))
      .join(" ");
    const named = /the ([\w-]+\.yaml)\s+schedule/.exec(comments)?.[1];
    if (!named) return;
    const mine = loadConfig(join(root, "configs", file), experimentConfigSchema).value.training;
    const theirs = loadConfig(join(root, "configs", named), experimentConfigSchema).value.training;
    expect({ epochs: mine.epochs, batch_size: mine.batch_size, schedule: mine.schedule.name }, `${file} vs ${named}`).toEqual({
      epochs: theirs.epochs,
      batch_size: theirs.batch_size,
      schedule: theirs.schedule.name,
    });
  });

  const runnable: [string, string][] = [
    ["til-mnist.yaml", "task-incremental"],
    ["dil-permuted-mnist.yaml", "domain-incremental"],
    ["dil-rotated-mnist.yaml", "domain-incremental"],
    ["online-blurry-mnist.yaml", "class-incremental"],
    ["cil-synthetic.yaml", "class-incremental"],
  ];
  it.each(runnable)("%s runs end to end (%s)", async (file, kind) => {
    const out = mkdtempSync(join(tmpdir(), "mnemo-configs-"));
    process.env.MLFLOW_TRACKING_URI = join(out, "mlruns");
    const { runDir, result, config } = await runFromConfig(
      { configFile: join(root, "configs", file), overrides: ["training.max_steps_per_task=3", `output.dir=${out}`], quiet: true, log: () => {} },
    );
    expect(config.stream.kind).toBe(kind);
    const T = result.matrix.length;
    expect(T).toBeGreaterThanOrEqual(3);
    expect(result.matrix.every((row) => row.length === T && row.every((v) => v !== null && v >= 0 && v <= 100))).toBe(true);
    expect(JSON.parse(readFileSync(join(runDir, "run.json"), "utf8")).status).toBe("FINISHED");
  });
});
