import { describe, expect, it } from "vitest";
import { CheckpointError, ShapeError } from "@mnemo/core";
import { ClassBalancedBuffer, GDumbBuffer, HerdingMemory, ReservoirBuffer, type ReplayBatch, type SampleBatchInput } from "../src/index.js";
import { BYTES, idOf, image, images, SHAPE, shuffledLabels } from "./helpers.js";

const FIELDS = { logits: { type: "float32", width: 3 }, task: { type: "int32", width: 1 } } as const;

/** A batch of ids with DER++-style fields derived from the id, so stored fields can be checked. */
function batchOf(ids: number[], labelOf: (id: number) => number): SampleBatchInput {
  return {
    images: images(ids),
    labels: ids.map(labelOf),
    fields: { logits: Float32Array.from(ids.flatMap((id) => [id, id + 0.5, -id])), task: Int32Array.from(ids.map((id) => id % 4)) },
  };
}

/** JSON round trip of the metadata plus copies of the arrays, as a checkpoint writer would do. */
function throughCheckpoint<S extends { meta: unknown; layout: unknown; arrays: unknown }>(state: S): S {
  return { ...state, meta: JSON.parse(JSON.stringify(state.meta)), layout: JSON.parse(JSON.stringify(state.layout)) };
}

function snapshot(batch: ReplayBatch, n: number): unknown {
  return {
    images: [...batch.images.subarray(0, n * BYTES)],
    labels: [...batch.labels.subarray(0, n)],
    slots: [...batch.slots.subarray(0, n)],
  };
}

describe("slab storage and sampling", () => {
  it("samples b distinct stored slots and copies image, label and fields of each", () => {
    const buf = new ReservoirBuffer({ sampleShape: SHAPE, fields: FIELDS, capacity: 50, seed: 3 });
    buf.addBatch(batchOf([...Array(200).keys()], (id) => id % 10));
    const out = buf.createBatch(32);
    for (let rep = 0; rep < 50; rep++) {
      expect(buf.sample(32, out)).toBe(32);
      expect(new Set(out.slots).size).toBe(32);
      for (let i = 0; i < 32; i++) {
        const slot = out.slots[i]!;
        const id = idOf(out.images.subarray(i * BYTES, (i + 1) * BYTES));
        expect(out.images.subarray(i * BYTES, (i + 1) * BYTES)).toEqual(buf.imageAt(slot));
        expect(out.labels[i]).toBe(id % 10);
        expect([...out.fields.logits!.subarray(i * 3, i * 3 + 3)]).toEqual([id, id + 0.5, -id]);
        expect(out.fields.task![i]).toBe(id % 4);
      }
    }
  });

  it("draws slots uniformly: each of 40 slots appears with frequency b/size", () => {
    const buf = new ReservoirBuffer({ sampleShape: SHAPE, capacity: 40, seed: 8 });
    buf.addBatch({ images: images([...Array(40).keys()]), labels: new Array(40).fill(0) });
    const out = buf.createBatch(10);
    const draws = 8000;
    const hits = new Array<number>(40).fill(0);
    for (let r = 0; r < draws; r++) {
      buf.sample(10, out);
      for (const s of out.slots) hits[s]! += 1;
    }
    const p = 10 / 40;
    const se = Math.sqrt((p * (1 - p)) / draws);
    for (const h of hits) expect(Math.abs(h / draws - p)).toBeLessThan(3.5 * se);
  });

  it("returns min(b, size) rows when the buffer holds fewer than b samples", () => {
    const buf = new ReservoirBuffer({ sampleShape: SHAPE, capacity: 50, seed: 1 });
    const out = buf.createBatch(32);
    expect(buf.sample(32, out)).toBe(0);
    buf.addBatch({ images: images([0, 1, 2, 3, 4]), labels: [0, 0, 0, 0, 0] });
    expect(buf.sample(32, out)).toBe(5);
    expect([...out.slots.subarray(0, 5)].sort()).toEqual([0, 1, 2, 3, 4]);
  });

  it("rejects undersized outputs, bad batch sizes, missing fields", () => {
    const buf = new ReservoirBuffer({ sampleShape: SHAPE, fields: FIELDS, capacity: 10, seed: 1 });
    expect(() => buf.sample(8, buf.createBatch(4))).toThrow(/build it with createBatch\(8\)/);
    expect(() => buf.sample(0, buf.createBatch(4))).toThrow(ShapeError);
    expect(() => buf.add(image(0), 0)).toThrow(/field "logits" was declared/);
    expect(() => buf.add(image(0), 0, { logits: [1, 2], task: [0] })).toThrow(/"logits" has 2 values, expected 1 × 3/);
    expect(() => new ReservoirBuffer({ sampleShape: SHAPE, fields: { x: { type: "float32", width: 0 } }, capacity: 1, seed: 1 })).toThrow(
      /width/,
    );
  });

  it("fieldAt is a writable view (refreshing DER++ logits in place)", () => {
    const buf = new ReservoirBuffer({ sampleShape: SHAPE, fields: FIELDS, capacity: 4, seed: 1 });
    buf.addBatch(batchOf([7], () => 0));
    buf.fieldAt("logits", 0).set([9, 9, 9]);
    const out = buf.createBatch(1);
    buf.sample(1, out);
    expect([...out.fields.logits!]).toEqual([9, 9, 9]);
  });

  it("accounts memory in bytes: the uint8 slab dominates (M = 2000 CIFAR images ≈ 6.1 MB)", () => {
    const buf = new ReservoirBuffer({ sampleShape: [32, 32, 3], capacity: 2000, seed: 1 });
    const slab = 2000 * 3072;
    const labelsAndSlots = 2000 * 4 * 4; // labels + occupied + position + free stack, int32 each
    expect(buf.byteSize()).toBe(slab + labelsAndSlots);
    const withLogits = new ReservoirBuffer({
      sampleShape: [32, 32, 3],
      capacity: 2000,
      seed: 1,
      fields: { logits: { type: "float32", width: 100 } },
    });
    expect(withLogits.byteSize() - buf.byteSize()).toBe(2000 * 100 * 4);
  });
});

