import { describe, expect, it } from "vitest";
import { CheckpointError, MnemoError, ShapeError } from "@mnemo/core";
import { EmptyClassError, SimpleCil, TeenClassifier, teenCalibrate, type TeenMode, type TeenOptions } from "../src/index.js";
import { accuracy, blobCenters, dense, norm, randomOrthogonal, rotate, sampleBlobs, stream, subset, type Labelled } from "./helpers.js";

// §6.5.4: base b̂₁ = (1,0), b̂₂ = (0,1), novel p = (2,1). Raw base means of other norms, to check they are normalised.
const BASE = dense([[3, 0], [0, 0.5]]);
const NOVEL = dense([[2, 1]]);

function expectRow(actual: ArrayLike<number>, expected: number[], digits = 6): void {
  expect(actual.length).toBe(expected.length);
  expected.forEach((v, j) => expect(Math.abs(actual[j] - v)).toBeLessThan(10 ** -digits));
}

/** FSCIL-like stream: 10 base classes × 40 samples, then 3 sessions × 3-way 5-shot, overlapping blobs. */
function fscil(seed: number, dim = 12) {
  const rng = stream(seed, "teen");
  const centers = blobCenters(rng, 19, dim, 1);
  const baseClasses = [...Array(10).keys()];
  const sessions = [[10, 11, 12], [13, 14, 15], [16, 17, 18]];
  const base = sampleBlobs(rng, centers, baseClasses, dim, 40);
  const shots = sessions.map((s) => sampleBlobs(rng, centers, s, dim, 5));
  const test = sampleBlobs(rng, centers, [...baseClasses, ...sessions.flat()], dim, 30);
  return { base, shots, test, sessions };
}

function runTeen(options: TeenOptions, data: { base: Labelled; shots: Labelled[] }, map = (x: Labelled["x"]) => x): TeenClassifier {
  const t = new TeenClassifier(options);
  t.updateBase(map(data.base.x), data.base.y);
  for (const s of data.shots) t.addSession(map(s.x), s.y);
  return t;
}

describe("teenCalibrate (§6.1)", () => {
  it.each([
    [0.5, 16, [0.947213, 0.223997]],
    [0.1, 16, [0.904984, 0.40257]],
    [1, 1e-9, [0.707107, 0.707107]],
  ])("reproduces the worked example §6.5.4 to 1e-6 (alpha %s, tau %s)", (alpha, tau, expected) => {
    expectRow(teenCalibrate(NOVEL, BASE, { alpha, tau }).getRow(0), expected);
  });

  it("α = 1 gives Δ itself: (1.000000, 0.000781) at τ = 16, re-normalised", () => {
    expectRow(teenCalibrate(NOVEL, BASE, { alpha: 1, tau: 16 }).getRow(0), [1.0, 0.000781]);
  });

  it("α = 0 gives n(p): the plain normalised prototype", () => {
    expectRow(teenCalibrate(NOVEL, BASE, { alpha: 0, tau: 16 }).getRow(0), [0.894427, 0.447214]);
  });

  it("τ → ∞ (and hard_proto) picks the most cosine-similar base prototype; τ = 0 gives the uniform mean (§6.5.2)", () => {
    const rng = stream(3, "tau");
    const base = sampleBlobs(rng, new Float64Array(7 * 5), [0, 1, 2, 3, 4, 5, 6], 5, 1).x;
    const novel = sampleBlobs(rng, new Float64Array(4 * 5), [0, 1, 2, 3], 5, 1).x;
    const bHat = [...Array(7).keys()].map((b) => {
      const r = base.data.slice(b * 5, b * 5 + 5);
      return Array.from(r.map((v) => v / norm(r)));
    });
    const hard = teenCalibrate(novel, base, { alpha: 1, mode: "hard_proto" });
    const inf = teenCalibrate(novel, base, { alpha: 1, tau: Infinity });
    const big = teenCalibrate(novel, base, { alpha: 1, tau: 1e6 });
    const zero = teenCalibrate(novel, base, { alpha: 1, tau: 0 });
    const uniform = bHat.reduce((a, r) => a.map((v, j) => v + r[j] / 7), [0, 0, 0, 0, 0]);
    const uniformHat = uniform.map((v) => v / norm(uniform));
    for (let r = 0; r < 4; r++) {
      const p = novel.data.slice(r * 5, r * 5 + 5);
      const cos = bHat.map((b) => b.reduce((a, v, j) => a + v * p[j], 0) / norm(p));
      const nearest = bHat[cos.indexOf(Math.max(...cos))];
      expectRow(hard.getRow(r), nearest, 12);
      expectRow(inf.getRow(r), nearest, 12);
      expectRow(big.getRow(r), nearest, 9);
      expectRow(zero.getRow(r), uniformHat, 12);
    }
  });

  it("rejects α outside [0, 1], negative τ and mismatched dimensions", () => {
    expect(() => teenCalibrate(NOVEL, BASE, { alpha: 1.5 })).toThrow(/alpha must be in \[0, 1\]/);
    expect(() => teenCalibrate(NOVEL, BASE, { tau: -1 })).toThrow(ShapeError);
    expect(() => teenCalibrate(dense([[1, 2, 3]]), BASE)).toThrow(/same backbone/);
  });
});

