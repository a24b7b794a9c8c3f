import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { type ImageSet, SeededRng, treeKeys } from "@mnemo/core";
import { conv4, decodeState, encodeState, mlp } from "@mnemo/models";
import { adaptOnline, batchNormAffineKeys, cottaAugment, createAdapter, DomainScorer, logitsOf, meanEntropy, type AdapterConfig, type SourceModel, withoutLabels } from "../src/index.js";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

const shape = [8, 8, 1] as const;

function sourceModel(): SourceModel {
  const backbone = mlp({ inputShape: shape, hidden: [16], batchNorm: true });
  const { params, state } = backbone.init(new SeededRng(1).stream("init"), 3);
  return { backbone, params, state, normalization: { mean: [0.5], std: [0.25] } };
}

/** Random images in [0, 1], a fixed seed per call index. */
function batch(i: number, n = 12): tf.Tensor4D {
  const s = new SeededRng(100 + i).stream("x");
  return tf.tensor4d(Float32Array.from({ length: n * 64 }, () => s.next()), [n, ...shape]);
}

const run = (config: AdapterConfig, seed: number, steps: number) => {
  const rng = new SeededRng(seed);
  const adapter = createAdapter(config, sourceModel(), rng.scope(`tta/${config.name}`));
  const logits = Array.from({ length: steps }, (_, i) => Array.from(adapter.step(batch(i)).dataSync()));
  return { adapter, rng, logits };
};

