import { cpSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { ConfigError } from "@mnemo/core";
import { describe, expect, it } from "vitest";
import { canonicalJson, planSweep, trialId } from "../src/index.js";

const root = resolve(import.meta.dirname, "../../..");

function sweepFile(body: string): string {
  const work = mkdtempSync(join(tmpdir(), "mnemo-plan-"));
  cpSync(join(root, "configs/cil-synthetic.yaml"), join(work, "base.yaml"));
  const file = join(work, "sweep.yaml");
  writeFileSync(file, body);
  return file;
}

async function planError(body: string): Promise<ConfigError> {
  const file = sweepFile(body);
  const err = await planSweep(file).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ConfigError);
  return err as ConfigError;
}

describe("trial ids", () => {
  it("are the same for configs that differ in key order, number spelling or result-neutral keys", () => {
    const a = { name: "x", training: { lr: 0.001, epochs: 1 }, seed: 0, output: { dir: "a" }, threads: 2 };
    const b = { seed: 0, threads: "auto", training: { epochs: 1.0, lr: 1e-3 }, name: "x", checkpoint: { every_steps: 5 }, output: { dir: "b" } };
    expect(trialId(a)).toBe(trialId(b));
    expect(trialId(a)).toMatch(/^[0-9a-f]{16}$/);
    expect(trialId({ ...a, seed: 1 })).not.toBe(trialId(a));
    expect(trialId({ ...a, training: { lr: 0.002, epochs: 1 } })).not.toBe(trialId(a));
    expect(canonicalJson({ b: [-0, { d: 1, c: 2 }], a: undefined })).toBe('{"b":[0,{"c":2,"d":1}]}');
  });
});