describe("TeenClassifier", () => {
  it("defaults follow the official code: soft_proto, α 0.5, τ 16, T 16", () => {
    expect(new TeenClassifier().options).toEqual({ alpha: 0.5, tau: 16, mode: "soft_proto", temperature: 16 });
  });

  it("reproduces the worked example through the classifier (base prototypes stay raw)", () => {
    const t = new TeenClassifier({ alpha: 0.5, tau: 16 });
    t.updateBase(BASE, [0, 1]);
    expect(t.addSession(NOVEL, [2])).toEqual([2]);
    expectRow(t.prototype(2), [0.947213, 0.223997]);
    expect(Array.from(t.prototype(0))).toEqual([3, 0]);
    expect(t.session).toBe(1);
  });

  it("α = 0 predicts exactly like plain cosine prototypes (SimpleCIL on the same data, §6.5.1)", () => {
    const data = fscil(1);
    const teen = runTeen({ alpha: 0 }, data);
    const plain = new SimpleCil();
    plain.update(data.base.x, data.base.y);
    for (const s of data.shots) plain.update(s.x, s.y);
    const p = teen.predict(data.test.x);
    expect(Array.from(p)).toEqual(Array.from(plain.predict(data.test.x)));
    // …and calibration with α > 0 does change some predictions, so the equality above is not vacuous.
    expect(Array.from(runTeen({ alpha: 0.5 }, data).predict(data.test.x))).not.toEqual(Array.from(p));
  });

  it.each(["soft_proto", "soft_embed", "hard_proto"] as TeenMode[])(
    "calibration never changes base or earlier prototypes; session-0 predictions unaffected (%s, §6.5.3)",
    (mode) => {
      const data = fscil(2);
      const t = new TeenClassifier({ mode });
      t.updateBase(data.base.x, data.base.y);
      const baseQueries = subset(data.test, [...Array(10).keys()]);
      const session0 = Array.from(t.predict(baseQueries.x));
      for (const s of data.shots) {
        const before = new Map(t.classes().map((c) => [c, Array.from(t.prototype(c))]));
        const added = t.addSession(s.x, s.y);
        expect(added).toEqual([...new Set(s.y)].sort((a, b) => a - b));
        for (const [c, p] of before) expect(Array.from(t.prototype(c))).toEqual(p);
      }
      // Session-0 accuracy is unaffected: the base part of the final state predicts exactly as before the sessions.
      const baseOnly = new TeenClassifier({ mode });
      baseOnly.load({ ...t.state(), novelClasses: [], novelPrototypes: new Float64Array(0), novelSessions: [] });
      expect(Array.from(baseOnly.predict(baseQueries.x))).toEqual(session0);
    },
  );

  it("uses only base prototypes as the source: a session's calibration ignores earlier novel classes", () => {
    const data = fscil(4);
    const full = runTeen({ alpha: 0.7, tau: 4 }, data);
    const last = data.shots[2];
    const lastMeans = dense(data.sessions[2].map((c) => {
      const rows = subset(last, [c]);
      const m = new Array(rows.x.cols).fill(0);
      for (let i = 0; i < rows.x.rows; i++) for (let j = 0; j < rows.x.cols; j++) m[j] += rows.x.data[i * rows.x.cols + j] / rows.x.rows;
      return m;
    }));
    const baseMeans = dense([...Array(10).keys()].map((c) => Array.from(full.prototype(c))));
    const expected = teenCalibrate(lastMeans, baseMeans, { alpha: 0.7, tau: 4 });
    data.sessions[2].forEach((c, k) => expectRow(full.prototype(c), expected.getRow(k), 12));
  });

  it.each(["soft_proto", "soft_embed", "hard_proto"] as TeenMode[])("is invariant to a rotation of all features (%s, §6.5.5)", (mode) => {
    const data = fscil(5);
    const q = randomOrthogonal(stream(5, "rotation"), 12);
    const plain = runTeen({ mode }, data);
    const rotated = runTeen({ mode }, data, (x) => rotate(x, q));
    const p = plain.predict(data.test.x);
    expect(accuracy(p, data.test.y)).toBeLessThan(0.95);
    expect(Array.from(rotated.predict(rotate(data.test.x, q)))).toEqual(Array.from(p));
  });

  it("hard_proto equals soft_proto with τ = ∞; soft_embed equals soft_proto with one shot per class", () => {
    const data = fscil(6);
    const a = runTeen({ mode: "hard_proto", alpha: 0.3 }, data);
    const b = runTeen({ mode: "soft_proto", alpha: 0.3, tau: Infinity }, data);
    expect(a.prototypes().prototypes.to2DArray()).toEqual(b.prototypes().prototypes.to2DArray());
    const oneShot = { base: data.base, shots: data.shots.map(firstShots) };
    const e = runTeen({ mode: "soft_embed" }, oneShot);
    const p = runTeen({ mode: "soft_proto" }, oneShot);
    for (const c of data.sessions.flat()) expectRow(e.prototype(c), Array.from(p.prototype(c)), 12);
    // With five shots soft_embed averages per-shot calibrations, which differs from calibrating the mean.
    const e5 = runTeen({ mode: "soft_embed" }, data);
    const p5 = runTeen({ mode: "soft_proto" }, data);
    expect(Array.from(e5.prototype(10))).not.toEqual(Array.from(p5.prototype(10)));
  });

  it("logits are temperature × cosine and their argmax is predict()", () => {
    const data = fscil(7);
    const t = runTeen({ temperature: 32 }, data);
    const { classes, logits } = t.logits(data.test.x);
    expect(logits.max()).toBeLessThanOrEqual(32 + 1e-9);
    const pred = t.predict(data.test.x);
    for (let i = 0; i < data.test.x.rows; i++) expect(classes[logits.maxRowIndex(i)[1]]).toBe(pred[i]);
  });

  it("state()/load() round-trip keeps prototypes, sessions and τ = ∞", () => {
    const data = fscil(8);
    const t = runTeen({ tau: Infinity, alpha: 0.2 }, data);
    const state = structuredClone(t.state());
    expect(JSON.parse(JSON.stringify(state.options))).toEqual({ alpha: 0.2, tau: "Infinity", mode: "soft_proto", temperature: 16 });
    const r = TeenClassifier.fromState(state);
    expect(r.options.tau).toBe(Infinity);
    expect(r.session).toBe(3);
    expect(Array.from(r.predict(data.test.x))).toEqual(Array.from(t.predict(data.test.x)));
    expect(() => new TeenClassifier().load(state)).toThrow(CheckpointError);
    expect(() => TeenClassifier.fromState({ ...state, novelSessions: [1] })).toThrow(CheckpointError);
  });

  describe("errors", () => {
    it("addSession before any base data is an EmptyClassError", () => {
      expect(() => new TeenClassifier().addSession(NOVEL, [2])).toThrow(EmptyClassError);
    });
    it("a session may only bring new classes", () => {
      const t = new TeenClassifier();
      t.updateBase(BASE, [0, 1]);
      expect(() => t.addSession(NOVEL, [1])).toThrow(/class 1 already has a prototype/);
    });
    it("base prototypes are closed once sessions start", () => {
      const t = new TeenClassifier();
      t.updateBase(BASE, [0, 1]);
      t.addSession(NOVEL, [2]);
      const err = (() => {
        try {
          t.updateBase(BASE, [0, 1]);
        } catch (e) {
          return e;
        }
      })();
      expect(err).toBeInstanceOf(MnemoError);
      expect((err as MnemoError).code).toBe("BASE_CLOSED");
    });
    it("dimension mismatch and unknown classes are reported", () => {
      const t = new TeenClassifier();
      t.updateBase(BASE, [0, 1]);
      expect(() => t.addSession(dense([[1, 2, 3]]), [5])).toThrow(ShapeError);
      expect(() => t.predict(dense([[1, 2, 3]]))).toThrow(/3 columns but the classifier holds 2-d/);
      expect(() => t.prototype(42)).toThrow(/class 42 is unknown/);
      expect(() => new TeenClassifier({ mode: "soft" as TeenMode })).toThrow(/TEEN mode "soft"/);
    });
  });
});

function firstShots(s: Labelled): Labelled {
  const seen = new Set<number>();
  const idx = [...s.y.keys()].filter((i) => (seen.has(s.y[i]) ? false : (seen.add(s.y[i]), true)));
  const d = s.x.cols;
  const data = new Float64Array(idx.length * d);
  idx.forEach((i, k) => data.set(s.x.data.subarray(i * d, (i + 1) * d), k * d));
  return { x: { data, rows: idx.length, cols: d }, y: Int32Array.from(idx.map((i) => s.y[i])) };
}
