import { describe, expect, it } from "vitest";
import { Matrix } from "ml-matrix";
import { CheckpointError, ShapeError } from "@mnemo/core";
import { EmptyClassError, NMC_PRESETS, NearestMeanClassifier, UnknownClassError, type NmcOptions } from "../src/index.js";
import { accuracy, blobCenters, dense, norm, randomOrthogonal, rotate, sampleBlobs, stream, subset } from "./helpers.js";

const PRESETS = Object.entries(NMC_PRESETS) as [string, NmcOptions][];
const ALL_CLASSES = [0, 1, 2, 3, 4, 5];

function blobs(seed = 1) {
  const rng = stream(seed);
  const centers = blobCenters(rng, 6, 8);
  return { train: sampleBlobs(rng, centers, ALL_CLASSES, 8, 50), test: sampleBlobs(rng, centers, ALL_CLASSES, 8, 50) };
}

function mean(rows: Float64Array[], d: number): Float64Array {
  const m = new Float64Array(d);
  for (const r of rows) for (let j = 0; j < d; j++) m[j] += r[j] / rows.length;
  return m;
}

function rowsOf(set: { x: { data: Float64Array; cols: number; rows: number }; y: Int32Array }, label: number): Float64Array[] {
  const d = set.x.cols;
  return [...set.y.keys()].filter((i) => set.y[i] === label).map((i) => set.x.data.slice(i * d, (i + 1) * d));
}

