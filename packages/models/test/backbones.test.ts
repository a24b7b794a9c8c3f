import * as tf from "@tensorflow/tfjs";
import { prepareWasm } from "@mnemo/kernels";
import { ConfigError, disposeTree, RandomStream, SeededRng, treeKeys, treeSize, treesEqual, type Backbone, type ParamTree } from "@mnemo/core";
import { keepTree } from "@mnemo/core/tf";
import { beforeAll, describe, expect, it } from "vitest";
import { BACKBONE_NAMES, conv4, createBackbone, reducedResnet18, resnet20, resnet32 } from "../src/backbones/index.js";
import { batchNorm, initBatchNorm } from "../src/layers/batch-norm.js";
import { conv as convLayer } from "../src/layers/conv.js";
import { convBn } from "../src/layers/conv-bn.js";
import { kaimingConv } from "../src/layers/init.js";

beforeAll(async () => {
  await prepareWasm({ threads: 2, warn: false });
  await tf.setBackend("wasm");
  tf.enableProdMode();
});

function images(n: number, shape: readonly number[], seed: number): tf.Tensor4D {
  const size = n * shape.reduce((a, b) => a * b, 1);
  return tf.tensor4d(new RandomStream(seed).fillNormal(new Float32Array(size)), [n, ...shape] as [number, number, number, number]);
}

function crossEntropy(logits: tf.Tensor2D, labels: number[]): tf.Scalar {
  return tf.losses.softmaxCrossEntropy(tf.oneHot(labels, logits.shape[1]), logits) as tf.Scalar;
}

/** Sum of k·k·in·out over convs, 2·c per BN, (in+1)·out for the head. */
const conv = (k: number, i: number, o: number) => k * k * i * o;
const bn = (c: number) => 2 * c;

describe("shapes and sizes", () => {
  const cases: [string, Backbone, number][] = [
    ["conv4 32x32x3", conv4(), 256],
    ["conv4 28x28x1", conv4({ inputShape: [28, 28, 1] }), 64],
    ["resnet20", resnet20(), 64],
    ["resnet32 (conv shortcuts)", resnet32({ shortcut: "conv" }), 64],
    ["reduced resnet18", reducedResnet18(), 160],
  ];
  it.each(cases)("%s: features [B, featureDim] and logits [B, classes] in train and eval", (_, bb, featureDim) => {
    expect(bb.featureDim).toBe(featureDim);
    const { params, state } = bb.init(new SeededRng(1).stream("init"), 7);
    const x = images(3, bb.inputShape, 2);
    for (const training of [true, false]) {
      const out = bb.apply(params, x, { training, state });
      expect(out.features.shape).toEqual([3, featureDim]);
      expect(out.logits.shape).toEqual([3, 7]);
      expect(out.state === undefined).toBe(!training);
      if (out.state) expect(treeKeys(out.state)).toEqual(treeKeys(state));
      tf.dispose([out.features, out.logits]);
      disposeTree(out.state);
    }
    tf.dispose(x);
    disposeTree(params);
    disposeTree(state);
  });

  it("parameter counts match the architectures (ResNet-32, 100 classes ≈ 0.46 M + head)", () => {
    const count = (bb: Backbone, classes: number) => {
      const { params, state } = bb.init(new RandomStream(1), classes);
      const n = treeSize(params);
      disposeTree(params);
      disposeTree(state);
      return n;
    };
    const stage = (n: number, inC: number, outC: number) =>
      conv(3, inC, outC) + conv(3, outC, outC) + 2 * bn(outC) + (n - 1) * (2 * conv(3, outC, outC) + 2 * bn(outC));
    const cifar = (n: number, classes: number) =>
      conv(3, 3, 16) + bn(16) + stage(n, 16, 16) + stage(n, 16, 32) + stage(n, 32, 64) + 65 * classes;
    expect(cifar(5, 100)).toBe(470_004);
    expect(count(resnet32(), 100)).toBe(470_004);
    expect(count(resnet20(), 10)).toBe(cifar(3, 10));
    const proj = (i: number, o: number) => conv(1, i, o) + bn(o);
    expect(count(resnet20({ shortcut: "conv" }), 10)).toBe(cifar(3, 10) + proj(16, 32) + proj(32, 64));
    const c4 = conv(3, 3, 64) + bn(64) + 3 * (conv(3, 64, 64) + bn(64)) + 257 * 100;
    expect(count(conv4(), 100)).toBe(c4);
    const nf = 20;
    const r18 =
      conv(3, 3, nf) + bn(nf) + stage(2, nf, nf) + stage(2, nf, 2 * nf) + proj(nf, 2 * nf) + stage(2, 2 * nf, 4 * nf) +
      proj(2 * nf, 4 * nf) + stage(2, 4 * nf, 8 * nf) + proj(4 * nf, 8 * nf) + 161 * 10;
    expect(count(reducedResnet18(), 10)).toBe(r18);
  });
});

