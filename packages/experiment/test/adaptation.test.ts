/**
 * The `adaptation:` phase in process: a run stopped between two domains resumes to the
 * bit-identical per-domain errors, MLflow gets one error per domain and adapter, and the config
 * errors name the key to fix.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { MemoryTracker } from "@mnemo/core";
import { AdaptationInterrupted, buildExperiment, experimentConfig, runBuiltExperiment } from "@mnemo/experiment";

const out = mkdtempSync(join(tmpdir(), "mnemo-adapt-"));

const mnist = (angles: number[], limit: { train: number; test: number }) => ({ kind: "domain-incremental", dataset: { name: "mnist" }, transform: { type: "rotated", angles }, limit_per_class: limit });

function config(dir: string, patch: Record<string, unknown> = {}, adaptation: Record<string, unknown> = {}) {
  return experimentConfig({
    name: "adapt",
    seed: 3,
    backend: "wasm",
    stream: mnist([0], { train: 60, test: 5 }),
    model: { backbone: "mlp", hidden: [32], batch_norm: true, head: "fixed" },
    training: { epochs: 1, batch_size: 32, lr: 0.001, optimizer: { name: "adam" } },
    adaptation: {
      stream: mnist([40, 80], { train: 1, test: 8 }),
      batch_size: 20,
      adapters: [{ name: "bn" }, { name: "tent" }, { name: "cotta", augmentations: 2, threshold: 1.01, restore: 0.1 }],
      ...adaptation,
    },
    output: { dir: join(out, dir) },
    ...patch,
  });
}

async function run(dir: string, options: { resume?: string; stopAfterAdaptationDomains?: number } = {}, adaptation: Record<string, unknown> = {}) {
  const built = await buildExperiment(config(dir, {}, adaptation), { quiet: true, log: () => {} });
  const tracker = new MemoryTracker();
  return { ...(await runBuiltExperiment(built, { tracker, handleSignals: false, log: () => {}, ...options })), tracker };
}

const report = (dir: string) => JSON.parse(readFileSync(join(dir, "adaptation.json"), "utf8")).adapters;

describe("adaptation phase", () => {
  it("a run stopped between domains resumes to the bit-identical errors", async () => {
    const full = await run("full");
    const reference = report(full.runDir);
    expect(Object.keys(reference)).toEqual(["bn", "tent", "cotta"]);
    for (const a of Object.values(reference) as { error: number[]; total: number[] }[]) {
      expect(a.error).toHaveLength(2);
      expect(a.total).toEqual([80, 80]);
    }
    const metrics = JSON.parse(readFileSync(join(full.runDir, "metrics.json"), "utf8"));
    expect(metrics.adaptation.adapters.cotta.mean_error).toBe(reference.cotta.mean_error);
    expect(existsSync(join(full.runDir, "plots", "adaptation_error_heatmap.svg"))).toBe(true);
    expect(existsSync(join(full.runDir, "checkpoint-adaptation"))).toBe(false);
    const series = full.tracker.metrics.filter((m) => m.key === "tta_cotta_error").map((m) => [m.step, m.value]);
    expect(series).toEqual(reference.cotta.error.map((e: number, k: number) => [k, e]));

    // Stopped after 3 (adapter, domain) steps: inside tent, after its first domain; then inside cotta.
    await expect(run("stopped", { stopAfterAdaptationDomains: 3 })).rejects.toThrow(AdaptationInterrupted);
    const exp = join(out, "stopped", "adapt");
    const dir = join(exp, readdirSync(exp)[0] as string);
    expect(JSON.parse(readFileSync(join(dir, "run.json"), "utf8")).status).toBe("KILLED");
    expect(JSON.parse(readFileSync(join(dir, "checkpoint-adaptation", "manifest.json"), "utf8")).position).toEqual({ adapter: 1, cell: 1 });
    await expect(run("stopped", { resume: dir, stopAfterAdaptationDomains: 2 })).rejects.toThrow(AdaptationInterrupted);
    const resumed = await run("stopped", { resume: dir });
    expect(report(resumed.runDir)).toEqual(reference);
  });

  it("reset: domain starts every domain from the source model (Tent-online*), also after a resume", async () => {
    // The same domain three times, and a step large enough that continual Tent drifts: with the
    // reset, each repetition is predicted exactly as the first; without it, it is not.
    const adapters = { stream: mnist([0, 0, 0], { train: 1, test: 8 }), adapters: [{ name: "tent", reset: "domain", lr: 0.05 }, { name: "tent", lr: 0.05 }] };
    const both = await run("reset", {}, adapters);
    const r = report(both.runDir);
    expect(Object.keys(r)).toEqual(["tent-reset", "tent"]);
    expect(r["tent-reset"].reset).toBe("domain");
    expect(r.tent.reset).toBe("never");
    expect(r["tent-reset"].correct).toEqual(Array(3).fill(r["tent-reset"].correct[0]));
    expect(r.tent.correct[0]).toBe(r["tent-reset"].correct[0]);
    expect(r.tent.correct.slice(1)).not.toEqual([r.tent.correct[0], r.tent.correct[0]]);

    await expect(run("reset-stopped", { stopAfterAdaptationDomains: 2 }, adapters)).rejects.toThrow(AdaptationInterrupted);
    const exp = join(out, "reset-stopped", "adapt");
    const resumed = await run("reset-stopped", { resume: join(exp, readdirSync(exp)[0] as string) }, adapters);
    expect(report(resumed.runDir)).toEqual(r);
  });

  it("config errors name the key", async () => {
    const noBn = config("e1", { model: { backbone: "mlp", hidden: [32], head: "fixed" } });
    await expect(buildExperiment(noBn, { quiet: true, log: () => {} })).rejects.toThrow(/adaptation\.adapters\.0\.name.*model\.batch_norm: true/s);
    const base = config("e2").value;
    const otherClasses = experimentConfig({
      ...JSON.parse(JSON.stringify(base)),
      adaptation: { ...JSON.parse(JSON.stringify(base.adaptation)), stream: { kind: "class-incremental", dataset: { name: "mnist" }, increment: 5, order: [5, 6, 7, 8, 9, 0, 1, 2, 3, 4], limit_per_class: { train: 1, test: 2 } } },
    });
    await expect(buildExperiment(otherClasses, { quiet: true, log: () => {} })).rejects.toThrow(/adaptation\.stream.*same order/s);
  });
});
