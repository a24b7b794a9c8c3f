import { beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { crossEntropy } from "../src/index.js";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

const z = () => tf.tensor2d([[0.3, -1.2, 2.0], [1.0, 0.5, -0.3]]);
const labels = [2, 0];
const v = () => tf.tensor2d([[1, 2, 3], [-1, 0.5, 2]]);

/** (∇ CE) · v as a function of the logits. */
const gradDotV = (f: (t: tf.Tensor) => tf.Scalar) => (t: tf.Tensor) => tf.sum(tf.mul(tf.grad(f)(t), v())) as tf.Scalar;

describe("crossEntropy (twice differentiable)", () => {
  it("equals tf.losses.softmaxCrossEntropy in value and gradient", async () => {
    const oneHot = tf.oneHot(tf.tensor1d(labels, "int32"), 3);
    const ref = (t: tf.Tensor) => tf.losses.softmaxCrossEntropy(oneHot, t) as tf.Scalar;
    const ours = (t: tf.Tensor) => crossEntropy(t, labels);
    expect((await ours(z()).data())[0]).toBeCloseTo((await ref(z()).data())[0] as number, 6);
    const a = await tf.grad(ours)(z()).data();
    const b = await tf.grad(ref)(z()).data();
    a.forEach((x, i) => expect(x).toBeCloseTo(b[i] as number, 6));
  });

  it("has the right second derivatives (Hessian-vector product against finite differences), where tf's loss does not", async () => {
    const ours = (t: tf.Tensor) => crossEntropy(t, labels);
    const hvp = await tf.grad(gradDotV(ours))(z()).data();
    const base = await z().data();
    const h = 1e-2;
    const fd = Array.from(base, (_, i) => {
      const at = (d: number) => {
        const p = Float32Array.from(base);
        p[i] = (p[i] as number) + d;
        return gradDotV(ours)(tf.tensor2d(p, [2, 3])).dataSync()[0] as number;
      };
      return (at(h) - at(-h)) / (2 * h);
    });
    hvp.forEach((x, i) => expect(x).toBeCloseTo(fd[i] as number, 3));
    // The stock loss has no correct gradient of its gradient in tfjs 4.22 (it throws or is wrong; see
    // src/cross-entropy.ts). Should a tfjs upgrade fix it, this fails and the note there needs updating.
    const oneHot = tf.oneHot(tf.tensor1d(labels, "int32"), 3);
    let stockCorrect: boolean;
    try {
      const stock = await tf.grad(gradDotV((t) => tf.losses.softmaxCrossEntropy(oneHot, t) as tf.Scalar))(z()).data();
      stockCorrect = Math.max(...Array.from(stock, (x, i) => Math.abs(x - (fd[i] as number)))) < 1e-3;
    } catch {
      stockCorrect = false;
    }
    expect(stockCorrect).toBe(false);
  });

  it("is stable for large logits", async () => {
    const big = tf.tensor2d([[1000, 0, -1000]]);
    const loss = (await crossEntropy(big, [0]).data())[0] as number;
    expect(loss).toBeCloseTo(0, 6);
    expect(Number.isFinite((await crossEntropy(big, [1]).data())[0])).toBe(true);
  });

  it("one class: loss 0 and gradient 0 (a first chunk of a single class), where tf.oneHot would refuse", async () => {
    const z = tf.tensor2d([[3], [-2]]);
    expect((await crossEntropy(z, [0, 0]).data())[0]).toBe(0);
    expect(Array.from(await tf.grad((t) => crossEntropy(t, [0, 0]))(z).data())).toEqual([0, 0]);
  });
});
