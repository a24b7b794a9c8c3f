/**
 * Second-order MAML through Conv-4 with batch norm on wasm (algorithms.md §8.1): the meta-gradient
 * built on the backbone's differentiableTwice path matches central finite differences of the
 * meta-loss; the fast kernels path refuses (throws) instead of dropping terms.
 *
 * Finite differences need a smooth function: ReLU / max-pool kinks make the adapted parameters
 * θ' = θ − α∇L_S(θ) jump, so this check uses Conv-4 with ReLU and max replaced by the smooth
 * surrogate (x + √(x² + δ²))/2 (`smoothRelu`); every other op (im2col conv, BN, pooling, head,
 * cross-entropy) is the one real runs use.
 */
import * as tf from "@tensorflow/tfjs";
import { prepareWasm } from "@mnemo/kernels";
import { disposeTree, RandomStream, treeKeys, type Backbone, type ParamTree } from "@mnemo/core";
import { conv4 } from "@mnemo/models";
import { beforeAll, describe, expect, it } from "vitest";
import { Maml, crossEntropy, type EpisodeBatch } from "../src/index.js";

beforeAll(async () => {
  await prepareWasm({ threads: 2, warn: false });
  await tf.setBackend("wasm");
});

function batch(n: number, seed: number): EpisodeBatch {
  return {
    x: tf.tensor4d(new RandomStream(seed).fillNormal(new Float32Array(n * 28 * 28)), [n, 28, 28, 1]),
    y: tf.tensor1d(Array.from({ length: n }, (_, i) => i % 5), "int32"),
  };
}

const dot = (a: ParamTree, b: ParamTree): number => tf.tidy(() => treeKeys(a).reduce((s, k) => s + (tf.sum(tf.mul(a[k] as tf.Tensor, b[k] as tf.Tensor)).dataSync()[0] as number), 0));

describe("second-order MAML through Conv-4 + BN on wasm", () => {
  it("meta-gradient matches finite differences of the meta-loss (relative error < 1e-3); FOMAML does not", () => {
    const bb: Backbone = conv4({ inputShape: [28, 28, 1], width: 16, smoothRelu: 0.2 });
    const { params, state } = bb.init(new RandomStream(5), 5);
    const episode = { support: batch(5, 1), query: batch(15, 2) };
    // MAML's transductive BN: batch statistics in every forward pass.
    const loss = (p: ParamTree, b: EpisodeBatch) =>
      tf.tidy(() => crossEntropy(bb.apply(p, b.x, { training: true, state, differentiableTwice: true }).logits, b.y));
    const maml = new Maml({ loss, innerLr: 0.4, innerSteps: 1 });
    const fomaml = new Maml({ loss, innerLr: 0.4, innerSteps: 1, firstOrder: true });
    const second = maml.metaGradient(params, [episode]);
    const first = fomaml.metaGradient(params, [episode]);
    // Direction: the meta-gradient itself, normalised (the largest directional derivative).
    const norm = Math.sqrt(dot(second.grads, second.grads));
    const dir: ParamTree = tf.tidy(() => Object.fromEntries(treeKeys(params).map((k) => [k, tf.div(second.grads[k] as tf.Tensor, norm)])));
    const metaLoss = (s: number): number =>
      tf.tidy(() => {
        const p: ParamTree = Object.fromEntries(treeKeys(params).map((k) => [k, tf.add(params[k] as tf.Tensor, tf.mul(dir[k] as tf.Tensor, s))]));
        return loss(maml.adapt(p, episode.support), episode.query).dataSync()[0] as number;
      });
    // Central differences with one Richardson step: error O(ε⁴) instead of O(ε²).
    const central = (e: number) => (metaLoss(e) - metaLoss(-e)) / (2 * e);
    const eps = 2e-3;
    const fd = (4 * central(eps / 2) - central(eps)) / 3;
    const autodiff = dot(second.grads, dir);
    expect(Math.abs(autodiff - fd) / Math.abs(fd)).toBeLessThan(1e-3);
    // The Hessian term matters here: FOMAML's gradient is far off along the same direction.
    expect(Math.abs(dot(first.grads, dir) - fd) / Math.abs(fd)).toBeGreaterThan(0.05);
    [second.grads, first.grads, dir, params, state].forEach(disposeTree);
    [episode.support, episode.query].forEach((b) => (b.x.dispose(), b.y.dispose()));
  });

  it("the fast kernels path throws for second order (never silently wrong)", () => {
    const bb = conv4({ inputShape: [28, 28, 1], width: 8 });
    const { params, state } = bb.init(new RandomStream(6), 5);
    const episode = { support: batch(5, 3), query: batch(5, 4) };
    const loss = (p: ParamTree, b: EpisodeBatch) => tf.tidy(() => crossEntropy(bb.apply(p, b.x, { training: true, state }).logits, b.y));
    expect(() => new Maml({ loss, innerLr: 0.4, innerSteps: 1 }).metaGradient(params, [episode])).toThrow(/gradient function not found/);
    [params, state].forEach(disposeTree);
    [episode.support, episode.query].forEach((b) => (b.x.dispose(), b.y.dispose()));
  });
});
