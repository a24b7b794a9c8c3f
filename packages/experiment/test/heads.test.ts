/**
 * Heads, SimpleCIL and ER's buffer through the registry, on a small synthetic stream: the `nmc`
 * plugin leaves ER's buffer bit-identical and replaces the scores with nearest-prototype ones;
 * `method.buffer: class_balanced` keeps the classes balanced; `simplecil` runs; components that
 * both replace the scores are a config error naming both.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, describe, expect, it } from "vitest";
import { ConfigError, MemoryTracker, range, type Learner, type ModelHandle, type Plugin } from "@mnemo/core";
import { imagesToTensor } from "@mnemo/core/tf";
import { buildExperiment, experimentConfig, runBuiltExperiment, type BuiltExperiment } from "@mnemo/experiment";
import type { NmcHeadPlugin } from "@mnemo/prototypes/plugins";
import type { ExperienceReplayPlugin } from "@mnemo/replay/plugins";

const out = mkdtempSync(join(tmpdir(), "mnemo-heads-"));
afterAll(() => rmSync(out, { recursive: true, force: true }));

function config(method: Record<string, unknown>, plugins: Record<string, unknown>[] = [], seed = 4) {
  return experimentConfig({
    name: "heads",
    seed,
    backend: "wasm",
    stream: {
      kind: "class-incremental",
      dataset: { name: "synthetic-blobs", num_classes: 6, dim: 8, train_per_class: 40, test_per_class: 15 },
      increment: 2,
      order: "dataset",
    },
    model: { backbone: "mlp", hidden: [16] },
    method,
    plugins,
    training: { epochs: 2, batch_size: 16, lr: 0.01, optimizer: { name: "adam" } },
    evaluation: { future_tasks: false },
    output: { dir: out },
  });
}

function plugin<P extends Plugin>(learner: Learner, name: string): P {
  const p = learner.plugins.find((q) => q.name === name);
  if (!p) throw new Error(`no plugin ${name} in ${learner.name}`);
  return p as P;
}

/** Runs a config; `probe` sees the built experiment after every task's evaluation, before the learner is disposed. */
async function run(loaded: ReturnType<typeof config>, probe: (built: BuiltExperiment, task: number) => void | Promise<void> = () => {}) {
  const built = await buildExperiment(loaded, { quiet: true, log: () => {} });
  const outcome = await runBuiltExperiment(built, {
    tracker: new MemoryTracker(),
    handleSignals: false,
    log: () => {},
    observers: [{ onTaskEnd: async ({ taskIndex }) => probe(built, taskIndex) }],
  });
  return outcome.result;
}

/** What ER's buffer holds (every array of its state, its RNG position included), after each task. */
async function bufferHistory(plugins: Record<string, unknown>[], buffer = "reservoir", seed = 4) {
  const states: string[] = [];
  const result = await run(config({ name: "er", memory_size: 20, buffer }, plugins, seed), (built) => {
    const state = plugin<ExperienceReplayPlugin>(built.method.learner, "er").buffer.state();
    states.push(JSON.stringify({ meta: state.meta, arrays: Object.fromEntries(Object.entries(state.arrays).map(([k, v]) => [k, Array.from(v as ArrayLike<number>)])) }));
  });
  return { states, result };
}

describe("plugins compose without touching ER's buffer", () => {
  for (const buffer of ["reservoir", "class_balanced"]) {
    it(`adding nmc leaves the ${buffer} buffer bit-identical after every task, and changes the scores`, async () => {
      const plain = await bufferHistory([], buffer);
      const withNmc = await bufferHistory([{ name: "nmc", preset: "pycil" }], buffer);
      expect(plain.states).toHaveLength(3);
      expect(withNmc.states).toEqual(plain.states);
      // Same training, different head: the accuracy matrices differ (nearest-prototype scores are used).
      expect(withNmc.result.matrix).not.toEqual(plain.result.matrix);
    });
  }

  it("a different seed does change the buffer (the comparison above can fail)", async () => {
    const a = await bufferHistory([]);
    const b = await bufferHistory([], "reservoir", 5);
    expect(b.states).not.toEqual(a.states);
  });
});

