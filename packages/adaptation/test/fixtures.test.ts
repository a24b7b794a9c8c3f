/** The worked fixtures of shared/reference/self-training-tta.md §5 (F4–F9) as tests. */
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { type ParamTree, SeededRng } from "@mnemo/core";
import { mlp } from "@mnemo/models";
import { cottaTarget, cottaWeightUpdate, createAdapter, emaUpdate, meanEntropy, restoreMask, restoreValues, softTargetCrossEntropy, stochasticRestore } from "../src/index.js";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

const close = (actual: ArrayLike<number>, expected: readonly number[], digits = 5): void => {
  expect(actual.length).toBe(expected.length);
  expected.forEach((e, i) => expect(actual[i] as number).toBeCloseTo(e, digits));
};

/** mulberry32 as the reference's F6 defines it (a test-only generator: Mnemo draws from xoshiro streams). */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t = (t + Math.imul(t ^ (t >>> 7), t | 61)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A uniform source that makes the restore mask equal `mask` (u = 0 restores, u = 1 keeps). */
const maskSource = (mask: readonly number[]) => {
  let i = 0;
  return () => (mask[i++ % mask.length] === 1 ? 0 : 1);
};

describe("F4 CoTTA order: step → EMA → restore", () => {
  const w0 = [1, -2, 0.5, 3];
  const deltas = [
    [0.2, 0.2, -0.1, -0.5],
    [0.3, 0.1, -0.4, -0.5],
  ];
  const masks = [
    [0, 1, 0, 0],
    [0, 0, 0, 1],
  ];
  const run = (alpha: number) => {
    const source = { w: tf.tensor1d(w0) };
    let student: ParamTree = { w: tf.tensor1d(w0) };
    let teacher: ParamTree = { w: tf.tensor1d(w0) };
    const out: { stepped: number[]; teacher: number[]; restored: number[] }[] = [];
    deltas.forEach((d, s) => {
      const stepped = { w: tf.add(student.w!, tf.tensor1d(d)) };
      const next = cottaWeightUpdate(stepped, teacher, source, alpha, 0.01, maskSource(masks[s] as number[]));
      out.push({ stepped: Array.from(stepped.w.dataSync()), teacher: Array.from(next.teacher.w.dataSync()), restored: Array.from(next.student.w.dataSync()) });
      student = next.student;
      teacher = next.teacher;
    });
    return out;
  };

  it("matches the reference values at α = 0.999", () => {
    const [s1, s2] = run(0.999);
    close(s1!.stepped, [1.2, -1.8, 0.4, 2.5]);
    close(s1!.teacher, [1.0002, -1.9998, 0.4999, 2.9995]);
    close(s1!.restored, [1.2, -2.0, 0.4, 2.5]);
    close(s2!.stepped, [1.5, -1.9, 0.0, 2.0]);
    close(s2!.teacher, [1.0006998, -1.9997002, 0.4994001, 2.9985005]);
    close(s2!.restored, [1.5, -1.9, 0.0, 3.0]);
    // Restoring before the EMA would give teacher [1.0006998 -1.9999 0.4994001 2.9995005].
    expect(s2!.teacher[1]).not.toBeCloseTo(-1.9999, 5);
  });

  it("matches the reference teacher at α = 0.99", () => {
    close(run(0.99)[1]!.teacher, [1.00698, -1.99702, 0.49401, 2.98505]);
  });

  it("emaUpdate is α·teacher + (1 − α)·student", () => {
    const t = emaUpdate({ w: tf.tensor1d([1, 2]) }, { w: tf.tensor1d([3, 6]) }, 0.75);
    close(t.w!.dataSync(), [1.5, 3]);
  });
});

describe("F5 / F6 restore mask", () => {
  it("F5: strict u < p, restores the masked entries", () => {
    const mask = restoreMask([0.005, 0.5, 0.0099, 0.01, 0.9, 0.0001], 0.01);
    expect(Array.from(mask)).toEqual([1, 0, 1, 0, 0, 1]);
    expect(Array.from(restoreValues([10, 20, 30, 40, 50, 60], [1, 2, 3, 4, 5, 6], mask))).toEqual([1, 20, 3, 40, 50, 6]);
    const u = [0.005, 0.5, 0.0099, 0.01, 0.9, 0.0001];
    let i = 0;
    const restored = stochasticRestore({ w: tf.tensor1d([10, 20, 30, 40, 50, 60]) }, { w: tf.tensor1d([1, 2, 3, 4, 5, 6]) }, 0.01, () => u[i++] as number);
    expect(Array.from(restored.w!.dataSync())).toEqual([1, 20, 3, 40, 50, 6]);
  });

  it("F6: the seeded mask of mulberry32(42) over 10 000 weights", () => {
    const probe = mulberry32(42);
    close(Array.from({ length: 8 }, probe), [0.6011037519201636, 0.44829055899754167, 0.8524657934904099, 0.6697340414393693, 0.17481389874592423, 0.5265925421845168, 0.2732279943302274, 0.6247446539346129], 15);
    const restored = stochasticRestore({ w: tf.ones([100, 100]) }, { w: tf.zeros([100, 100]) }, 0.01, mulberry32(42));
    const values = restored.w!.dataSync();
    const idx: number[] = [];
    values.forEach((v, k) => {
      if (v === 0) idx.push(k);
    });
    expect(idx.length).toBe(90);
    expect(idx.slice(0, 5)).toEqual([18, 120, 251, 478, 500]);
  });

  it("the same seed gives the same mask, another seed another one", () => {
    const draw = (seed: number) => {
      const s = new SeededRng(seed).stream("tta/cotta/restore");
      return Array.from(stochasticRestore({ w: tf.ones([2000]) }, { w: tf.zeros([2000]) }, 0.01, () => s.next()).w!.dataSync());
    };
    expect(draw(3)).toEqual(draw(3));
    expect(draw(3)).not.toEqual(draw(4));
  });
});

describe("F7 CoTTA gated target", () => {
  const anchor = () => tf.tensor2d([[2, 0, 0], [0, 1, 0]]);
  const teacher = () => tf.tensor2d([[1.5, 0.5, 0], [0.2, 0.4, 0.1]]);
  const aug = () => [
    tf.tensor2d([[1, 0.8, 0], [0.1, 0.9, 0]]),
    tf.tensor2d([[2, 0.2, 0.1], [0, 0.5, 0.3]]),
    tf.tensor2d([[1.2, 0.6, 0.3], [0.4, 0.2, 0.2]]),
    tf.tensor2d([[1.8, 0.4, 0.2], [0.3, 0.6, 0.1]]),
  ];
  const student = () => tf.tensor2d([[1, 0, 0.5], [0, 0.3, 0.3]]);

  it("p_th = 0.92: the augmentation average of logits (softmax after)", () => {
    let called = 0;
    const t = cottaTarget(anchor(), teacher(), 0.92, () => (called++, aug()));
    expect(called).toBe(1);
    expect(t.augmented).toBe(true);
    expect(t.anchorConfidence).toBeCloseTo(0.681551, 6);
    close(t.target.dataSync(), [1.5, 0.5, 0.15, 0.2, 0.55, 0.15]);
    close(tf.softmax(t.target).dataSync(), [0.614583, 0.226092, 0.159325, 0.29671, 0.421051, 0.282239], 6);
    expect(softTargetCrossEntropy(t.target, student()).dataSync()[0]).toBeCloseTo(1.041647, 6);
    expect(Array.from(tf.argMax(t.target, 1).dataSync())).toEqual([0, 1]);
    // Averaging probabilities instead would give [0.604911 ...]: not what the target is.
    expect(tf.softmax(t.target).dataSync()[0]).not.toBeCloseTo(0.604911, 4);
  });

  it("p_th = 0.5: the teacher's own logits, no augmentation computed", () => {
    const t = cottaTarget(anchor(), teacher(), 0.5, () => {
      throw new Error("augmentations must not run when the anchor is confident");
    });
    expect(t.augmented).toBe(false);
    close(tf.softmax(t.target).dataSync(), [0.628532, 0.231224, 0.140244, 0.319873, 0.390694, 0.289433], 6);
    expect(softTargetCrossEntropy(t.target, student()).dataSync()[0]).toBeCloseTo(1.042917, 6);
  });
});

describe("F8 Tent entropy", () => {
  it("loss and its gradient", () => {
    const z = tf.tensor2d([[2, 1, 0], [0.5, 0.5, 0.5]]);
    expect(meanEntropy(z).dataSync()[0]).toBeCloseTo(0.965504, 6);
    const g = tf.grad((x: tf.Tensor) => meanEntropy(x as tf.Tensor2D))(z);
    close(g.dataSync(), [-0.141294, 0.070385, 0.070909, 0, 0, 0], 6);
  });
});

describe("F9 BN adaptation", () => {
  // A 1-unit MLP with BN: x → fc (1·x + 0) → BN(γ 2, β 0.5) → ReLU → head (1·h + 0).
  const model = () => {
    const backbone = mlp({ inputShape: [1, 1, 1], hidden: [1], batchNorm: true });
    const { state } = backbone.init(new SeededRng(0).stream("init"), 1);
    const params = {
      "fc0.weight": tf.tensor2d([[1]]),
      "fc0.bias": tf.zeros([1]),
      "fc0.bn.gamma": tf.tensor1d([2]),
      "fc0.bn.beta": tf.tensor1d([0.5]),
      "head.weight": tf.tensor2d([[1]]),
      "head.bias": tf.zeros([1]),
    };
    return { backbone, params, state };
  };
  const x = () => tf.tensor4d([1, 2, 3, 6], [4, 1, 1, 1]);

  it("bn normalises with the batch's mean 3 and biased variance 3.5", () => {
    const logits = createAdapter({ name: "bn" }, model(), new SeededRng(0)).step(x());
    close(logits.dataSync(), [0, 0, 0.5, 3.70713], 5); // ReLU of [−1.638087, −0.569043, 0.5, 3.707130]
  });

  it("source uses the running statistics (0, 1)", () => {
    const logits = createAdapter({ name: "source" }, model(), new SeededRng(0)).step(x());
    close(logits.dataSync(), [1, 2, 3, 6].map((v) => 2 * (v / Math.sqrt(1 + 1e-5)) + 0.5), 5);
  });
});
