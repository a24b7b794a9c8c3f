/**
 * `plugins: [self_training]` through the config: composition errors at their keys (naming both),
 * a hostile plugin that tries to read the hidden labels of `task.unlabelled` gets nothing, pseudo-
 * labels enter ER's buffer only with `admit_pseudo_labels: true`, the calibration and precision
 * metrics land in metrics.json, and a run stopped mid-task resumes bit-identically.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ConfigError, MemoryTracker, TrainingInterrupted, type Plugin, type Task, type TaskStream } from "@mnemo/core";
import { unlabelledTruth } from "@mnemo/data";
import type { ExperienceReplayPlugin } from "@mnemo/replay/plugins";
import type { SelfTrainingPlugin } from "@mnemo/selftraining";
import { z } from "zod";
import { buildExperiment, defaultRegistry, definePlugin, experimentConfig, runBuiltExperiment, runFromConfig, type RunFromConfigArgs } from "@mnemo/experiment";

const dir = mkdtempSync(join(tmpdir(), "mnemo-selftraining-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

const SELF_TRAINING = "  - name: self_training\n    warmup_epochs: 2\n    round_epochs: 1\n    max_rounds: 2\n    heads: 3";

/** A 2-task synthetic stream with 3 labels per class (~29 unlabelled per class); YAML pieces replaceable. */
function config(options: { method?: string; plugins?: string; labels?: boolean; epochs?: number } = {}): string {
  const id = `c${n++}`;
  const file = join(dir, `${id}.yaml`);
  writeFileSync(
    file,
    `name: st
seed: 2
stream:
  kind: class-incremental
  dataset: { name: synthetic-blobs, num_classes: 4, dim: 8, train_per_class: 40, test_per_class: 15, noise: 25 }
  increment: 2
  order: dataset
  validation: { per_class: 5 }
${options.labels === false ? "" : "  labels: { per_class: 3 }\n"}model: { backbone: mlp, hidden: [16] }
method:
${options.method ?? "  name: finetune"}
plugins:
${options.plugins ?? SELF_TRAINING}
training:
  epochs: ${options.epochs ?? 4}
  batch_size: 4
  lr: 0.03
  optimizer: { name: adam }
evaluation: { future_tasks: false }
output: { dir: ${join(dir, "runs", id)} }
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

function onlyRun(file: string): string {
  const exp = join(file.replace(/\.yaml$/, "").replace(/(c\d+)$/, "runs/$1"), "st");
  const runs = readdirSync(exp);
  expect(runs).toHaveLength(1);
  return join(exp, runs[0] as string);
}

const perStep = (d: string): Record<string, number>[] => (JSON.parse(readFileSync(join(d, "metrics.json"), "utf8")) as { perStep: Record<string, number>[] }).perStep;

describe("self_training: config errors at their keys", { timeout: 60_000 }, () => {
  it("a stream without labels: says which key to add", async () => {
    const err = await configError(config({ labels: false }));
    expect(err.path).toBe("plugins.0.name");
    expect(err.message).toContain("add stream.labels: { fraction: 0.01 }");
  });

  it("warm-up as long as training: an error naming both keys", async () => {
    const err = await configError(config({ epochs: 2 }));
    expect(err.path).toBe("plugins.0.warmup_epochs");
    expect(err.message).toContain("plugins.0.warmup_epochs (2) and training.epochs (2)");
  });

  it("admit_pseudo_labels with a method that has no buffer: an error naming method.name and the key", async () => {
    const err = await configError(config({ plugins: `${SELF_TRAINING}\n    admit_pseudo_labels: true` }));
    expect(err.path).toBe("plugins.0.admit_pseudo_labels");
    expect(err.message).toContain('method.name "finetune" and plugins.0.admit_pseudo_labels: true cannot be combined');
  });

});

/** Every object reachable from `root` (own properties, prototypes, getters' values, Map/Set entries). */
function reachable(root: unknown): unknown[] {
  const seen = new Set<unknown>();
  const stack = [root];
  while (stack.length) {
    const v = stack.pop();
    if (v === null || (typeof v !== "object" && typeof v !== "function") || seen.has(v)) continue;
    seen.add(v);
    if (ArrayBuffer.isView(v)) continue;
    stack.push(Object.getPrototypeOf(v));
    for (const key of Reflect.ownKeys(v as object)) {
      if (key === "caller" || key === "callee" || key === "arguments") continue;
      let child: unknown;
      try {
        child = Reflect.get(v as object, key);
      } catch {
        continue;
      }
      if (child instanceof Map || child instanceof Set) for (const e of (child as Map<unknown, unknown>).entries()) stack.push(e);
      stack.push(child);
    }
  }
  return [...seen];
}

describe("the hidden labels of task.unlabelled", { timeout: 60_000 }, () => {
  it("a hostile plugin reading them from the task, its build context or the learner's context gets nothing", async () => {
    const attempts: { where: string; got: unknown }[] = [];
    const seenStreams: TaskStream[] = [];
    const seenTasks: Task[] = [];
    const registry = defaultRegistry.clone().registerPlugin(
      definePlugin({
        name: "hostile",
        description: "tries to read the unlabelled images' labels",
        schema: z.strictObject({ name: z.literal("hostile") }),
        build(_config, context): Plugin {
          seenStreams.push(context.stream);
          const tryTruth = (where: string, stream: TaskStream, index: number) => {
            try {
              attempts.push({ where, got: unlabelledTruth(stream, index) });
            } catch (err) {
              attempts.push({ where, got: err instanceof Error ? err.constructor.name : "?" });
            }
          };
          return {
            name: "hostile",
            onTaskStart({ task, context: run }) {
              seenTasks.push(task);
              seenStreams.push(run.stream);
              const u = task.unlabelled as unknown as Record<string, unknown>;
              attempts.push({ where: "task.unlabelled.labels", got: u.labels });
              tryTruth("build context.stream", context.stream, task.index);
              tryTruth("run context.stream", run.stream, task.index);
              const proto = Object.getPrototypeOf(run.stream) as TaskStream | null;
              if (proto && proto !== Object.prototype) tryTruth("prototype of context.stream", proto, task.index);
            },
          };
        },
      }),
    );
    const loaded = experimentConfig(
      {
        name: "hostile",
        seed: 1,
        stream: {
          kind: "class-incremental",
          dataset: { name: "synthetic-blobs", num_classes: 4, dim: 8, train_per_class: 30, test_per_class: 5 },
          increment: 2,
          order: "dataset",
          labels: { per_class: 2, selection: "ssb" },
        },
        model: { backbone: "mlp", hidden: [8] },
        method: { name: "finetune" },
        plugins: [{ name: "hostile" }],
        training: { epochs: 1, batch_size: 4, lr: 0.01, optimizer: { name: "adam" } },
        evaluation: { future_tasks: false },
        output: { dir: join(dir, "runs", "hostile") },
      },
      { registry },
    );
    const built = await buildExperiment(loaded, { quiet: true, log: () => {}, registry });
    await runBuiltExperiment(built, { tracker: new MemoryTracker(), handleSignals: false, log: () => {} });
    // The evaluation side can read them (so the attempts below could have succeeded).
    const truths = [0, 1].map((t) => unlabelledTruth(built.stream, t));
    expect(truths.map((t) => t.length)).toEqual([56, 56]);
    expect(attempts.map((a) => a.where)).toEqual(Array.from({ length: 2 }, () => ["task.unlabelled.labels", "build context.stream", "run context.stream"]).flat());
    for (const a of attempts) expect(a.got === undefined || a.got === "RangeError").toBe(true);
    // Nothing reachable from what the plugin was given is the hidden labels' array (or its buffer).
    const found = reachable({ seenStreams, seenTasks }).filter((v) => truths.some((t) => v === t || (v instanceof Int32Array && v.buffer === t.buffer)));
    expect(found).toEqual([]);
    expect(seenStreams.every((s) => s !== built.stream)).toBe(true);
  });
});

describe("self_training in a run", { timeout: 300_000 }, () => {
  it("pseudo-labels enter ER's buffer only with admit_pseudo_labels: true", async () => {
    const stored = async (admit: boolean) => {
      const loaded = experimentConfig({
        name: "st",
        seed: 2,
        stream: {
          kind: "class-incremental",
          dataset: { name: "synthetic-blobs", num_classes: 4, dim: 8, train_per_class: 40, test_per_class: 5, noise: 25 },
          increment: 2,
          order: "dataset",
          labels: { per_class: 3 },
        },
        model: { backbone: "mlp", hidden: [16] },
        method: { name: "er", memory_size: 40 },
        plugins: [{ name: "self_training", confidence: "softmax", warmup_epochs: 2, round_epochs: 1, max_rounds: 2, admit_pseudo_labels: admit }],
        training: { epochs: 4, batch_size: 4, lr: 0.03, optimizer: { name: "adam" } },
        evaluation: { future_tasks: false },
        output: { dir: join(dir, "runs", `admit-${admit}`) },
      });
      const built = await buildExperiment(loaded, { quiet: true, log: () => {} });
      const labelled = new Set<string>();
      const foreign: number[] = [];
      await runBuiltExperiment(built, {
        tracker: new MemoryTracker(),
        handleSignals: false,
        log: () => {},
        observers: [
          {
            onTaskEnd: async ({ taskIndex }) => {
              const train = (await built.stream.task(taskIndex)).train;
              const size = train.images.length / train.count;
              for (let i = 0; i < train.count; i++) labelled.add(Buffer.from(train.images.subarray(i * size, (i + 1) * size)).toString("hex"));
              const er = built.method.learner.plugins.find((p) => p.name === "er") as ExperienceReplayPlugin;
              const set = er.stored();
              let k = 0;
              for (let i = 0; i < set.count; i++) if (!labelled.has(Buffer.from(set.images.subarray(i * size, (i + 1) * size)).toString("hex"))) k++;
              foreign.push(k);
            },
          },
        ],
      });
      const st = built.method.learner.plugins.find((p) => p.name === "self-training") as SelfTrainingPlugin;
      return { foreign, rounds: st.rounds.length };
    };
    const off = await stored(false);
    const on = await stored(true);
    // Ground truth only: every stored image is one of the labelled images seen so far.
    expect(off.foreign).toEqual([0, 0]);
    expect(off.rounds).toBe(4);
    // Admitted pseudo-labelled rows are unlabelled images.
    for (const k of on.foreign) expect(k).toBeGreaterThan(0);
  });

  it("metrics.json gets pseudo-label counts, precision and the ECE of both confidences (tsim)", async () => {
    const out = await runFromConfig({ configFile: config(), ...quiet });
    const rows = perStep(out.runDir);
    for (const t of [0, 1]) {
      expect(rows[t]?.st_pseudo_labels).toBeGreaterThan(0);
      expect(rows[t]?.st_pl_precision).toBeGreaterThanOrEqual(0);
      expect(rows[t]?.st_unlabelled_accuracy).toBeGreaterThan(0);
      for (const k of ["st_ece_softmax", "st_ece_tsim"]) {
        expect(rows[t]?.[k]).toBeGreaterThanOrEqual(0);
        expect(rows[t]?.[k]).toBeLessThanOrEqual(1);
      }
    }
    // The softmax confidence has no ensemble, hence no T-similarity ECE.
    const soft = await runFromConfig({ configFile: config({ plugins: `${SELF_TRAINING}\n    confidence: softmax` }), ...quiet });
    expect(perStep(soft.runDir)[0]?.st_ece_tsim).toBeUndefined();
    expect(soft.result.matrix).not.toEqual(out.result.matrix);
  });

  it("policy: msta (per-class transductive-bound thresholds) labels a part of U in each task", async () => {
    const out = await runFromConfig({ configFile: config({ plugins: `${SELF_TRAINING}\n    policy: msta` }), ...quiet });
    const rows = perStep(out.runDir);
    for (const t of [0, 1]) {
      expect(rows[t]?.st_pseudo_labels).toBeGreaterThan(0);
      expect(rows[t]?.st_pl_precision).toBeGreaterThanOrEqual(0);
    }
  });

  it.each([
    ["tsimilarity + curriculum", SELF_TRAINING],
    ["softmax + threshold, EMA teacher, soft labels, mixup", `${SELF_TRAINING}\n    confidence: softmax\n    policy: threshold\n    theta: 0.6\n    teacher: ema\n    ema_alpha: 0.9\n    soft_labels: true\n    mixup_alpha: 1\n    lambda_a: 0.8\n    lambda_h: 0.4`],
    ["with er and admit_pseudo_labels", `${SELF_TRAINING}\n    admit_pseudo_labels: true`],
  ])("%s: stopped mid-task and resumed ends with the bit-identical matrix and metrics", async (label, plugins) => {
    const method = label.includes("er and") ? "  name: er\n  memory_size: 20" : undefined;
    const reference = await runFromConfig({ configFile: config({ plugins, method }), ...quiet });
    const file = config({ plugins, method });
    // 6 labelled images per task at batch 4: 2 steps per epoch, 8 per task; step 13 is in task 1's third epoch (after its first labelling round).
    await expect(runFromConfig({ configFile: file, ...quiet, stopAfterSteps: 13 })).rejects.toBeInstanceOf(TrainingInterrupted);
    const runDir = onlyRun(file);
    const manifest = JSON.parse(readFileSync(join(runDir, "checkpoint", "manifest.json"), "utf8")) as { position: { task: number; complete: boolean } };
    expect(manifest.position).toEqual({ task: 1, complete: false });
    const resumed = await runFromConfig({ configFile: join(runDir, "config.yaml"), ...quiet, resume: runDir });
    expect(resumed.result.matrix).toEqual(reference.result.matrix);
    expect(perStep(runDir)).toEqual(perStep(reference.runDir));
  });
});