describe("nmc: the scores come from the class means", () => {
  it("on ER, predictions are the nearest prototype's class, the means cover every class seen and use the buffer", async () => {
    const checked: number[] = [];
    let differFromLogits = 0;
    await run(config({ name: "er", memory_size: 30 }, [{ name: "nmc", preset: "simple_baseline" }]), async (built, task) => {
      const learner = built.method.learner as Learner & { model: ModelHandle };
      const head = plugin<NmcHeadPlugin>(learner, "nmc");
      expect(head.hasExemplars).toBe(true);
      const seen = built.stream.taskClasses.slice(0, task + 1).flat().sort((a, b) => a - b);
      expect(head.classifier.classes().sort((a, b) => a - b)).toEqual(seen);
      for (let j = 0; j <= task; j++) {
        const test = await built.stream.testSet(j);
        const x = imagesToTensor(test, range(0, test.count), built.stream.normalization);
        const predicted = Array.from(learner.predict(x).dataSync());
        const m = learner.model;
        const { features, logits } = m.backbone.apply(m.params, x, { training: false, state: m.state });
        const { classes, scores } = head.classifier.scores({ data: features.dataSync() as Float32Array, rows: test.count, cols: features.shape[1] });
        const nearest = Array.from(range(0, test.count), (i) => classes[scores.getRow(i).indexOf(Math.max(...scores.getRow(i)))]);
        const argmax = Array.from(logits.argMax(1).dataSync());
        tf.dispose([x, features, logits]);
        expect(predicted).toEqual(nearest);
        differFromLogits += argmax.filter((c, i) => c !== predicted[i]).length;
      }
      checked.push(task);
    });
    expect(checked).toEqual([0, 1, 2]);
    expect(differFromLogits).toBeGreaterThan(0); // the comparison above would notice logits being used
  });

  it("on finetune it has no stored samples and still classifies every class seen", async () => {
    const result = await run(config({ name: "finetune" }, [{ name: "nmc" }]), (built) => {
      expect(plugin<NmcHeadPlugin>(built.method.learner, "nmc").hasExemplars).toBe(false);
    });
    // Fine-tuning's linear head forgets task 0 entirely here; the old means keep part of it.
    expect(result.matrix[2]![0]).toBeGreaterThan(0);
  });
});

describe("method.buffer: class_balanced", () => {
  it("holds M split evenly over the classes seen after every task", async () => {
    const counts: number[][] = [];
    await run(config({ name: "er", memory_size: 30, buffer: "class_balanced" }), (built) => {
      const labels = plugin<ExperienceReplayPlugin>(built.method.learner, "er").stored().labels;
      const h = [0, 0, 0, 0, 0, 0];
      for (const y of labels) h[y]! += 1;
      counts.push(h);
    });
    expect(counts).toEqual([
      [15, 15, 0, 0, 0, 0],
      [8, 8, 7, 7, 0, 0],
      [5, 5, 5, 5, 5, 5],
    ]);
  });

  it("an unknown buffer is a config error at method.buffer", async () => {
    const err = (() => {
      try {
        config({ name: "er", memory_size: 30, buffer: "ring" });
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).path).toBe("method.buffer");
  });
});

describe("simplecil", () => {
  it("learns every class from means alone (adapt: none); adding classes only adds competitors to the old ones", async () => {
    const result = await run(config({ name: "simplecil", adapt: "none" }));
    const last = result.matrix[2] as number[];
    expect(Math.min(...last)).toBeGreaterThan(60); // 6 blobs, chance 16.7 %
    // Old tasks' accuracy moves only because new classes compete, never because their means change.
    expect(result.matrix[1]![0]).toBeGreaterThanOrEqual(result.matrix[2]![0]!);
  });

  it("rejects a domain-incremental stream at method.name", async () => {
    const loaded = experimentConfig({
      name: "heads",
      backend: "wasm",
      stream: { kind: "domain-incremental", dataset: { name: "synthetic-blobs", num_classes: 3, dim: 8, train_per_class: 10, test_per_class: 5 }, transform: { type: "permuted", tasks: 2 } },
      model: { backbone: "mlp", hidden: [8], head: "fixed" },
      method: { name: "simplecil" },
      output: { dir: out },
    });
    await expect(buildExperiment(loaded, { quiet: true, log: () => {} })).rejects.toThrow(/method\.name: simplecil .*class-incremental/);
  });
});

describe("components that both replace the scores are a config error naming both", () => {
  const icarl = { name: "icarl", memory: { policy: "fixed-total", total: 30 } };
  async function error(method: Record<string, unknown>, plugins: Record<string, unknown>[]): Promise<ConfigError> {
    try {
      await buildExperiment(config(method, plugins), { quiet: true, log: () => {} });
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      return err as ConfigError;
    }
    throw new Error("expected a ConfigError");
  }

  it("nmc on icarl (whose classifier is already NMC)", async () => {
    const err = await error(icarl, [{ name: "nmc" }]);
    expect(err.path).toBe("plugins.0.name");
    expect(err.message).toMatch(/method \(icarl\) and plugins\[0\] \(nmc\) both replace the class scores/);
  });

  it("two nmc heads", async () => {
    const err = await error({ name: "er", memory_size: 20 }, [{ name: "nmc" }, { name: "nmc", preset: "icarl" }]);
    expect(err.path).toBe("plugins.1.name");
    expect(err.message).toMatch(/plugins\[0\] \(nmc\) and plugins\[1\] \(nmc\) both replace the class scores/);
  });

  it("nmc on icarl with its trained head (classifier: cnn) composes; on simplecil, which takes no plugins, it does not", async () => {
    const built = await buildExperiment(config({ ...icarl, classifier: "cnn" }, [{ name: "nmc" }]), { quiet: true, log: () => {} });
    expect(built.method.learner.plugins.map((p) => p.name)).toEqual(["icarl", "nmc"]);
    built.method.learner.dispose();
    const err = await error({ name: "simplecil" }, [{ name: "nmc" }]);
    expect(err.path).toBe("plugins");
  });
});