describe("state() / load() round trip", () => {
  it("reservoir: a restored buffer continues exactly like the original", () => {
    const a = new ReservoirBuffer({ sampleShape: SHAPE, fields: FIELDS, capacity: 20, seed: 1 });
    a.addBatch(batchOf([...Array(70).keys()], (id) => id % 7));
    const state = throughCheckpoint(a.state());
    const b = new ReservoirBuffer({ sampleShape: SHAPE, fields: FIELDS, capacity: 20, seed: 999 });
    b.load(state);
    expect(b.seen).toBe(70);
    const more = batchOf(
      [...Array(100).keys()].map((i) => 70 + i),
      (id) => id % 7,
    );
    const outA = a.createBatch(8);
    const outB = b.createBatch(8);
    for (let step = 0; step < 10; step++) {
      const chunk = {
        images: more.images.subarray(step * 10 * BYTES, (step + 1) * 10 * BYTES),
        labels: (more.labels as number[]).slice(step * 10, step * 10 + 10),
        fields: {
          logits: (more.fields!.logits as Float32Array).subarray(step * 30, step * 30 + 30),
          task: (more.fields!.task as Int32Array).subarray(step * 10, step * 10 + 10),
        },
      };
      a.addBatch(chunk);
      b.addBatch(chunk);
      a.sample(8, outA);
      b.sample(8, outB);
      expect(snapshot(outB, 8)).toEqual(snapshot(outA, 8));
      expect([...outB.fields.logits!]).toEqual([...outA.fields.logits!]);
    }
    // The state is a copy: the original moved on, the saved state still loads to the old contents.
    const c = new ReservoirBuffer({ sampleShape: SHAPE, fields: FIELDS, capacity: 20, seed: 5 });
    c.load(state);
    expect(c.seen).toBe(70);
  });

  it("class-balanced, GDumb and herding memories continue exactly like the originals", () => {
    const C = 5;
    const labels = shuffledLabels([30, 30, 30, 30, 30], 4);
    const ids = labels.map((_, i) => i);
    const make = () =>
      [
        new ClassBalancedBuffer({
          sampleShape: SHAPE,
          numClasses: C,
          policy: { kind: "fixed-total", total: 23, rounding: "floor-spread" },
          seed: 1,
        }),
        new GDumbBuffer({ sampleShape: SHAPE, numClasses: C, capacity: 23, seed: 1 }),
      ] as const;
    const [cb, gd] = make();
    cb.addBatch({ images: images(ids.slice(0, 60)), labels: labels.slice(0, 60) });
    gd.addBatch({ images: images(ids.slice(0, 60)), labels: labels.slice(0, 60) });
    const [cb2, gd2] = make();
    cb2.load(throughCheckpoint(cb.state()));
    gd2.load(throughCheckpoint(gd.state()));
    const rest = { images: images(ids.slice(60)), labels: labels.slice(60) };
    for (const [x, y] of [
      [cb, cb2],
      [gd, gd2],
    ] as const) {
      x.addBatch(rest);
      y.addBatch(rest);
      const ox = x.createBatch(16);
      const oy = y.createBatch(16);
      x.sample(16, ox);
      y.sample(16, oy);
      expect(snapshot(oy, 16)).toEqual(snapshot(ox, 16));
      expect([...y.slots()]).toEqual([...x.slots()]);
    }
    expect(cb2.classes()).toEqual(cb.classes());

    const policy = { kind: "fixed-total", total: 12, rounding: "floor" } as const;
    const feats = (c: number) => Array.from({ length: 10 }, (_, i) => Float32Array.of(Math.cos(i + c), Math.sin(i * c), i));
    const h1 = new HerdingMemory({ sampleShape: SHAPE, numClasses: 3, policy, seed: 2 });
    h1.addClass(0, { images: images([...Array(10).keys()]), features: feats(0) });
    const h2 = new HerdingMemory({ sampleShape: SHAPE, numClasses: 3, policy, seed: 2 });
    h2.load(throughCheckpoint(h1.state()));
    for (const h of [h1, h2]) h.addClass(1, { images: images([...Array(10).keys()].map((i) => 100 + i)), features: feats(1) });
    expect(h2.exemplarOrder(0)).toEqual(h1.exemplarOrder(0));
    expect(h2.exemplarSlots(1)).toEqual(h1.exemplarSlots(1));
    const o1 = h1.createBatch(5);
    const o2 = h2.createBatch(5);
    h1.sample(5, o1);
    h2.sample(5, o2);
    expect(snapshot(o2, 5)).toEqual(snapshot(o1, 5));
  });

  it("refuses a state of another kind, layout or policy with a CheckpointError", () => {
    const res = new ReservoirBuffer({ sampleShape: SHAPE, capacity: 20, seed: 1 });
    res.addBatch({ images: images([1, 2, 3]), labels: [0, 0, 0] });
    const gd = new GDumbBuffer({ sampleShape: SHAPE, capacity: 20, numClasses: 3, seed: 1 });
    expect(() => gd.load(res.state() as never)).toThrow(CheckpointError);
    expect(() => new ReservoirBuffer({ sampleShape: SHAPE, capacity: 21, seed: 1 }).load(res.state())).toThrow(/layout/);
    expect(() => new ReservoirBuffer({ sampleShape: [4, 2], capacity: 20, seed: 1 }).load(res.state())).toThrow(CheckpointError);
    const cb = (rounding: "floor" | "floor-spread") =>
      new ClassBalancedBuffer({ sampleShape: SHAPE, numClasses: 3, policy: { kind: "fixed-total", total: 10, rounding }, seed: 1 });
    expect(() => cb("floor").load(cb("floor-spread").state())).toThrow(/policy/);
    const bad = res.state();
    bad.meta.seen = 1;
    expect(() => new ReservoirBuffer({ sampleShape: SHAPE, capacity: 20, seed: 1 }).load(bad)).toThrow(/seen=1/);
  });
});
