/**
 * Mid-task checkpoints (`checkpoint.every_steps`): a run that dies inside a task (here: an
 * exception thrown from a progress report, so no interrupt checkpoint is written) resumes from
 * the last mid-task checkpoint to the bit-identical matrix, and the checkpoints report their cost.
 */
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { MemoryTracker } from "@mnemo/core";
import { buildExperiment, experimentConfig, runBuiltExperiment, type RunProgress } from "@mnemo/experiment";

const out = mkdtempSync(join(tmpdir(), "mnemo-midtask-"));

function config(dir: string) {
  return experimentConfig({
    name: "midtask",
    seed: 4,
    backend: "wasm",
    stream: { kind: "class-incremental", dataset: { name: "synthetic-blobs", num_classes: 4, dim: 8, train_per_class: 40, test_per_class: 10 }, increment: 2, order: "dataset" },
    model: { backbone: "mlp", hidden: [16] },
    method: { name: "er", memory_size: 10 },
    training: { epochs: 3, batch_size: 16, lr: 0.01, optimizer: { name: "adam" } },
    checkpoint: { every_steps: 4 },
    output: { dir: join(out, dir) },
  });
}

async function run(dir: string, options: { resume?: string; onProgress?: (p: RunProgress) => void } = {}) {
  const built = await buildExperiment(config(dir), { quiet: true, log: () => {} });
  const tracker = new MemoryTracker();
  return { ...(await runBuiltExperiment(built, { tracker, handleSignals: false, log: () => {}, ...options })), tracker };
}

describe("mid-task checkpoints", () => {
  it("a run that dies inside task 1 resumes from the last mid-task checkpoint to the bit-identical matrix", async () => {
    const reference = await run("full");
    // 2 tasks x 3 epochs x 5 steps: task 0 is steps 1..15, task 1 steps 16..30; mid-task checkpoints at multiples of 4.
    const reports: RunProgress[] = [];
    await expect(
      run("died", {
        onProgress: (p) => {
          reports.push(p);
          if (p.phase === "train" && p.step === 23) throw new Error("simulated crash at step 23");
        },
      }),
    ).rejects.toThrow(/simulated crash/);
    const checkpoints = reports.filter((p) => p.phase === "checkpoint");
    expect(checkpoints.map((p) => p.step)).toEqual([4, 8, 12, 16, 20]);
    for (const c of checkpoints) if (c.phase === "checkpoint") expect(c.bytes).toBeGreaterThan(1000);
    const dir = join(out, "died", "midtask", readdirSync(join(out, "died", "midtask"))[0] as string);
    expect(JSON.parse(readFileSync(join(dir, "checkpoint", "manifest.json"), "utf8")).position).toEqual({ task: 1, complete: false });
    const resumed = await run("died", { resume: dir });
    expect(resumed.result.matrix).toEqual(reference.result.matrix);
    // The matrix of an easy stream saturates; the loss of the task's last step (after the resume
    // point) is bit-sensitive to every piece of restored state.
    const lossAt = (t: MemoryTracker, step: number) => t.metrics.find((m) => m.key === "train_loss" && m.step === step)?.value;
    expect(lossAt(resumed.tracker, 30)).toBeDefined();
    expect(lossAt(resumed.tracker, 30)).toBe(lossAt(reference.tracker, 30));
    expect(lossAt(resumed.tracker, 16)).toBeUndefined(); // before the checkpoint at step 20: not re-trained
    const info = JSON.parse(readFileSync(join(dir, "run.json"), "utf8"));
    expect(info.checkpoints.count).toBeGreaterThan(checkpoints.length);
    expect(info.checkpoints.totalMs).toBeGreaterThan(0);
  });
});