describe("adapters", () => {
  it("CoTTA is bit-reproducible from the seed, and another seed restores other weights", () => {
    const cfg: AdapterConfig = { name: "cotta", threshold: 1.01, augmentations: 2, restore: 0.2 };
    const a = run(cfg, 7, 3).logits;
    expect(run(cfg, 7, 3).logits).toEqual(a);
    expect(run(cfg, 8, 3).logits).not.toEqual(a);
  });

  it.each<AdapterConfig>([{ name: "tent" }, { name: "cotta", threshold: 1.01, augmentations: 2, restore: 0.2 }])("$name continues bit-identically from its saved state (through the checkpoint codec)", (cfg) => {
    const whole = run(cfg, 5, 4).logits;
    const first = run(cfg, 5, 2);
    const { tree, blob } = encodeState(first.adapter.state());
    const snapshot = first.rng.snapshot();
    const rng = new SeededRng(5);
    rng.restore(snapshot);
    const resumed = createAdapter(cfg, sourceModel(), rng.scope(`tta/${cfg.name}`));
    resumed.loadState(decodeState(tree, blob));
    const rest = [2, 3].map((i) => Array.from(resumed.step(batch(i)).dataSync()));
    expect([...first.logits, ...rest]).toEqual(whole);
  });

  it("predicts before adapting: the first step's logits are BN-adapt's, and Tent lowers the entropy of a batch it sees again", () => {
    const x = batch(0);
    const source = sourceModel();
    const bn = createAdapter({ name: "bn" }, source, new SeededRng(0)).step(x);
    const tent = createAdapter({ name: "tent", lr: 0.05 }, source, new SeededRng(0));
    const first = tent.step(x);
    expect(Array.from(first.dataSync())).toEqual(Array.from(bn.dataSync()));
    let last = first;
    for (let i = 0; i < 5; i++) last = tent.step(x);
    expect(meanEntropy(last).dataSync()[0]).toBeLessThan(meanEntropy(first).dataSync()[0] as number);
  });

  it("Tent changes only the BN affine parameters; CoTTA all of them", () => {
    const source = sourceModel();
    const before = Object.fromEntries(treeKeys(source.params).map((k) => [k, Array.from(source.params[k]!.dataSync())]));
    const changed = (cfg: AdapterConfig) => {
      const a = createAdapter(cfg, source, new SeededRng(0).scope("t"));
      a.step(batch(0));
      a.step(batch(1));
      const s = a.state() as Record<string, Record<string, tf.Tensor>>;
      const params = cfg.name === "tent" ? s.params! : s.student!;
      return Object.keys(params).filter((k) => Array.from(params[k]!.dataSync()).some((v, i) => v !== before[k]![i]));
    };
    expect(changed({ name: "tent" }).sort()).toEqual(["fc0.bn.beta", "fc0.bn.gamma"]);
    expect(changed({ name: "cotta", threshold: 0 }).length).toBe(treeKeys(source.params).length);
    // The source weights themselves are never modified.
    for (const k of treeKeys(source.params)) expect(Array.from(source.params[k]!.dataSync())).toEqual(before[k]);
  });

  it("Tent with SGD momentum 0.9 (tent.py's ImageNet optimiser) makes heavy-ball steps on γ, β of a conv net's BatchNorm2d", () => {
    // conv4 on 16×16×1: four conv → BN2d → ReLU → max-pool blocks; Tent adapts their γ, β only.
    const backbone = conv4({ inputShape: [16, 16, 1], width: 4 });
    const { params, state } = backbone.init(new SeededRng(2).stream("init"), 3);
    const source: SourceModel = { backbone, params, state };
    const keys = batchNormAffineKeys(params);
    expect(keys).toHaveLength(8);
    const lr = 0.01;
    const x = [0, 1].map((i) => {
      const pixels = new SeededRng(200 + i).stream("x");
      return tf.tensor4d(Float32Array.from({ length: 6 * 256 }, () => pixels.next()), [6, 16, 16, 1]);
    });
    const grad = (p: Record<string, tf.Tensor>, xi: tf.Tensor4D) =>
      tf.grads((...ts: tf.Tensor[]) => meanEntropy(logitsOf(source, { ...p, ...Object.fromEntries(keys.map((k, i) => [k, ts[i]!])) }, xi, true)))(keys.map((k) => p[k]!));
    // By hand: v1 = g1, θ1 = θ0 − lr·v1; v2 = 0.9·v1 + g2 (g2 at θ1), θ2 = θ1 − lr·v2.
    const g1 = grad(params, x[0]!);
    const theta1 = { ...params, ...Object.fromEntries(keys.map((k, i) => [k, tf.sub(params[k]!, tf.mul(g1[i]!, lr))])) };
    const g2 = grad(theta1, x[1]!);
    const expected = keys.map((k, i) => Array.from(tf.sub(theta1[k]!, tf.mul(tf.add(tf.mul(g1[i]!, 0.9), g2[i]!), lr)).dataSync()));
    const tent = createAdapter({ name: "tent", lr, optimizer: { name: "sgd", momentum: 0.9 } }, source, new SeededRng(0));
    tent.step(x[0]!);
    tent.step(x[1]!);
    const adapted = (tent.state() as { params: Record<string, tf.Tensor> }).params;
    expect(Object.keys(adapted).sort()).toEqual(keys);
    keys.forEach((k, i) => {
      const got = Array.from(adapted[k]!.dataSync());
      got.forEach((v, j) => expect(v).toBeCloseTo(expected[i]![j]!, 5));
    });
    // It moved: the step is not a no-op.
    expect(keys.some((k) => Array.from(adapted[k]!.dataSync()).some((v, j) => v !== params[k]!.dataSync()[j]))).toBe(true);
  });

  // Conv-4 CoTTA once leaked its anchor and teacher forwards' activations (73 MB a batch on the
  // wasm backend), filled the 4 GiB heap and stalled; the leak is the same on any backbone.
  it.each<[string, AdapterConfig]>([
    ["source", { name: "source" }],
    ["bn", { name: "bn" }],
    ["tent", { name: "tent" }],
    ["cotta on confident batches", { name: "cotta", threshold: 0, augmentations: 2 }],
    ["cotta with augmented targets", { name: "cotta", threshold: 1.01, augmentations: 2 }],
  ])("%s leaves no tensor behind per step", (_, cfg) => {
    const adapter = createAdapter(cfg, sourceModel(), new SeededRng(3).scope(`tta/${cfg.name}`));
    const x = batch(0);
    const counts: number[] = [];
    for (let i = 0; i < 4; i++) {
      adapter.step(x).dispose();
      counts.push(tf.memory().numTensors);
    }
    // Step 1 creates the optimiser's slots; from then on the count must not move.
    expect(counts.slice(1)).toEqual([counts[1], counts[1], counts[1]]);
    adapter.dispose();
    x.dispose();
  });

  it("Tent refuses a backbone without batch norm", () => {
    const backbone = mlp({ inputShape: shape, hidden: [16] });
    const { params, state } = backbone.init(new SeededRng(1).stream("init"), 3);
    expect(() => createAdapter({ name: "tent" }, { backbone, params, state }, new SeededRng(0))).toThrow(/batch_norm: true/);
  });
});