describe("planSweep", () => {
  it("keeps the shipped sweep files working, with stable ids", async () => {
    const lr = await planSweep(join(root, "configs/sweeps/cil-mnist-lr.yaml"), { cwd: "/tmp/x" });
    expect(lr.trials).toHaveLength(6);
    expect(lr.dir).toBe("/tmp/x/runs/sweeps/cil-mnist-lr");
    expect(lr.keys).toEqual(["training.lr"]);
    expect(lr.trials.map((t) => [t.point["training.lr"], t.seed])).toEqual([
      [0.001, 0],
      [0.001, 1],
      [0.001, 2],
      [0.0003, 0],
      [0.0003, 1],
      [0.0003, 2],
    ]);
    expect(lr.trials[0]!.config.model).toMatchObject({ hidden: [100] });
    // The id is a function of the resolved config: planning again (or elsewhere) gives the same ids.
    const again = await planSweep(join(root, "configs/sweeps/cil-mnist-lr.yaml"), { dir: "/elsewhere" });
    expect(again.trials.map((t) => t.id)).toEqual(lr.trials.map((t) => t.id));
    expect(new Set(lr.trials.map((t) => t.id)).size).toBe(6);
    const derpp = await planSweep(join(root, "configs/sweeps/cil-mnist-derpp-alpha.yaml"));
    expect(derpp.trials).toHaveLength(12);
  });

  it("expands grid × list × random, then exclude, then include; seeds as a count", async () => {
    const file = sweepFile(`name: axes
base: base.yaml
seeds: 2
grid:
  training.lr: [0.001, 0.01]
list:
  training.batch_size: [8, 16]
  model.hidden: [[32], [64]]
random:
  samples: 3
  seed: 7
  params:
    training.warmup_epochs: { uniform: [0.5, 0.9] }
    training.max_steps_per_task: { choice: [5, 7] }
    training.optimizer.weight_decay: { log_uniform: [0.00001, 0.01] }
    training.epochs: { int: [1, 3] }
exclude:
  - { training.lr: 0.01, training.batch_size: 16 }
include:
  - { training.lr: 0.1 }
`);
    const plan = await planSweep(file);
    // 2 × 2 × 3 = 12 points, minus the 3 with lr 0.01 and batch 16, plus one.
    expect(plan.points).toHaveLength(10);
    expect(plan.trials).toHaveLength(20);
    expect(plan.seeds).toEqual([0, 1]);
    expect(plan.keys).toEqual(["training.lr", "training.batch_size", "model.hidden", "training.warmup_epochs", "training.max_steps_per_task", "training.optimizer.weight_decay", "training.epochs"]);
    const sampled = plan.points.slice(0, 3);
    for (const p of sampled) {
      expect(p["training.warmup_epochs"]).toBeGreaterThanOrEqual(0.5);
      expect(p["training.warmup_epochs"]).toBeLessThanOrEqual(0.9);
      expect(p["training.optimizer.weight_decay"]).toBeGreaterThanOrEqual(0.00001);
      expect(p["training.optimizer.weight_decay"]).toBeLessThanOrEqual(0.01);
      expect([5, 7]).toContain(p["training.max_steps_per_task"]);
      expect([1, 2, 3]).toContain(p["training.epochs"]);
    }
    // The same three draws for every grid × list combination, and the same on every plan (seeded).
    expect(plan.points.slice(3, 6).map((p) => p["training.warmup_epochs"])).toEqual(sampled.map((p) => p["training.warmup_epochs"]));
    expect((await planSweep(file)).points).toEqual(plan.points);
    expect(plan.points.some((p) => p["training.lr"] === 0.01 && p["training.batch_size"] === 16)).toBe(false);
    expect(plan.points.at(-1)).toEqual({ "training.lr": 0.1 });
    const t = plan.trials.find((x) => x.point["training.lr"] === 0.001 && x.seed === 1)!;
    expect(t.config.training).toMatchObject({ lr: 0.001, batch_size: 8 });
    expect(t.config.model).toMatchObject({ hidden: [32] });
    expect(t.config.seed).toBe(1);
  });

  it("locates errors in the sweep file: a bad value, an unknown key, mismatched lists, a seed axis, an exclude that matches nothing", async () => {
    let e = await planError(`name: bad\nbase: base.yaml\ngrid:\n  training.lr: [0.001, -1]\n`);
    expect(e.message).toMatch(/sweep\.yaml:4 grid\.training\.lr\.1: expected a positive number/);
    e = await planError(`name: bad\nbase: base.yaml\nseeds: [0]\ngrid:\n  training.lrr: [0.1]\n`);
    expect(e.message).toMatch(/sweep\.yaml:5 grid\.training\.lrr\.0: .*unknown key/);
    e = await planError(`name: bad\nbase: base.yaml\nlist:\n  training.lr: [0.1, 0.2]\n  training.batch_size: [8]\n`);
    expect(e.message).toMatch(/sweep\.yaml:5 list\.training\.batch_size: has 1 values, training\.lr has 2/);
    e = await planError(`name: bad\nbase: base.yaml\ngrid:\n  seed: [0, 1]\n`);
    expect(e.message).toMatch(/sweep\.yaml:4 grid\.seed: .*seeds:/);
    e = await planError(`name: bad\nbase: base.yaml\ngrid:\n  training.lr: [0.1, 0.2]\nexclude:\n  - { training.lr: 0.3 }\n`);
    expect(e.message).toMatch(/sweep\.yaml:6 exclude\.0: matches no point/);
    e = await planError(`name: bad\nbase: base.yaml\ngrid:\n  output.dir: [a, b]\n`);
    expect(e.message).toMatch(/sweep\.yaml:4 grid\.output\.dir\.1: .*same config/);
    e = await planError(`name: bad\nbase: base.yaml\nseeds: 3\ngrid:\n  training.lr: [0.1, 0.2]\nmax_runs: 5\n`);
    expect(e.message).toMatch(/sweep\.yaml:6 max_runs: 2 points × 3 seeds = 6 trials exceed max_runs \(5\)/);
    e = await planError(`name: bad\nbase: base.yaml\nrandom:\n  samples: 2\n  params:\n    training.lr: { log_uniform: [0, 1] }\n`);
    expect(e.message).toMatch(/sweep\.yaml:6 random\.params\.training\.lr/);
  });
});