describe("initialisation", () => {
  it("is a pure function of the seeded stream", async () => {
    const bb = resnet20({ shortcut: "conv" });
    const a = bb.init(new SeededRng(42).stream("init"), 10);
    const b = bb.init(new SeededRng(42).stream("init"), 10);
    const c = bb.init(new SeededRng(43).stream("init"), 10);
    expect(await treesEqual(a.params, b.params)).toBe(true);
    expect(await treesEqual(a.state, b.state)).toBe(true);
    expect(await treesEqual(a.params, c.params)).toBe(false);
    for (const m of [a, b, c]) {
      disposeTree(m.params);
      disposeTree(m.state);
    }
  });

  it("draws Kaiming-normal conv filters (std √(2/fan_in))", async () => {
    const { params, state } = conv4().init(new RandomStream(7), 5);
    const w = params["block1.conv.weight"] as tf.Tensor;
    const v = Array.from(await w.data());
    const mean = v.reduce((s, x) => s + x, 0) / v.length;
    const std = Math.sqrt(v.reduce((s, x) => s + (x - mean) ** 2, 0) / v.length);
    expect(Math.abs(std / Math.sqrt(2 / (9 * 64)) - 1)).toBeLessThan(0.02);
    disposeTree(params);
    disposeTree(state);
  });
});