describe("augmentation", () => {
  it("is seeded, keeps the shape and stays in [0, 1]", () => {
    const x = batch(0, 4);
    const a = cottaAugment(x, new SeededRng(3).stream("a"));
    expect(a.shape).toEqual(x.shape);
    expect(Array.from(a.dataSync())).toEqual(Array.from(cottaAugment(x, new SeededRng(3).stream("a")).dataSync()));
    expect(Array.from(a.dataSync())).not.toEqual(Array.from(cottaAugment(x, new SeededRng(4).stream("a")).dataSync()));
    expect(tf.min(a).dataSync()[0]).toBeGreaterThanOrEqual(0);
    expect(tf.max(a).dataSync()[0]).toBeLessThanOrEqual(1);
  });

  it("works on three channels (saturation, hue)", () => {
    const x = tf.randomUniform([2, 8, 8, 3], 0, 1, "float32", 1) as tf.Tensor4D;
    expect(cottaAugment(x, new SeededRng(3).stream("a")).shape).toEqual([2, 8, 8, 3]);
  });
});

describe("no test label reaches adaptation", () => {
  /** A test set whose labels record whether they were read while an adapter step was running. */
  function spiedSet(n: number) {
    const labels = Int32Array.from({ length: n }, (_, i) => i % 3);
    const s = new SeededRng(9).stream("x");
    let inStep = false;
    let readInStep = 0;
    const set = {
      images: Uint8Array.from({ length: n * 64 }, () => s.int(256)),
      count: n,
      shape,
      get labels(): Int32Array {
        if (inStep) readInStep++;
        return labels;
      },
    } as ImageSet;
    return { set, labels, enter: () => (inStep = true), leave: () => (inStep = false), reads: () => readInStep };
  }

  it("the loop gets images only, the scorer alone holds the labels", () => {
    const spy = spiedSet(30);
    const inner = createAdapter({ name: "cotta", threshold: 1.01, augmentations: 2 }, sourceModel(), new SeededRng(0).scope("c"));
    const hostile = {
      ...inner,
      name: "spy",
      step: (x: tf.Tensor4D) => {
        spy.enter();
        try {
          return inner.step(x);
        } finally {
          spy.leave();
        }
      },
    };
    const target = withoutLabels(spy.set);
    expect(Object.keys(target)).not.toContain("labels");
    const scorer = new DomainScorer(spy.set.labels);
    const seen = adaptOnline(hostile, target, { batchSize: 8, onPredictions: (start, p) => scorer.score(start, p) });
    expect(seen).toBe(30);
    expect(scorer.total).toBe(30);
    expect(spy.reads()).toBe(0);
  });

  it("a labelled set handed to the loop is refused", () => {
    const spy = spiedSet(8);
    const adapter = createAdapter({ name: "source" }, sourceModel(), new SeededRng(0));
    expect(() => adaptOnline(adapter, spy.set, { batchSize: 4, onPredictions: () => {} })).toThrow(/images only/);
  });
});
