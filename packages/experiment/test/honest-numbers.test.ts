/**
 * A run reports every number under its definition's name: the named metrics, validation beside
 * test, FWT against a random-init row evaluated once, and the cost of the run.
 */
import { readFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, forwardTransfer, MemoryTracker, summarize } from "@mnemo/core";
import { buildExperiment, experimentConfig, PER_CLASS_COUNTS_FILE, runBuiltExperiment } from "@mnemo/experiment";
import { readRunDir, renderReport } from "@mnemo/tracking";

const out = mkdtempSync(join(tmpdir(), "mnemo-honest-"));

function config(extra: { stream?: Record<string, unknown>; evaluation?: Record<string, unknown>; method?: Record<string, unknown> } = {}) {
  return experimentConfig({
    name: "honest",
    seed: 3,
    backend: "wasm",
    stream: {
      kind: "class-incremental",
      dataset: { name: "synthetic-blobs", num_classes: 6, dim: 8, train_per_class: 30, test_per_class: 10 },
      increment: 2,
      order: "dataset",
      validation: { per_class: 5 },
      ...extra.stream,
    },
    model: { backbone: "mlp", hidden: [16] },
    training: { epochs: 2, batch_size: 16, lr: 0.01, optimizer: { name: "adam" } },
    ...(extra.method ? { method: extra.method } : {}),
    evaluation: { ...extra.evaluation },
    output: { dir: out },
  });
}

async function run(loaded: ReturnType<typeof config>) {
  const built = await buildExperiment(loaded, { quiet: true, log: () => {} });
  const tracker = new MemoryTracker();
  const outcome = await runBuiltExperiment(built, { tracker, handleSignals: false, log: () => {} });
  const metrics = JSON.parse(readFileSync(join(outcome.runDir, "metrics.json"), "utf8")) as Record<string, Record<string, unknown>>;
  return { outcome, tracker, metrics };
}

