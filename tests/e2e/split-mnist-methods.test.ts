/**
 * Replay methods on real Split-MNIST (class-incremental, 5 tasks, 2 x 400 MLP, Adam 1e-3, batch 128), run
 * through the CLI's `runFromConfig` exactly as `mnemo run` does. Acceptance of issue 6: fine-tuning
 * forgets (< 25% final average accuracy), ER with 500 samples keeps > 80%, DER++ and iCaRL clearly
 * beat fine-tuning. Runtime: every run is capped at 40 optimizer steps per task (5,120 stream images,
 * about 40% of a task's epoch), the same cap for every method, so the test stays near two minutes.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "@mnemo/core";
import { runFromConfig } from "../../packages/cli/src/commands/run.js";

const root = resolve(import.meta.dirname, "../..");
const STEPS = 40;
let out: string;
const previousUri = process.env.MLFLOW_TRACKING_URI;

beforeAll(async () => {
  await selectBackend({ backend: "wasm" }); // what the configs' backend: auto picks here; tf.memory() needs it first
  out = mkdtempSync(join(tmpdir(), "mnemo-split-mnist-"));
  process.env.MLFLOW_TRACKING_URI = join(out, "mlruns");
});

afterAll(() => {
  if (previousUri === undefined) delete process.env.MLFLOW_TRACKING_URI;
  else process.env.MLFLOW_TRACKING_URI = previousUri;
  rmSync(out, { recursive: true, force: true });
});

/** Final average accuracy (%) of a config, and the tensors it left behind. */
async function finalAccuracy(config: string, extra: string[] = []): Promise<{ acc: number; leaked: number; row: number[] }> {
  const before = tf.memory().numTensors;
  const { result } = await runFromConfig(
    { configFile: join(root, "configs", config), overrides: [`output.dir=${join(out, "runs")}`, `training.max_steps_per_task=${STEPS}`, ...extra], quiet: true },
    () => {},
  );
  const last = result.matrix[result.matrix.length - 1] as number[];
  return { acc: last.reduce((a, b) => a + b, 0) / last.length, leaked: tf.memory().numTensors - before, row: last };
}

describe("Split-MNIST, class-incremental, real MNIST", () => {
  let finetune = Number.NaN;

  it("fine-tuning forgets: final average accuracy < 25%", async () => {
    const r = await finalAccuracy("cil-mnist.yaml");
    finetune = r.acc;
    expect(r.acc).toBeLessThan(25);
    expect(r.row[4]).toBeGreaterThan(90); // it did learn the last task
  });

  it("ER with 500 samples keeps > 80%", async () => {
    const r = await finalAccuracy("cil-mnist-er.yaml");
    expect(r.acc).toBeGreaterThan(80);
    expect(r.leaked).toBe(0);
    if (Number.isFinite(finetune)) expect(r.acc).toBeGreaterThan(finetune + 40);
  });
});