describe("batch norm", () => {
  it("training normalises with batch statistics and updates running ones; eval uses running ones", async () => {
    const params: ParamTree = {};
    const state: ParamTree = {};
    initBatchNorm("bn", 2, params, state);
    // channel 0: values 1..4 (mean 2.5, biased var 1.25, unbiased 5/3); channel 1: constant 3.
    const x = tf.tensor4d([1, 3, 2, 3, 3, 3, 4, 3], [2, 2, 1, 2]);
    const newState: ParamTree = {};
    const y = await batchNorm(x, "bn", params, state, true, newState).data();
    expect(y[0]).toBeCloseTo(-1.5 / Math.sqrt(1.25 + 1e-5), 5);
    expect(y[1]).toBeCloseTo(0, 6);
    expect(Array.from(await (newState["bn.mean"] as tf.Tensor).data())).toEqual([expect.closeTo(0.25, 6), expect.closeTo(0.3, 6)]);
    expect(Array.from(await (newState["bn.var"] as tf.Tensor).data())).toEqual([expect.closeTo(0.9 + 0.1 * (5 / 3), 6), expect.closeTo(0.9, 6)]);
    const evalOut: ParamTree = {};
    const z = await batchNorm(x, "bn", params, newState, false, evalOut).data();
    expect(z[0]).toBeCloseTo((1 - 0.25) / Math.sqrt(0.9 + 0.1 * (5 / 3) + 1e-5), 5);
    expect(treeKeys(evalOut)).toEqual([]);
    tf.dispose(x);
    disposeTree(params);
    disposeTree(state);
    disposeTree(newState);
  });

  it("eval folds BN into the conv with the same result as conv then BN on running statistics", async () => {
    const params: ParamTree = { w: kaimingConv(new RandomStream(4), 3, 3, 3, 5) };
    const state: ParamTree = {};
    initBatchNorm("bn", 5, params, state);
    for (const [k, lo, hi] of [["bn.gamma", 0.5, 2], ["bn.beta", -1, 1]] as const) {
      params[k]?.dispose();
      params[k] = tf.tensor1d(new RandomStream(5).fillUniform(new Float32Array(5), lo, hi));
    }
    state["bn.mean"]?.dispose();
    state["bn.var"]?.dispose();
    state["bn.mean"] = tf.tensor1d(new RandomStream(6).fillUniform(new Float32Array(5), -1, 1));
    state["bn.var"] = tf.tensor1d(new RandomStream(7).fillUniform(new Float32Array(5), 0.5, 2));
    const x = images(2, [7, 7, 3], 8);
    for (const [stride, relu] of [[1, true], [2, false]] as const) {
      const folded = await convBn(x, { conv: "w", bn: "bn", stride, relu }, params, state, false, {}).data();
      const plain = await batchNorm(convLayer(x, params, "w", stride), "bn", params, state, false, {}, relu).data();
      const err = Math.max(...Array.from(folded, (v, i) => Math.abs(v - (plain[i] as number))));
      expect(err).toBeLessThan(1e-4);
    }
    tf.dispose(x);
    disposeTree(params);
    disposeTree(state);
  });

  it("eval with a residual (a block's end) equals conv, BN on running statistics, + residual, ReLU", async () => {
    // 8 → 16 channels, 3×3 stride 1: on wasm this is the Winograd path with the add and ReLU fused in.
    const params: ParamTree = { w: kaimingConv(new RandomStream(14), 3, 3, 8, 16) };
    const state: ParamTree = {};
    initBatchNorm("bn", 16, params, state);
    state["bn.mean"]?.dispose();
    state["bn.mean"] = tf.tensor1d(new RandomStream(16).fillUniform(new Float32Array(16), -1, 1));
    const x = images(2, [8, 8, 8], 18);
    const residual = images(2, [8, 8, 16], 19);
    for (const relu of [true, false]) {
      const fused = await convBn(x, { conv: "w", bn: "bn", relu, residual }, params, state, false, {}).data();
      const plain = await batchNorm(convLayer(x, params, "w", 1), "bn", params, state, false, {}, relu, residual).data();
      const err = Math.max(...Array.from(fused, (v, i) => Math.abs(v - (plain[i] as number))));
      expect(err).toBeLessThan(1e-4);
    }
    tf.dispose([x, residual]);
    disposeTree(params);
    disposeTree(state);
  });

  it("eval output of a sample does not depend on its batch; training output does", async () => {
    const bb = conv4();
    const { params, state } = bb.init(new RandomStream(3), 4);
    const x = images(4, bb.inputShape, 9);
    const first = x.slice([0, 0, 0, 0], [1, 32, 32, 3]);
    const evalAll = await bb.apply(params, x, { training: false, state }).logits.slice([0, 0], [1, 4]).data();
    const evalOne = await bb.apply(params, first, { training: false, state }).logits.data();
    for (let i = 0; i < 4; i++) expect(evalOne[i]).toBeCloseTo(evalAll[i] as number, 4);
    const trainAll = bb.apply(params, x, { training: true, state });
    const trainTwo = bb.apply(params, x.slice([0, 0, 0, 0], [2, 32, 32, 3]), { training: true, state });
    const a = await trainAll.logits.slice([0, 0], [1, 4]).data();
    const b = await trainTwo.logits.slice([0, 0], [1, 4]).data();
    expect(Math.max(...Array.from(a, (v, i) => Math.abs(v - (b[i] as number))))).toBeGreaterThan(1e-3);
    disposeTree(trainAll.state);
    disposeTree(trainTwo.state);
    disposeTree(params);
    disposeTree(state);
  });
});

describe("growHead", () => {
  it.each(BACKBONE_NAMES)("%s keeps the old class columns and shares the body", async (name) => {
    const bb = createBackbone(name);
    const { params, state } = bb.init(new RandomStream(5), 3);
    const grown = bb.growHead(params, 5, new RandomStream(6));
    const w = params[`${bb.headPrefix}weight`] as tf.Tensor2D;
    const gw = grown[`${bb.headPrefix}weight`] as tf.Tensor2D;
    expect(gw.shape).toEqual([bb.featureDim, 5]);
    expect(grown[`${bb.headPrefix}bias`]?.shape).toEqual([5]);
    expect(Array.from(await gw.slice([0, 0], [bb.featureDim, 3]).data())).toEqual(Array.from(await w.data()));
    const fresh = await gw.slice([0, 3], [bb.featureDim, 2]).data();
    expect(fresh.some((v) => v !== 0)).toBe(true);
    for (const k of treeKeys(params)) if (!k.startsWith(bb.headPrefix)) expect(grown[k]).toBe(params[k]);
    expect(() => bb.growHead(params, 2, new RandomStream(6))).toThrow(/only grows/);
    for (const k of treeKeys(grown)) if (k.startsWith(bb.headPrefix)) grown[k]?.dispose();
    disposeTree(params);
    disposeTree(state);
  });
});

