import { describe, expect, it } from "vitest";
import { CheckpointError } from "@mnemo/core";
import { EmptyClassError, NMC_PRESETS, NearestMeanClassifier, SimpleCil } from "../src/index.js";
import { accuracy, blobCenters, dense, norm, randomOrthogonal, rotate, sampleBlobs, stream, subset } from "./helpers.js";

function data(seed: number) {
  const rng = stream(seed, "simplecil");
  const centers = blobCenters(rng, 8, 10, 1);
  const classes = [...Array(8).keys()];
  return { train: sampleBlobs(rng, centers, classes, 10, 30), test: sampleBlobs(rng, centers, classes, 10, 40) };
}

describe("SimpleCil", () => {
  it("separated blobs give accuracy 1.0", () => {
    const rng = stream(1);
    const centers = blobCenters(rng, 6, 8);
    const s = new SimpleCil();
    const train = sampleBlobs(rng, centers, [0, 1, 2, 3, 4, 5], 8, 50);
    s.update(train.x, train.y);
    const test = sampleBlobs(rng, centers, [0, 1, 2, 3, 4, 5], 8, 50);
    expect(accuracy(s.predict(test.x), test.y)).toBe(1);
  });

  it("weights are the normalised raw class means, loadable into a cosine head: σ·n(x)·Wᵀ = logits", () => {
    const { train, test } = data(2);
    const s = new SimpleCil({ scale: 4 });
    s.update(train.x, train.y);
    const { classes, weights, scale } = s.weights();
    const { means } = s.means();
    expect(classes).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    for (let c = 0; c < classes.length; c++) {
      const m = means.getRow(c);
      weights.getRow(c).forEach((v, j) => expect(v).toBeCloseTo(m[j] / norm(m), 12));
    }
    const { logits } = s.logits(test.x);
    for (let i = 0; i < 5; i++) {
      const x = Array.from(test.x.data.subarray(i * 10, i * 10 + 10));
      for (let c = 0; c < classes.length; c++) {
        const cos = weights.getRow(c).reduce((a, w, j) => a + w * x[j], 0) / norm(x);
        expect(logits.get(i, c)).toBeCloseTo(scale * cos, 10);
      }
    }
    const pred = s.predict(test.x);
    for (let i = 0; i < test.x.rows; i++) expect(classes[logits.maxRowIndex(i)[1]]).toBe(pred[i]);
  });

  it("equals NMC with the simplecil preset, is rotation invariant and class-order invariant", () => {
    const { train, test } = data(3);
    const s = new SimpleCil();
    s.update(train.x, train.y);
    const nmc = new NearestMeanClassifier(NMC_PRESETS.simplecil);
    nmc.update(train.x, train.y);
    const p = Array.from(s.predict(test.x));
    expect(accuracy(p, test.y)).toBeLessThan(0.95);
    expect(Array.from(nmc.predict(test.x))).toEqual(p);

    const q = randomOrthogonal(stream(3, "rot"), 10);
    const r = new SimpleCil();
    r.update(rotate(train.x, q), train.y);
    expect(Array.from(r.predict(rotate(test.x, q)))).toEqual(p);

    const ordered = new SimpleCil();
    for (const task of [[7, 3], [1, 0, 5], [2, 6, 4]]) {
      const t = subset(train, task);
      ordered.update(t.x, t.y);
    }
    expect(Array.from(ordered.predict(test.x))).toEqual(p);
  });

  it("old class weights do not change when new classes arrive", () => {
    const { train } = data(4);
    const s = new SimpleCil();
    const a = subset(train, [0, 1, 2, 3]);
    s.update(a.x, a.y);
    const before = s.weights().weights.to2DArray();
    const b = subset(train, [4, 5, 6, 7]);
    s.update(b.x, b.y);
    expect(s.weights().weights.to2DArray().slice(0, 4)).toEqual(before);
  });

  it("state()/load() round-trip; errors are typed", () => {
    const { train, test } = data(5);
    const s = new SimpleCil();
    s.update(train.x, train.y);
    const r = SimpleCil.fromState(structuredClone(s.state()));
    expect(Array.from(r.predict(test.x))).toEqual(Array.from(s.predict(test.x)));
    expect(() => new SimpleCil({ scale: 2 }).load(s.state())).toThrow(CheckpointError);
    expect(() => new SimpleCil().predict(test.x)).toThrow(EmptyClassError);
    expect(() => s.predict(dense([[1, 2]]))).toThrow(/2 columns but the classifier holds 10-d/);
    expect(() => s.removeClass(99)).toThrow(/class 99 is unknown/);
    expect(() => new SimpleCil({ scale: 0 })).toThrow(/scale must be/);
  });
});