describe("a run's honest numbers", () => {
  it("metrics.json and the tracker carry the named metrics, validation, FWT and cost", async () => {
    const { outcome, tracker, metrics } = await run(config());
    const final = metrics["final"] as Record<string, number>;
    const s = summarize(outcome.result.matrix, { testSizes: outcome.result.testSizes });
    expect(final["acc_task_macro"]).toBe(s.accuracyTaskMacro);
    expect(final["aia_sample_weighted"]).toBe(s.aiaSampleWeighted);
    expect(final["final_average_accuracy"]).toBe(s.accuracyTaskMacro); // old key kept
    // FWT against the random-init row stored once in the run directory.
    const baseline = JSON.parse(readFileSync(join(outcome.runDir, "fwt_baseline.json"), "utf8")) as { accuracies: number[]; streamName: string; seed: number };
    expect(baseline).toMatchObject({ streamName: "init", seed: 3 });
    expect(metrics["fwt_baseline"]).toEqual(baseline.accuracies);
    expect(final["fwt"]).toBeCloseTo(forwardTransfer(outcome.result.matrix, baseline.accuracies), 12);
    // Validation beside test: 5 images per class, all tasks.
    expect(outcome.result.validationSizes).toEqual([10, 10, 10]);
    const V = outcome.result.validationMatrix as (number | null)[][];
    expect(V[2]?.every((v) => v !== null)).toBe(true);
    expect(V[0]?.[1]).toBeNull(); // never a future task
    expect(metrics["validation"]?.["acc_task_macro"]).toBeCloseTo(((V[2]?.[0] ?? 0) + (V[2]?.[1] ?? 0) + (V[2]?.[2] ?? 0)) / 3, 10);
    // Cost of the run.
    const cost = metrics["cost"] as Record<string, number>;
    expect(cost["train_images"]).toBe(3 * 2 * 50); // 3 tasks x 2 epochs x (2 classes x 25 train images)
    expect(cost["param_count"]).toBe(8 * 16 + 16 + 16 * 6 + 6);
    expect(cost["forward_flops_per_image"]).toBe(2 * (8 * 16 + 16 * 6));
    expect(cost["peak_rss_bytes"]).toBeGreaterThan(0);
    expect(cost["buffer_bytes"]).toBeUndefined(); // fine-tuning stores nothing
    const logged = new Set(tracker.metrics.map((m) => m.key));
    for (const k of ["acc_task_macro", "acc_sample_weighted", "aia_task_macro", "bwt", "fwt", "val_acc_task_macro", "val_seen_accuracy", "train_images_per_sec", "peak_rss_bytes", "forward_flops_per_image"]) {
      expect(logged.has(k), k).toBe(true);
    }
    expect(tracker.metrics.filter((m) => m.key === "forgetting" && m.step === 2)).toHaveLength(1); // not logged twice
    // Every key once per step at the source, not only after the journal's de-duplication
    // (MemoryTracker keeps every call): backward_transfer at the last step included.
    const ids = tracker.metrics.map((m) => `${m.key}@${m.step}`);
    expect(ids.filter((id, i) => ids.indexOf(id) !== i)).toEqual([]);
    expect(ids.filter((id) => id === "backward_transfer@2")).toHaveLength(1);
    expect(tracker.artifacts.has("fwt_baseline.json")).toBe(true);
    // The per-class counts behind the matrix, beside it in the run directory (and as an artifact).
    const counts = JSON.parse(readFileSync(join(outcome.runDir, PER_CLASS_COUNTS_FILE), "utf8")) as { perClassCounts: { correct: number[]; total: number[] }[][] };
    expect(counts.perClassCounts).toEqual(outcome.result.perClassCounts);
    const cell = counts.perClassCounts[2]?.[1];
    expect(cell?.total).toEqual([0, 0, 10, 10, 0, 0]); // task 1 = classes 2, 3; 10 test images each
    expect((100 * (cell?.correct ?? []).reduce((a, b) => a + b, 0)) / 20).toBe(outcome.result.matrix[2]?.[1]);
    expect(tracker.artifacts.has(PER_CLASS_COUNTS_FILE)).toBe(true);
    const defs = metrics["definitions"] as unknown as { key: string }[];
    expect(defs.map((d) => d.key)).toContain("aia_sample_weighted");
  });

  it("no FWT without future-task evaluation, no validation with per_class 0, replay memory counted", async () => {
    const { outcome, metrics } = await run(
      config({ stream: { validation: { per_class: 0 } }, evaluation: { future_tasks: false }, method: { name: "er", memory_size: 20 } }),
    );
    expect(metrics["final"]?.["fwt"]).toBeUndefined();
    expect(metrics["fwt_baseline"]).toBeUndefined();
    expect(metrics["validation"]).toBeUndefined();
    expect(outcome.result.validationMatrix).toBeUndefined();
    const cost = metrics["cost"] as Record<string, number>;
    expect(cost["buffer_samples"]).toBe(20);
    expect(cost["buffer_bytes_per_sample"]).toBeGreaterThanOrEqual(8); // an 8-byte image plus label and bookkeeping
  });

  // Acceptance: FWT in metrics.json, the tracker (MLflow) and the report for every run with
  // evaluation.future_tasks on (the default), whichever class-incremental method trains it.
  it.each([
    ["finetune", undefined],
    ["er", { name: "er", memory_size: 20 }],
    ["derpp", { name: "derpp", memory_size: 20 }],
    ["icarl", { name: "icarl", memory: { policy: "fixed-total", total: 24 } }],
    ["gdumb", { name: "gdumb", memory_size: 24 }],
    ["joint", { name: "joint" }],
  ] as const)("%s: FWT in metrics.json, the tracker and the report", async (_name, method) => {
    const { outcome, tracker, metrics } = await run(config(method ? { method: { ...method } } : {}));
    const fwt = metrics["final"]?.["fwt"];
    expect(typeof fwt).toBe("number");
    expect(tracker.metrics.some((m) => m.key === "fwt" && m.value === fwt)).toBe(true);
    const html = renderReport([readRunDir(outcome.runDir)]);
    expect(html).toMatch(/>fwt( \(mean ± std\))?</);
  });

  it("joint and GDumb count the images of every retraining, so their img/s exists", async () => {
    const joint = await run(config({ method: { name: "joint" } }));
    // Task i trains a fresh model on tasks 0..i: (1 + 2 + 3) x 2 classes x 25 train images x 2 epochs.
    expect(joint.metrics["cost"]?.["train_images"]).toBe(6 * 2 * 25 * 2);
    expect(joint.metrics["cost"]?.["train_images_per_sec"]).toBeGreaterThan(0);
    const gdumb = await run(config({ method: { name: "gdumb", memory_size: 24 } }));
    // The buffer holds min(24, seen) samples: 24 from the first task on (50 > 24), 2 epochs per task.
    expect(gdumb.metrics["cost"]?.["train_images"]).toBe(3 * 24 * 2);
  }, 60_000);

  it("intransigence against a joint run on the same stream (evaluation.joint_reference)", async () => {
    const joint = await run(config({ method: { name: "joint" }, evaluation: { future_tasks: false } }));
    const { outcome, metrics } = await run(config({ evaluation: { future_tasks: false, joint_reference: joint.outcome.runDir } }));
    const R = outcome.result.matrix;
    const J = joint.outcome.result.matrix;
    const expected = [0, 1, 2].map((k) => (J[k]?.[k] as number) - (R[k]?.[k] as number));
    expect(metrics["final"]?.["intransigence"]).toBeCloseTo(expected.reduce((a, b) => a + b, 0) / 3, 10);
    expect(metrics["final"]?.["intransigence_task2"]).toBeCloseTo(expected[2] as number, 10);
    // Another stream (another seed draws other validation images) is refused before training.
    const other = config({ evaluation: { joint_reference: joint.outcome.runDir } });
    const err = await run(experimentConfig({ ...other.value, seed: 4 } as unknown as Record<string, unknown>)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).message).toMatch(/another stream/);
  });
});