describe("training step", () => {
  it.each(BACKBONE_NAMES)("%s: forward+backward over the param list leaks no tensors", (name) => {
    const bb = createBackbone(name);
    const model = bb.init(new RandomStream(8), 10);
    const x = images(4, bb.inputShape, 10);
    const keys = treeKeys(model.params);
    const before = tf.memory().numTensors;
    let newState: ParamTree = {};
    const { value, grads } = tf.valueAndGrads((...ts: tf.Tensor[]) => {
      const p: ParamTree = Object.fromEntries(keys.map((k, i) => [k, ts[i] as tf.Tensor]));
      const out = bb.apply(p, x, { training: true, state: model.state });
      newState = keepTree(out.state ?? {});
      return crossEntropy(out.logits, [0, 1, 2, 3]);
    })(keys.map((k) => model.params[k] as tf.Tensor));
    expect(grads).toHaveLength(keys.length);
    grads.forEach((g, i) => expect(g.shape).toEqual(model.params[keys[i] as string]?.shape));
    tf.dispose([value, ...grads]);
    disposeTree(newState);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose(x);
    disposeTree(model.params);
    disposeTree(model.state);
  });

  it("wasm gradients of a whole ResNet match the cpu backend", async () => {
    const bb = resnet20({ shortcut: "conv", inputShape: [9, 9, 3] });
    const gradsOn = async (backend: "cpu" | "wasm") => {
      await tf.setBackend(backend);
      const model = bb.init(new RandomStream(11), 5);
      const x = images(2, bb.inputShape, 12);
      const keys = treeKeys(model.params);
      const { grads } = tf.valueAndGrads((...ts: tf.Tensor[]) => {
        const p: ParamTree = Object.fromEntries(keys.map((k, i) => [k, ts[i] as tf.Tensor]));
        return crossEntropy(bb.apply(p, x, { training: true, state: model.state }).logits, [0, 4]);
      })(keys.map((k) => model.params[k] as tf.Tensor));
      const data = await Promise.all(grads.map((g) => g.data() as Promise<Float32Array>));
      tf.dispose([x, ...grads]);
      disposeTree(model.params);
      disposeTree(model.state);
      return data;
    };
    const ref = await gradsOn("cpu");
    const got = await gradsOn("wasm");
    ref.forEach((r, i) => {
      const g = got[i] as Float32Array;
      let num = 0;
      let den = 0;
      r.forEach((v, j) => {
        num = Math.max(num, Math.abs(v - (g[j] as number)));
        den = Math.max(den, Math.abs(v));
      });
      expect(num / Math.max(den, 1e-12)).toBeLessThan(1e-3);
    });
  });
});

describe("createBackbone", () => {
  it("builds every registered backbone and rejects unknown names with the valid list", () => {
    expect(BACKBONE_NAMES).toEqual(["conv4", "resnet20", "resnet32", "reduced-resnet18"]);
    expect(createBackbone("resnet32").name).toBe("resnet32");
    expect(() => createBackbone("resnet50")).toThrow(ConfigError);
    expect(() => createBackbone("resnet50")).toThrow(/conv4, resnet20, resnet32, reduced-resnet18/);
  });

  it("rejects inputs of the wrong shape with the expected one", () => {
    const bb = conv4();
    const { params, state } = bb.init(new RandomStream(1), 2);
    const x = tf.zeros([2, 28, 28, 1]);
    expect(() => bb.apply(params, x, { training: false, state })).toThrow(/expected input \[batch, 32, 32, 3\]/);
    expect(() => bb.apply(params, x, { training: false })).toThrow(/options.state is required/);
    tf.dispose(x);
    disposeTree(params);
    disposeTree(state);
  });
});
