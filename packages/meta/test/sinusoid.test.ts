/**
 * Real learning: MAML on sinusoid regression (algorithms.md §2.5, §8.5.3). After a short
 * meta-training (400 of the paper's 70k iterations), one inner step on 10 support points lowers
 * the query MSE of held-out tasks, and the adapted error is well below what the same adaptation
 * gives before meta-training. (That 10 steps keep improving on 1 needs the long schedule: at 400
 * iterations 10 steps measured 2.85 vs 2.84 for one step, so it is not asserted.)
 */
import { beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { disposeTree, type ParamTree, type RandomStream, SeededRng } from "@mnemo/core";
import { createOptimizer } from "@mnemo/models";
import { type EpisodeBatch, type EpisodeData, Maml } from "../src/index.js";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

function init(rng: RandomStream): ParamTree {
  // MAML's sinusoid init (§2.5): N(0, 0.01) weights, zero biases (truncation is immaterial at this std).
  const layer = (i: number, o: number) => tf.tensor2d(rng.fillNormal(new Float32Array(i * o), 0, 0.01), [i, o]);
  return { "l1.w": layer(1, 40), "l1.b": tf.zeros([40]), "l2.w": layer(40, 40), "l2.b": tf.zeros([40]), "l3.w": layer(40, 1), "l3.b": tf.zeros([1]) };
}

const mse = (p: ParamTree, b: EpisodeBatch): tf.Scalar =>
  tf.tidy(() => {
    let h = tf.relu(tf.add(tf.matMul(b.x as tf.Tensor2D, p["l1.w"] as tf.Tensor2D), p["l1.b"] as tf.Tensor));
    h = tf.relu(tf.add(tf.matMul(h, p["l2.w"] as tf.Tensor2D), p["l2.b"] as tf.Tensor));
    const out = tf.add(tf.matMul(h, p["l3.w"] as tf.Tensor2D), p["l3.b"] as tf.Tensor);
    return tf.losses.meanSquaredError(b.y, out) as tf.Scalar;
  });

function sineTask(rng: RandomStream, k: number): EpisodeData {
  const amplitude = rng.uniform(0.1, 5);
  const phase = rng.uniform(0, Math.PI);
  const points = (n: number): EpisodeBatch => {
    const xs = Array.from({ length: n }, () => rng.uniform(-5, 5));
    return { x: tf.tensor2d(xs, [n, 1]), y: tf.tensor2d(xs.map((x) => amplitude * Math.sin(x - phase)), [n, 1]) };
  };
  return { support: points(k), query: points(k) };
}

const disposeEpisode = (e: EpisodeData) => [e.support.x, e.support.y, e.query.x, e.query.y].forEach((t) => t.dispose());

function adaptedQueryMse(maml: Maml, params: ParamTree, tasks: EpisodeData[], steps: number): number {
  return tf.tidy(() => tasks.reduce((acc, t) => acc + (mse(maml.adapt(params, t.support, steps), t.query).dataSync()[0] as number), 0) / tasks.length);
}

describe("MAML on sinusoids", () => {
  it("meta-training makes a few gradient steps on 10 points fit a new sine", () => {
    const rng = new SeededRng(0);
    const maml = new Maml({ loss: mse, innerLr: 0.1, innerSteps: 1 });
    let params = init(rng.stream("init"));
    const heldOut = Array.from({ length: 20 }, () => sineTask(rng.stream("test-tasks"), 10));
    const untrained = adaptedQueryMse(maml, params, heldOut, 1);

    const outer = createOptimizer({ name: "adam" });
    for (let it = 0; it < 400; it++) {
      const batch = Array.from({ length: 4 }, () => sineTask(rng.stream("train-tasks"), 10));
      const { grads } = maml.metaGradient(params, batch);
      const next = outer.step(params, grads, 3e-3);
      disposeTree(params);
      disposeTree(grads);
      params = next;
      batch.forEach(disposeEpisode);
    }
    const pre = adaptedQueryMse(maml, params, heldOut, 0);
    const one = adaptedQueryMse(maml, params, heldOut, 1);
    expect(one).toBeLessThan(pre); // measured 2.84 vs 3.38
    expect(one).toBeLessThan(0.75 * untrained); // measured 2.84 vs 4.50
    outer.dispose();
    disposeTree(params);
    heldOut.forEach(disposeEpisode);
  });
});
