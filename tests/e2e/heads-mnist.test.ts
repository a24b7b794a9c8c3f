/**
 * Heads, SimpleCIL and ER's buffer on real Split-MNIST (5 × 2 digits, 2 × 400 MLP), built from the
 * configs in configs/ through the library exactly as `mnemo run` builds them:
 * - `cil-mnist-simplecil.yaml`: class means of a frozen backbone, far above chance (10 %);
 * - `cil-mnist-er-nmc.yaml`: ER's predictions are the nearest class mean's, means for every class seen;
 * - `cil-mnist-er-classbalanced.yaml`: the buffer splits its 500 slots evenly over the digits seen;
 * - nmc on iCaRL (already an NMC classifier) or twice is a config error naming both components.
 * Gradient runs are capped at 40 optimizer steps per task (as split-mnist-methods.test.ts) and
 * evaluate only the tasks seen; configs/README.md has the uncapped numbers. About 4 min in all on the
 * shared 2-core box (simplecil 45 s, ER + nmc 2 min, class-balanced ER 1.5 min).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, MemoryTracker, range, type Learner, type ModelHandle } from "@mnemo/core";
import { imagesToTensor } from "@mnemo/core/tf";
import { selectBackend } from "@mnemo/runtime";
import { buildExperiment, loadExperimentConfig, runBuiltExperiment, type BuiltExperiment } from "@mnemo/experiment";
import type { NmcHeadPlugin } from "@mnemo/prototypes/plugins";
import type { ExperienceReplayPlugin } from "@mnemo/replay/plugins";

const root = resolve(import.meta.dirname, "../..");
const CAP = ["training.max_steps_per_task=40", "evaluation.future_tasks=false"];
let out: string;

beforeAll(async () => {
  await selectBackend({ backend: "wasm" });
  out = mkdtempSync(join(tmpdir(), "mnemo-heads-mnist-"));
});
afterAll(() => rmSync(out, { recursive: true, force: true }));

async function build(config: string, overrides: string[] = []): Promise<BuiltExperiment> {
  const loaded = loadExperimentConfig(join(root, "configs", config), { overrides: [`output.dir=${join(out, "runs")}`, ...overrides] });
  return buildExperiment(loaded, { quiet: true, log: () => {} });
}

/** Runs a built experiment; `probe` runs after each task's evaluation, while the learner is alive. Returns the final row. */
async function run(built: BuiltExperiment, probe: (task: number) => void | Promise<void> = () => {}): Promise<number[]> {
  const { result } = await runBuiltExperiment(built, {
    tracker: new MemoryTracker(),
    handleSignals: false,
    log: () => {},
    observers: [{ onTaskEnd: async ({ taskIndex }) => probe(taskIndex) }],
  });
  const last = result.matrix[result.matrix.length - 1] as number[];
  process.stderr.write(`${built.config.name}: final row ${last.map((v) => v.toFixed(1)).join(" ")}\n`);
  return last;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

describe("heads and buffers on Split-MNIST (real MNIST)", () => {
  it("simplecil: class means of a frozen backbone classify all ten digits far above chance", async () => {
    const last = await run(await build("cil-mnist-simplecil.yaml", CAP));
    expect(mean(last)).toBeGreaterThan(70); // chance: 10 %
    expect(Math.min(...last)).toBeGreaterThan(40); // every task, not only the last one
  });

  it("ER + nmc: predictions are the nearest class mean's, for every digit seen", { timeout: 400_000 }, async () => {
    const built = await build("cil-mnist-er-nmc.yaml", CAP);
    const learner = built.method.learner as Learner & { model: ModelHandle };
    const head = learner.plugins.find((p) => p.name === "nmc") as NmcHeadPlugin;
    expect(head.hasExemplars).toBe(true); // old digits' means come from ER's buffer
    let differ = 0;
    const last = await run(built, async (task) => {
      expect(head.classifier.classes().length).toBe(2 * (task + 1));
      const test = await built.stream.testSet(0);
      const x = imagesToTensor(test, range(0, 500), built.stream.normalization);
      const predicted = Array.from(learner.predict(x).dataSync());
      const m = learner.model;
      const { features, logits } = m.backbone.apply(m.params, x, { training: false, state: m.state });
      const { classes, scores } = head.classifier.scores({ data: features.dataSync() as Float32Array, rows: 500, cols: features.shape[1] });
      const nearest = Array.from(range(0, 500), (i) => classes[scores.getRow(i).indexOf(Math.max(...scores.getRow(i)))]);
      const argmax = Array.from(logits.argMax(1).dataSync());
      tf.dispose([x, features, logits]);
      expect(predicted).toEqual(nearest);
      differ += argmax.filter((c, i) => c !== predicted[i]).length;
    });
    expect(differ).toBeGreaterThan(0); // the logits would have given other answers
    expect(mean(last)).toBeGreaterThan(70);
  });

  it("ER with buffer: class_balanced holds 500 samples split evenly over the digits seen", { timeout: 400_000 }, async () => {
    const built = await build("cil-mnist-er-classbalanced.yaml", CAP);
    const er = built.method.learner.plugins.find((p) => p.name === "er") as ExperienceReplayPlugin;
    const counts: number[][] = [];
    const last = await run(built, () => {
      const h = new Array<number>(10).fill(0);
      for (const y of er.stored().labels) h[y]! += 1;
      counts.push(h.filter((n) => n > 0));
    });
    expect(counts).toEqual([
      [250, 250],
      [125, 125, 125, 125],
      [84, 84, 83, 83, 83, 83], // 500 = 6 × 83 + 2: the first two digits seen get one more
      [63, 63, 63, 63, 62, 62, 62, 62],
      [50, 50, 50, 50, 50, 50, 50, 50, 50, 50],
    ]);
    expect(mean(last)).toBeGreaterThan(70);
  });

  it("nmc on iCaRL (already nearest-mean-of-exemplars) or nmc twice is a config error naming both", async () => {
    const onIcarl = await build("cil-mnist-icarl.yaml", ["plugins=[{name: nmc}]"]).catch((e: unknown) => e);
    expect(onIcarl).toBeInstanceOf(ConfigError);
    expect((onIcarl as ConfigError).message).toMatch(/plugins\.0\.name: method \(icarl\) and plugins\[0\] \(nmc\) both replace the class scores; keep one of them/);
    const twice = await build("cil-mnist-er-nmc.yaml", ["plugins=[{name: nmc}, {name: nmc, preset: icarl}]"]).catch((e: unknown) => e);
    expect(twice).toBeInstanceOf(ConfigError);
    expect((twice as ConfigError).message).toMatch(/plugins\.1\.name: plugins\[0\] \(nmc\) and plugins\[1\] \(nmc\) both replace the class scores/);
  });
});
