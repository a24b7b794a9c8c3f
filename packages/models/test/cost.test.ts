import { beforeAll, describe, expect, it } from "vitest";
import { costRecord, disposeTree, inMemoryStream, MemoryTracker, parameterCount, SeededRng, type ImageSet } from "@mnemo/core";
import { runExperiment } from "@mnemo/core/tf";
import { selectBackend } from "@mnemo/runtime";
import { conv4, mlp, reducedResnet18, resnet, resnet20, resnet32, SupervisedLearner, type TrainingConfig } from "../src/index.js";

beforeAll(async () => {
  await selectBackend({ backend: "wasm", env: {} });
});

const cifarResNet = (n: number) =>
  resnet({ name: `resnet${6 * n + 2}`, stemChannels: 16, channels: [16, 32, 64], blocks: [n, n, n], strides: [1, 2, 2], shortcut: "identity", inputShape: [32, 32, 3] });

describe("forward MACs per image (analytic, conv + linear)", () => {
  it("CIFAR ResNets match the counts the literature quotes (40.55M, 68.86M, 125.49M, 252.89M with a 10-way head)", () => {
    expect(resnet20().forwardMacs?.(10)).toBe(40_551_040);
    expect(resnet32().forwardMacs?.(10)).toBe(68_862_592);
    expect(cifarResNet(9).forwardMacs?.(10)).toBe(125_485_696);
    expect(cifarResNet(18).forwardMacs?.(10)).toBe(252_887_680);
  });

  it("an MLP does one MAC per weight, so it equals the weight count of its tree", () => {
    const b = mlp({ inputShape: [28, 28, 1], hidden: [400, 400] });
    expect(b.forwardMacs?.(10)).toBe(784 * 400 + 400 * 400 + 400 * 10);
    const { params } = b.init(new SeededRng(0).stream("init"), 10);
    const weights = Object.entries(params).filter(([k]) => k.endsWith("weight")).reduce((a, [, t]) => a + t.size, 0);
    expect(b.forwardMacs?.(10)).toBe(weights);
    disposeTree(params);
  });

  it("Conv-4 on MNIST: 3x3 same convs at 28, 14, 7, 3 pixels", () => {
    expect(conv4({ inputShape: [28, 28, 1] }).forwardMacs?.(5)).toBe(28 * 28 * 9 * 64 + (14 * 14 + 7 * 7 + 3 * 3) * 9 * 64 * 64 + 64 * 5);
  });

  it("projection shortcuts are counted (reduced ResNet-18) and the head grows with the classes", () => {
    const b = reducedResnet18();
    const withHead = (c: number) => b.forwardMacs?.(c) as number;
    expect(withHead(100) - withHead(10)).toBe(160 * 90);
    // Stages 2..4 open with a 1x1 projection: 16x16x20x40 + 8x8x40x80 + 4x4x80x160 MACs more
    // than the same network with parameter-free identity shortcuts.
    const identity = resnet({ name: "r", stemChannels: 20, channels: [20, 40, 80, 160], blocks: [2, 2, 2, 2], strides: [1, 2, 2, 2], shortcut: "identity", inputShape: [32, 32, 3] });
    expect(withHead(10) - (identity.forwardMacs?.(10) as number)).toBe(16 * 16 * 20 * 40 + 8 * 8 * 40 * 80 + 4 * 4 * 80 * 160);
  });

  it("parameter counts: ResNet-20 0.27 M, ResNet-32 0.46 M (He et al. 2016, Table 6)", () => {
    for (const [b, published] of [
      [resnet20(), 0.27e6],
      [resnet32(), 0.46e6],
    ] as const) {
      const { params, state } = b.init(new SeededRng(0).stream("init"), 10);
      expect(Math.abs(parameterCount(params) - published) / published).toBeLessThan(0.02);
      disposeTree(params);
      disposeTree(state);
    }
  });
});

/** Class c lights up pixel c of a 2x2 image. */
function toy(seed: number, perClass: number): ImageSet {
  const r = new SeededRng(seed).stream("data");
  const images = new Uint8Array(4 * 4 * perClass);
  const labels = new Int32Array(4 * perClass);
  for (let k = 0; k < 4 * perClass; k++) {
    labels[k] = k % 4;
    for (let p = 0; p < 4; p++) images[k * 4 + p] = Math.floor(r.uniform(0, 40) + (p === k % 4 ? 200 : 0));
  }
  return { images, labels, count: 4 * perClass, shape: [2, 2, 1] };
}

describe("run cost from runExperiment", () => {
  it("records CPU time, images and memory per task, and costRecord derives img/s from them", async () => {
    const stream = inMemoryStream({ name: "toy", train: toy(1, 12), test: toy(2, 5), taskClasses: [[0, 1], [2, 3]] });
    const rng = new SeededRng(0);
    const training: TrainingConfig = { epochs: 3, batchSize: 8, lr: 0.05, optimizer: { name: "sgd" }, schedule: { name: "constant" } };
    const backbone = mlp({ inputShape: [2, 2, 1], hidden: [8] });
    const learner = new SupervisedLearner({ backbone, training, rng, head: "expanding", numClasses: 4, quiet: true });
    const tracker = new MemoryTracker();
    const result = await runExperiment(
      { name: "toy", stream, learner, tracker, seed: 0, evaluation: { scenario: "class-incremental", batchSize: 16, evaluateFutureTasks: true } },
      { rng, tracker, stream, log: () => {}, step: 0 },
    );
    const cost = result.cost ?? [];
    expect(cost).toHaveLength(2);
    for (const c of cost) {
      expect(c.trainImages).toBe(3 * 24); // 3 epochs x 24 stream images of the task
      expect(c.evalImages).toBe(20); // both tasks' test sets (future tasks evaluated)
      expect(c.trainCpuSeconds).toBeGreaterThan(0);
      expect(c.peakRssBytes).toBeGreaterThan(10 * 2 ** 20);
      expect(c.wasmHeapBytes).toBeGreaterThan(0);
    }
    const rec = costRecord({ tasks: cost, parameterCount: parameterCount(learner.model.params), forwardMacsPerImage: backbone.forwardMacs?.(4) });
    expect(rec["train_images"]).toBe(144);
    expect(rec["train_images_per_sec"]).toBeCloseTo(144 / (rec["train_seconds"] as number), 6);
    expect(rec["eval_images_per_sec"]).toBeCloseTo(40 / (rec["eval_seconds"] as number), 6);
    expect(rec["param_count"]).toBe(4 * 8 + 8 + 8 * 4 + 4);
    expect(rec["forward_flops_per_image"]).toBe(2 * (4 * 8 + 8 * 4));
    expect(rec["peak_rss_bytes_task1"]).toBeGreaterThanOrEqual(rec["peak_rss_bytes_task0"] as number);
    learner.dispose();
  });
});
