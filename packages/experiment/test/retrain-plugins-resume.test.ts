/**
 * Learners that retrain a fresh model every task (joint, GDumb) carry their plugins across tasks: a
 * plugin's state (here NMC's class means) must be in their checkpoint, or a resumed run scores with
 * what the plugin rebuilt after the resume only.
 */
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { MemoryTracker, TrainingInterrupted } from "@mnemo/core";
import { runFromConfig, type RunFromConfigArgs } from "@mnemo/experiment";

const dir = mkdtempSync(join(tmpdir(), "mnemo-retrain-plugins-"));
let n = 0;

function config(method: string): string {
  const id = `c${n++}`;
  const file = join(dir, `${id}.yaml`);
  writeFileSync(
    file,
    `name: retrain
seed: 5
stream:
  kind: class-incremental
  dataset: { name: synthetic-blobs, num_classes: 6, train_per_class: 40, test_per_class: 20, noise: 40 }
  increment: 2
  validation: { per_class: 8 }
model: { backbone: mlp, hidden: [16] }
method:
${method}
plugins:
  - name: nmc
training:
  epochs: 2
  batch_size: 16
  lr: 0.01
  optimizer: { name: adam }
output: { dir: ${join(dir, "runs", id)} }
`,
  );
  return file;
}

const quiet = { quiet: true, log: () => {}, handleSignals: false, tracker: new MemoryTracker() } satisfies Partial<RunFromConfigArgs>;

describe("plugins of retraining learners resume with their state", { timeout: 90_000 }, () => {
  it("joint + nmc stopped inside task 2 and resumed ends with the bit-identical matrix", async () => {
    const method = "  name: joint";
    const reference = await runFromConfig({ configFile: config(method), ...quiet });
    const file = config(method);
    // Task 1 is 8 steps (64 images, batch 16, 2 epochs), task 2 is 16 (the union of 128): step 20 is inside task 2,
    // after task 1's NMC means were computed.
    await expect(runFromConfig({ configFile: file, ...quiet, stopAfterSteps: 20 })).rejects.toBeInstanceOf(TrainingInterrupted);
    const exp = join(dir, "runs", file.replace(/.*\/(c\d+)\.yaml$/, "$1"), "retrain");
    const runDir = join(exp, readdirSync(exp)[0] as string);
    const manifest = JSON.parse(readFileSync(join(runDir, "checkpoint", "manifest.json"), "utf8")) as { position: { task: number; complete: boolean } };
    expect(manifest.position).toEqual({ task: 1, complete: false });
    const resumed = await runFromConfig({ configFile: join(runDir, "config.yaml"), ...quiet, resume: runDir });
    expect(resumed.result.matrix).toEqual(reference.result.matrix);
  });
});
