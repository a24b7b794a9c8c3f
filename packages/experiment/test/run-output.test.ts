/**
 * What a run prints and records for a newcomer (issue 13, item 7): the MLflow experiment and run
 * id in the header, one naming scheme for per-task metrics, task numbering as in the table, the
 * progress bar ending at 100%, and no bulky checkpoint left behind by a finished run.
 */
import { existsSync, mkdtempSync, readdirSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { taskLabel } from "@mnemo/core";
import { imagesInSteps } from "@mnemo/models";
import { consoleReporter, runFromConfig } from "@mnemo/experiment";

const config = resolve(import.meta.dirname, "../../../configs/cil-synthetic.yaml");

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => (statSync(join(dir, n)).isDirectory() ? files(join(dir, n)) : [join(dir, n)]));
}

describe("a finished run", () => {
  it("prints where MLflow has it, names per-task metrics <metric>_task<i> and keeps no checkpoint", async () => {
    const work = mkdtempSync(join(tmpdir(), "mnemo-run-output-"));
    const mlruns = join(work, "mlruns");
    const previous = process.env.MLFLOW_TRACKING_URI;
    process.env.MLFLOW_TRACKING_URI = mlruns;
    const lines: string[] = [];
    let progress = "";
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string | Uint8Array) => {
      progress += String(chunk);
      return true;
    }) as typeof process.stderr.write;
    try {
      const { runDir } = await runFromConfig({
        configFile: config,
        overrides: [`output.dir=${join(work, "runs")}`, "training.epochs=1"],
        quiet: false,
        log: () => {},
        handleSignals: false,
        observers: [consoleReporter((l) => lines.push(l))],
      });
      expect(existsSync(join(runDir, "checkpoint"))).toBe(false);
      expect(existsSync(join(runDir, "accuracy_matrix.json"))).toBe(true);
    } finally {
      process.stderr.write = write;
      if (previous === undefined) delete process.env.MLFLOW_TRACKING_URI;
      else process.env.MLFLOW_TRACKING_URI = previous;
    }
    // Progress lines name tasks as the table does and end at 100% of the images actually seen.
    for (const t of [0, 1, 2]) {
      const last = progress.split("\n").filter((l) => l.startsWith(`task ${t} (${t + 1} of 3) `)).at(-1) ?? "";
      expect(last, progress).toMatch(/ 100% (\d+)\/\1 /);
      expect(last).not.toContain("NaN");
    }
    const header = lines.find((l) => l.startsWith("MLflow: ")) ?? "";
    const m = /^MLflow: experiment "cil-synthetic" \(id (\w+)\), run (\w+) at (.+)$/.exec(header);
    expect(m, lines.join("\n")).not.toBeNull();
    const [, experimentId, runId, uri] = m as unknown as [string, string, string, string];
    expect(uri).toBe(mlruns);
    const runPath = join(mlruns, experimentId, runId);
    expect(existsSync(join(runPath, "meta.yaml"))).toBe(true);

    const keys = files(join(runPath, "metrics")).map((f) => relative(join(runPath, "metrics"), f));
    expect(keys).toEqual(expect.arrayContaining(["accuracy_task0", "train_seconds_task2", "train_images_per_sec_task1", "forgetting_task0"]));
    // One scheme, <metric>_task<i>: no `task0_...` prefix names, no `accuracy/task_0` beside it.
    for (const k of keys.filter((k) => /task\d|task_\d/.test(k))) expect(k).toMatch(/^[a-z_]+_task\d+$/);
  });
});

describe("numbering and progress", () => {
  it("names a task by its index, as the table does, with its position beside it", () => {
    expect(taskLabel(0, 5)).toBe("task 0 (1 of 5)");
    expect(taskLabel(4, 5)).toBe("task 4 (5 of 5)");
  });

  it("counts the short last batch of each epoch, so the bar's total is the images it will see", () => {
    // 100 images in batches of 32: 4 steps per epoch of 32, 32, 32 and 4 images.
    expect(imagesInSteps(4, 100, 32)).toBe(100);
    expect(imagesInSteps(8, 100, 32)).toBe(200);
    expect(imagesInSteps(5, 100, 32)).toBe(132);
    expect(imagesInSteps(3, 100, 32)).toBe(96);
  });
});