describe("NearestMeanClassifier", () => {
  it.each(PRESETS)("separated Gaussian blobs give accuracy 1.0 (%s, §4 sanity 1)", (_name, options) => {
    const { train, test } = blobs();
    const nmc = new NearestMeanClassifier(options);
    nmc.update(train.x, train.y);
    expect(accuracy(nmc.predict(test.x), test.y)).toBe(1);
  });

  it("defaults to the PyCIL NME variant", () => {
    expect(new NearestMeanClassifier().options).toEqual(NMC_PRESETS.pycil);
  });

  it.each([
    ["raw means", { normalizeFeatures: false, renormalizeMean: false }],
    ["normalised means", { normalizeFeatures: true, renormalizeMean: true }],
  ] as const)("running sums over several batches equal the mean of all data (%s)", (_n, options) => {
    const { train } = blobs(3);
    const nmc = new NearestMeanClassifier(options);
    // Unequal batch sizes, each batch mixing classes.
    const cuts = [0, 7, 60, 61, 200, train.x.rows];
    const d = train.x.cols;
    for (let b = 0; b + 1 < cuts.length; b++) {
      const [s, e] = [cuts[b], cuts[b + 1]];
      nmc.update({ data: train.x.data.subarray(s * d, e * d), rows: e - s, cols: d }, train.y.subarray(s, e));
    }
    for (const c of ALL_CLASSES) {
      const rows = rowsOf(train, c).map((r) => (options.normalizeFeatures ? r.map((v) => v / norm(r)) : r));
      let expected = mean(rows, d);
      if (options.renormalizeMean) expected = expected.map((v) => v / norm(expected));
      const got = nmc.mean(c);
      expected.forEach((v, j) => expect(got[j]).toBeCloseTo(v, 12));
      expect(nmc.count(c)).toBe(50);
    }
  });

  it.each(PRESETS)("final predictions do not depend on class order (%s, §4 sanity 2)", (_name, options) => {
    const { train, test } = blobs(5);
    const orderA = [[0, 1], [2, 3], [4, 5]];
    const orderB = [[5, 2], [0], [3, 4, 1]];
    const fitIn = (order: number[][]) => {
      const nmc = new NearestMeanClassifier(options);
      for (const task of order) {
        const t = subset(train, task);
        nmc.update(t.x, t.y);
      }
      return nmc;
    };
    const a = fitIn(orderA);
    const b = fitIn(orderB);
    expect(a.classes()).toEqual(b.classes());
    expect(Array.from(a.predict(test.x))).toEqual(Array.from(b.predict(test.x)));
    // Same as joint training on all classes at once.
    const joint = new NearestMeanClassifier(options);
    joint.update(train.x, train.y);
    expect(Array.from(joint.predict(test.x))).toEqual(Array.from(a.predict(test.x)));
  });

  it.each(PRESETS)("rotating every feature by an orthogonal matrix leaves predictions unchanged (%s)", (_name, options) => {
    const rng = stream(11, "rotation");
    // Overlapping blobs so that many predictions are wrong: invariance must hold for errors too.
    const centers = blobCenters(rng, 5, 16, 1);
    const train = sampleBlobs(rng, centers, [0, 1, 2, 3, 4], 16, 20);
    const test = sampleBlobs(rng, centers, [0, 1, 2, 3, 4], 16, 100);
    const q = randomOrthogonal(rng, 16);
    const plain = new NearestMeanClassifier(options);
    plain.update(train.x, train.y);
    const rotated = new NearestMeanClassifier(options);
    rotated.update(rotate(train.x, q), train.y);
    const p = plain.predict(test.x);
    expect(accuracy(p, test.y)).toBeLessThan(0.95);
    expect(Array.from(rotated.predict(rotate(test.x, q)))).toEqual(Array.from(p));
  });

  it.each(PRESETS)("fast predict() agrees with the argmax of the plain scores() (%s; odd rows, 7 classes)", (_name, options) => {
    const rng = stream(12, "fastpath");
    const centers = blobCenters(rng, 7, 9, 0.7);
    const train = sampleBlobs(rng, centers, [0, 1, 2, 3, 4, 5, 6], 9, 10);
    const test = subset(sampleBlobs(rng, centers, [0, 1, 2, 3, 4, 5, 6], 9, 29), [0, 1, 2, 3, 4, 5, 6]);
    expect(test.x.rows % 2).toBe(1);
    const nmc = new NearestMeanClassifier(options);
    nmc.update(train.x, train.y);
    const pred = nmc.predict(test.x);
    const { classes, scores } = nmc.scores(test.x);
    expect(accuracy(pred, test.y)).toBeLessThan(0.95);
    for (let i = 0; i < test.x.rows; i++) expect(pred[i]).toBe(classes[scores.maxRowIndex(i)[1]]);
  });

  it("one sample per class is 1-NN over those samples (§4 sanity 3)", () => {
    const rng = stream(2, "1nn");
    const protos = sampleBlobs(rng, new Float64Array(4 * 6), [0, 1, 2, 3], 6, 1, 1);
    const queries = sampleBlobs(rng, new Float64Array(4 * 6), [0, 1, 2, 3], 6, 25, 1);
    const nmc = new NearestMeanClassifier({ normalizeFeatures: false, renormalizeMean: false, metric: "euclidean" });
    nmc.update(protos.x, protos.y);
    for (let c = 0; c < 4; c++) expect(Array.from(nmc.mean(c))).toEqual(Array.from(protos.x.data.subarray(c * 6, c * 6 + 6)));
    const pred = nmc.predict(queries.x);
    for (let i = 0; i < queries.x.rows; i++) {
      const q = queries.x.data.subarray(i * 6, i * 6 + 6);
      const dists = [0, 1, 2, 3].map((c) => norm(q.map((v, j) => v - protos.x.data[c * 6 + j])));
      expect(pred[i]).toBe(dists.indexOf(Math.min(...dists)));
    }
  });

  it("normalised-Euclidean NMC equals cosine NMC when all means have equal norm, and differs otherwise (§4 sanity 4)", () => {
    const { train, test } = blobs(9);
    const euclid = new NearestMeanClassifier({ normalizeFeatures: true, renormalizeMean: true, metric: "sqeuclidean" });
    const cosine = new NearestMeanClassifier({ normalizeFeatures: true, renormalizeMean: true, metric: "cosine" });
    euclid.update(train.x, train.y);
    cosine.update(train.x, train.y);
    expect(Array.from(euclid.predict(test.x))).toEqual(Array.from(cosine.predict(test.x)));

    // Unequal norms: class 0 mean (1,0) (norm 1), class 1 mean 0.3·n(1,1) (norm 0.3). The unit query at 30° is
    // closer in angle to class 1 (15° vs 30°) but closer in Euclidean distance to class 0 (‖·‖² 0.268 vs 0.510).
    const means = dense([[1, 0], [0.3 / Math.SQRT2, 0.3 / Math.SQRT2]]);
    const janson = new NearestMeanClassifier(NMC_PRESETS.simpleBaseline);
    const simplecil = new NearestMeanClassifier(NMC_PRESETS.simplecil);
    // Janson normalises each feature before averaging: feed two unit vectors per class whose mean is the wanted mean.
    const a = Math.acos(0.3);
    const feats = dense([
      [1, 0], [1, 0],
      [Math.cos(Math.PI / 4 - a), Math.sin(Math.PI / 4 - a)], [Math.cos(Math.PI / 4 + a), Math.sin(Math.PI / 4 + a)],
    ]);
    janson.update(feats, [0, 0, 1, 1]);
    simplecil.update(feats, [0, 0, 1, 1]);
    expect(Array.from(janson.mean(1))[0]).toBeCloseTo(means.data[2], 12);
    const query = dense([[Math.cos(Math.PI / 6), Math.sin(Math.PI / 6)]]);
    expect(janson.predict(query)[0]).toBe(0);
    expect(simplecil.predict(query)[0]).toBe(1);
  });

  it("adding new classes never changes the means of old classes (§4 sanity 5)", () => {
    const { train } = blobs(4);
    const nmc = new NearestMeanClassifier();
    const first = subset(train, [0, 1, 2]);
    nmc.update(first.x, first.y);
    const before = [0, 1, 2].map((c) => Array.from(nmc.mean(c)));
    const second = subset(train, [3, 4, 5]);
    nmc.update(second.x, second.y);
    expect([0, 1, 2].map((c) => Array.from(nmc.mean(c)))).toEqual(before);
  });

  it("flip averaging: each sample contributes (n(φ(x)) + n(φ(flip x)))/2, then the mean is re-normalised (iCaRL)", () => {
    const x = dense([[3, 4], [0, 2]]);
    const flipped = dense([[4, 3], [2, 0]]);
    const nmc = new NearestMeanClassifier(NMC_PRESETS.icarl);
    nmc.update(x, [7, 7], { flipped });
    // Per sample: ((0.6,0.8)+(0.8,0.6))/2 = (0.7,0.7); ((0,1)+(1,0))/2 = (0.5,0.5); mean (0.6,0.6) → n = (0.7071, 0.7071).
    const m = nmc.mean(7);
    expect(m[0]).toBeCloseTo(Math.SQRT1_2, 12);
    expect(m[1]).toBeCloseTo(Math.SQRT1_2, 12);
    const raw = new NearestMeanClassifier({ normalizeFeatures: false, renormalizeMean: false });
    raw.update(x, [7, 7], { flipped });
    expect(Array.from(raw.mean(7))).toEqual([2.25, 2.25]);
    // Prediction with flipped queries uses the same averaging.
    const two = new NearestMeanClassifier(NMC_PRESETS.icarl);
    two.update(dense([[1, 0], [0, 1]]), [0, 1]);
    expect(Array.from(two.predict(dense([[1, 0.2]]), { flipped: dense([[0.1, 1]]) }))).toEqual([1]);
    expect(Array.from(two.predict(dense([[1, 0.2]])))).toEqual([0]);
    expect(() => nmc.update(x, [7, 7], { flipped: dense([[1, 2]]) })).toThrow(/flipped features are 1×2 but features are 2×2/);
  });

  it("fit() rebuilds every mean from the given data only (exemplars re-embedded after a backbone change)", () => {
    const nmc = new NearestMeanClassifier({ normalizeFeatures: false, renormalizeMean: false });
    nmc.update(dense([[1, 1], [5, 5]]), [0, 1]);
    nmc.fit(dense([[2, 0], [4, 0]]), [0, 0]);
    expect(nmc.classes()).toEqual([0]);
    expect(Array.from(nmc.mean(0))).toEqual([3, 0]);
    expect(() => nmc.fit(dense([[2, 0]]), [0], { classes: [0, 1] })).toThrow(EmptyClassError);
  });

  it("scores are −‖x−μ‖², −‖x−μ‖ or cos, columns in class order", () => {
    const train = dense([[1, 0], [0, 2], [3, 3]]);
    const q = dense([[1, 1], [-2, 0.5]]);
    const protos = [[1, 0], [0, 2], [3, 3]];
    for (const metric of ["sqeuclidean", "euclidean", "cosine"] as const) {
      const nmc = new NearestMeanClassifier({ normalizeFeatures: false, renormalizeMean: false, metric });
      nmc.update(train, [2, 0, 1]);
      const { classes, scores } = nmc.scores(q);
      expect(classes).toEqual([0, 1, 2]);
      expect(scores).toBeInstanceOf(Matrix);
      const byClass = [protos[1], protos[2], protos[0]];
      for (let i = 0; i < 2; i++) {
        const xi = [q.data[2 * i], q.data[2 * i + 1]];
        byClass.forEach((mu, c) => {
          const d2 = (xi[0] - mu[0]) ** 2 + (xi[1] - mu[1]) ** 2;
          const expected = metric === "sqeuclidean" ? -d2 : metric === "euclidean" ? -Math.sqrt(d2) : (xi[0] * mu[0] + xi[1] * mu[1]) / (norm(xi) * norm(mu));
          expect(scores.get(i, c)).toBeCloseTo(expected, 10);
        });
      }
    }
  });

  it("accepts ml-matrix and Float32 inputs with the same results as Float64 rows", () => {
    const { train, test } = blobs(6);
    const a = new NearestMeanClassifier();
    a.update(train.x, train.y);
    const m = new Matrix(test.x.rows, test.x.cols);
    for (let i = 0; i < test.x.rows; i++) for (let j = 0; j < test.x.cols; j++) m.set(i, j, test.x.data[i * test.x.cols + j]);
    expect(Array.from(a.predict(m))).toEqual(Array.from(a.predict(test.x)));
    const f32 = { data: Float32Array.from(test.x.data), rows: test.x.rows, cols: test.x.cols };
    expect(Array.from(a.predict(f32))).toEqual(Array.from(test.y));
  });

  it("state()/load() round-trip (structured clone) reproduces predictions and running sums", () => {
    const { train, test } = blobs(8);
    const nmc = new NearestMeanClassifier(NMC_PRESETS.simpleBaseline);
    nmc.update(subset(train, [0, 1, 2]).x, subset(train, [0, 1, 2]).y);
    const state = structuredClone(nmc.state());
    const restored = NearestMeanClassifier.fromState(state);
    const loaded = new NearestMeanClassifier(NMC_PRESETS.simpleBaseline);
    loaded.load(state);
    // Continue training all three: running sums must have been restored, not just the means.
    const rest = subset(train, [0, 3, 4, 5]);
    for (const c of [nmc, restored, loaded]) c.update(rest.x, rest.y);
    const p = Array.from(nmc.predict(test.x));
    expect(Array.from(restored.predict(test.x))).toEqual(p);
    expect(Array.from(loaded.predict(test.x))).toEqual(p);
    expect(loaded.count(0)).toBe(100);
    expect(() => new NearestMeanClassifier().load(state)).toThrow(CheckpointError);
    expect(() => NearestMeanClassifier.fromState({ ...state, sums: { ...state.sums, counts: [1] } })).toThrow(CheckpointError);
    expect(() => NearestMeanClassifier.fromState({ ...state, kind: "teen" } as unknown as typeof state)).toThrow(/expected an NMC state/);
  });

  describe("errors", () => {
    const nmc = () => {
      const c = new NearestMeanClassifier();
      c.update(dense([[1, 0, 0], [0, 1, 0]]), [0, 1]);
      return c;
    };
    it("dimension mismatch on update and predict is a ShapeError naming both sizes", () => {
      expect(() => nmc().update(dense([[1, 2]]), [0])).toThrow(ShapeError);
      expect(() => nmc().predict(dense([[1, 2]]))).toThrow(/2 columns but the classifier holds 3-d prototypes/);
    });
    it("unknown class is an UnknownClassError listing the known classes", () => {
      expect(() => nmc().mean(9)).toThrow(UnknownClassError);
      expect(() => nmc().removeClass(9)).toThrow(/class 9 is unknown; known classes: \[0, 1\]/);
    });
    it("predicting with no classes is an EmptyClassError", () => {
      expect(() => new NearestMeanClassifier().predict(dense([[1]]))).toThrow(EmptyClassError);
    });
    it("label count, label values and non-finite features are checked", () => {
      expect(() => nmc().update(dense([[1, 0, 0]]), [0, 1])).toThrow(/got 2 labels for 1 feature rows/);
      expect(() => nmc().update(dense([[1, 0, 0]]), [1.5])).toThrow(ShapeError);
      expect(() => nmc().update(dense([[1, NaN, 0]]), [0])).toThrow(/row 0 contains NaN/);
      expect(() => nmc().predict(dense([[1, 0, 0], [Infinity, 0, 0]]))).toThrow(/row 1 contains Infinity/);
      expect(() => nmc().update({ data: new Float64Array(5), rows: 2, cols: 3 }, [0, 1])).toThrow(/5 values but rows × cols = 2 × 3/);
    });
    it("an unknown metric is rejected", () => {
      expect(() => new NearestMeanClassifier({ metric: "manhattan" as never })).toThrow(/metric "manhattan"/);
    });
  });
});
