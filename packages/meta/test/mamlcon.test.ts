import { beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { RandomStream, disposeTree, type ParamTree } from "@mnemo/core";
import { type ClassEpisode, type InnerStepInfo, Maml, MamlCon, type MamlConOptions } from "../src/index.js";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

const D = 8;
const MAX_CLASSES = 20;

/** A linear classifier whose logits are the first n of MAX_CLASSES outputs (the reference's per-class heads). */
const logits = (p: ParamTree, x: tf.Tensor, n: number): tf.Tensor =>
  tf.slice(tf.add(tf.matMul(x as tf.Tensor2D, p["head.w"] as tf.Tensor2D), p["head.b"] as tf.Tensor), [0, 0], [-1, n]);

function initParams(seed: number): ParamTree {
  const rng = new RandomStream(seed);
  return { "head.w": tf.tensor2d(rng.fillNormal(new Float32Array(D * MAX_CLASSES), 0, 0.1), [D, MAX_CLASSES]), "head.b": tf.zeros([MAX_CLASSES]) };
}

/** N Gaussian classes in D dims (means far apart), K support and Q query per class, classes interleaved. */
function episode(n: number, k: number, q: number, seed: number, spread = 0.3): ClassEpisode {
  const rng = new RandomStream(seed);
  const means = Array.from({ length: n }, () => rng.fillNormal(new Float32Array(D), 0, 2));
  const make = (per: number) => {
    const x = new Float32Array(n * per * D);
    const y = new Int32Array(n * per);
    for (let i = 0; i < per; i++) {
      for (let c = 0; c < n; c++) {
        const row = i * n + c;
        y[row] = c;
        const noise = rng.fillNormal(new Float32Array(D), 0, spread);
        for (let d = 0; d < D; d++) x[row * D + d] = (means[c] as Float32Array)[d]! + noise[d]!;
      }
    }
    return { x: tf.tensor2d(x, [n * per, D]), y };
  };
  return { support: make(k), query: make(q) };
}

const disposeEpisode = (e: ClassEpisode) => tf.dispose([e.support.x, e.query.x]);

function recorder(options: Partial<MamlConOptions>): { learner: MamlCon; steps: InnerStepInfo[] } {
  const steps: InnerStepInfo[] = [];
  const learner = new MamlCon({ logits, innerLr: 0.1, initialSteps: 3, updateSteps: 2, ...options, onInnerStep: (s) => steps.push(s) });
  return { learner, steps };
}

describe("MAMLCon (algorithms.md §9.1 sanity tests)", () => {
  it("chunks: the first n_start classes, then n_add each, leftovers joining the last chunk", () => {
    const m = new MamlCon({ logits });
    expect(m.chunks(5)).toEqual([[0, 1, 2, 3, 4]]);
    expect(m.chunks(12)).toEqual([[0, 1, 2, 3, 4], [5, 6, 7, 8, 9, 10, 11]]);
    expect(m.chunks(8)).toEqual([[0, 1, 2, 3, 4], [5, 6, 7]]);
    expect(m.chunks(20).map((c) => c.length)).toEqual([5, 5, 5, 5]);
    expect(() => m.chunks(4)).toThrow(/at least startClasses = 5/);
  });

  it("(i) inner updates = initial + update·(chunks − 1) + 1, and (v) the logits always span the seen classes", () => {
    for (const [n, chunks] of [
      [12, 2],
      [17, 3],
      [20, 4],
    ] as const) {
      const { learner, steps } = recorder({});
      const e = episode(n, 2, 1, n);
      const params = initParams(1);
      const adapted = learner.adapt(params, e.support);
      expect(steps).toHaveLength(3 + 2 * (chunks - 1) + 1);
      for (const s of steps) expect(s.logitsWidth).toBe(s.seen);
      expect(steps.map((s) => s.seen)).toEqual([...[5, 5, 5], ...learner.chunks(n).slice(1).flatMap((c) => [Math.max(...c) + 1, Math.max(...c) + 1]), n]);
      // Every chunk step trains on that chunk's classes only.
      for (const s of steps.filter((t) => t.phase === "chunk")) {
        const chunk = new Set(learner.chunks(n)[s.chunk]);
        expect([...s.labels].every((c) => chunk.has(c))).toBe(true);
      }
      disposeTree(adapted);
      disposeTree(params);
      disposeEpisode(e);
    }
  });

  it("(ii) the template step has exactly one example per seen class: the first support example of each", () => {
    const { learner, steps } = recorder({});
    const e = episode(12, 3, 1, 7);
    const params = initParams(2);
    disposeTree(learner.adapt(params, e.support));
    const templates = steps.filter((s) => s.phase === "templates");
    expect(templates).toHaveLength(1);
    expect([...(templates[0] as InnerStepInfo).labels].sort((a, b) => a - b)).toEqual(Array.from({ length: 12 }, (_, i) => i));
    disposeTree(params);
    disposeEpisode(e);
  });

  it("(iii) without the template step it is sequential first-order MAML over the chunks", async () => {
    const e = episode(12, 3, 1, 9);
    const params = initParams(3);
    const mamlcon = new MamlCon({ logits, innerLr: 0.1, initialSteps: 3, updateSteps: 2, quickAdapt: false });
    const ours = mamlcon.adapt(params, e.support);
    // The same inner loop written with the plain MAML class, one chunk after the other.
    let current = params;
    mamlcon.chunks(12).forEach((chunk, j) => {
      const rows = [...e.support.y].flatMap((c, i) => (chunk.includes(c) ? [i] : []));
      const seen = Math.max(...chunk) + 1;
      const batch = { x: tf.gather(e.support.x, rows), y: tf.oneHot(tf.tensor1d(rows.map((i) => e.support.y[i] as number), "int32"), seen) };
      const maml = new Maml({ innerLr: 0.1, innerSteps: j === 0 ? 3 : 2, loss: (p, b) => tf.losses.softmaxCrossEntropy(b.y, logits(p, b.x, seen)) as tf.Scalar });
      current = maml.adapt(current, batch);
    });
    for (const k of ["head.w", "head.b"]) {
      const a = await (ours[k] as tf.Tensor).data();
      const b = await (current[k] as tf.Tensor).data();
      expect(Math.max(...a.map((v, i) => Math.abs(v - (b[i] as number))))).toBeLessThan(1e-6);
    }
    disposeEpisode(e);
  });

  it("(iv) with α = 0 the meta-gradient is the query loss gradient at θ, and θ is untouched", async () => {
    const e = episode(12, 2, 8, 11);
    const params = initParams(4);
    const before = await (params["head.w"] as tf.Tensor).data();
    const mamlcon = new MamlCon({ logits, innerLr: 0, initialSteps: 2, updateSteps: 1 });
    const { loss, grads } = mamlcon.metaGradient(params, [e]);
    // Direct: cross-entropy over all 12 classes on the first 5 query examples of each class.
    const rows = mamlcon.queryRows(e.query);
    expect(rows).toHaveLength(12 * 5);
    const x = tf.gather(e.query.x, rows);
    const target = tf.oneHot(tf.tensor1d(rows.map((i) => e.query.y[i] as number), "int32"), 12);
    const { value, grads: direct } = tf.valueAndGrads((w: tf.Tensor, b: tf.Tensor) => tf.losses.softmaxCrossEntropy(target, logits({ "head.w": w, "head.b": b }, x, 12)) as tf.Scalar)([
      params["head.w"] as tf.Tensor,
      params["head.b"] as tf.Tensor,
    ]);
    expect(loss).toBeCloseTo((await value.data())[0] as number, 5);
    const g = await (grads["head.w"] as tf.Tensor).data();
    const d = await (direct[0] as tf.Tensor).data();
    expect(Math.max(...g.map((v, i) => Math.abs(v - (d[i] as number))))).toBeLessThan(1e-6);
    expect(await (params["head.w"] as tf.Tensor).data()).toEqual(before);
    disposeTree(grads);
    disposeEpisode(e);
  });

  it("leaves no tensors behind in adapt, metaGradient and evaluate", () => {
    const e = episode(12, 2, 2, 13);
    const params = initParams(5);
    const mamlcon = new MamlCon({ logits, innerLr: 0.1, initialSteps: 2, updateSteps: 1 });
    const before = tf.memory().numTensors;
    disposeTree(mamlcon.adapt(params, e.support));
    disposeTree(mamlcon.metaGradient(params, [e, e]).grads);
    mamlcon.evaluate(params, e);
    expect(tf.memory().numTensors).toBe(before);
    disposeTree(params);
    disposeEpisode(e);
  });

  it("learns classes in sequence: query accuracy over all 12 classes far above chance, the template step reducing forgetting", () => {
    const params = initParams(6);
    let withTemplates = 0;
    let without = 0;
    for (let s = 0; s < 5; s++) {
      const e = episode(12, 5, 10, 100 + s);
      withTemplates += new MamlCon({ logits, innerLr: 0.5, initialSteps: 20, updateSteps: 20, quickAdapt: true }).evaluate(params, e) / 5;
      without += new MamlCon({ logits, innerLr: 0.5, initialSteps: 20, updateSteps: 20, quickAdapt: false }).evaluate(params, e) / 5;
      disposeEpisode(e);
    }
    console.log(`MAMLCon inner loop, 12 classes in 2 chunks: query accuracy ${withTemplates.toFixed(1)} % with the template step, ${without.toFixed(1)} % without`);
    expect(withTemplates).toBeGreaterThan(50); // chance: 8.3 %
    expect(withTemplates).toBeGreaterThan(without);
    disposeTree(params);
  });

  it("rejects bad settings and labels with actionable messages", () => {
    expect(() => new MamlCon({ logits, innerLr: -1 })).toThrow(/innerLr must be >= 0/);
    expect(() => new MamlCon({ logits, startClasses: 0 })).toThrow(/startClasses must be an integer >= 1/);
    const m = new MamlCon({ logits });
    const x = tf.zeros([3, D]);
    expect(() => m.adapt(initParams(7), { x, y: Int32Array.from([0, 1, 7]) })).toThrow(/class 2 has no support example/);
    x.dispose();
  });
});
