import { describe, expect, it } from "vitest";
import { ConfigError } from "@mnemo/core/errors";
import { buildStream, corrupt, formatTaskSizes, streamConfigSchema, type StreamConfigInput } from "../src/index.js";
import { SeededRng } from "@mnemo/core/rng";
import { caught } from "./helpers.js";

const parse = (c: StreamConfigInput) => streamConfigSchema.parse(c);
const grey = { name: "synthetic-images" as const, shape: [28, 28, 1] as [number, number, number], train_per_class: 3, test_per_class: 2, num_classes: 3 };
const rgb = { name: "synthetic-images" as const, shape: [32, 32, 3] as [number, number, number], train_per_class: 3, test_per_class: 2, num_classes: 3 };
const same = (a: Uint8Array, b: Uint8Array): boolean => Buffer.from(a).equals(Buffer.from(b));

describe("kind: corruptions", () => {
  it("grey datasets default to MNIST-C's 15 domains in order, named after their corruption", async () => {
    const s = await buildStream(parse({ kind: "corruptions", dataset: grey }), { seed: 1 });
    expect(s.scenario).toBe("domain-incremental");
    expect(s.numTasks).toBe(15);
    expect(s.taskNames?.slice(0, 3)).toEqual(["shot_noise", "impulse_noise", "glass_blur"]);
    expect(s.taskNames?.at(-1)).toBe("canny_edges");
    expect(s.taskClasses[4]).toEqual([0, 1, 2]);
    expect(s.descriptor["taskNames"]).toEqual(s.taskNames);
  });

  it("RGB datasets default to CoTTA's CIFAR-10-C order without frost (14 domains), at severity 5", async () => {
    const s = await buildStream(parse({ kind: "corruptions", dataset: rgb }), { seed: 1 });
    expect(s.numTasks).toBe(14);
    expect(s.taskNames?.[0]).toBe("gaussian_noise");
    expect(s.taskNames).not.toContain("frost");
    const d = s.descriptor["corruptions"] as { benchmark: string; domains: { name: string; severity?: number }[] };
    expect(d.benchmark).toBe("cifar10-c");
    expect(new Set(d.domains.map((x) => x.severity))).toEqual(new Set([5]));
  });

  it("test images are the generator's output on the clean ones, from the stream <stream>/<name>/test of the run seed", async () => {
    const cfg = parse({ kind: "corruptions", dataset: grey, corruptions: ["shot_noise", "stripe"], clean_first: true, severity: 3 });
    const s = await buildStream(cfg, { seed: 5 });
    expect(s.taskNames).toEqual(["clean", "shot_noise", "stripe"]);
    expect(formatTaskSizes(s.taskSizes, s.taskNames)[1]).toBe("task 1 (shot_noise): 9 train / 0 validation / 6 test");
    const clean = await s.testSet(0);
    const shot = await s.testSet(1);
    const expected = corrupt("mnist-c", "shot_noise", clean.images, [28, 28, 1], { severity: 3, rng: new SeededRng(5).derive("corruptions/shot_noise/test") });
    expect(same(shot.images, expected)).toBe(true);
    expect(Array.from(shot.labels)).toEqual(Array.from(clean.labels));
    const t1 = await s.task(1);
    const t1again = await s.task(1);
    expect(same(t1.train.images, t1again.train.images)).toBe(true);
    expect(t1.train.images).not.toBe(t1again.train.images);
    expect(same(t1.train.images, (await s.task(0)).train.images)).toBe(false);
  });

  it("same seed: same bytes and hash; another seed: other bytes and hash; severity changes the hash", async () => {
    const cfg = parse({ kind: "corruptions", dataset: rgb, corruptions: ["gaussian_noise"] });
    const a = await buildStream(cfg, { seed: 1 });
    const b = await buildStream(cfg, { seed: 1 });
    const c = await buildStream(cfg, { seed: 2 });
    expect(a.hash).toBe(b.hash);
    expect(a.hash).not.toBe(c.hash);
    expect(same((await a.testSet(0)).images, (await b.testSet(0)).images)).toBe(true);
    expect(same((await a.testSet(0)).images, (await c.testSet(0)).images)).toBe(false);
    const d = await buildStream(parse({ kind: "corruptions", dataset: rgb, corruptions: ["gaussian_noise"], severity: 2 }), { seed: 1 });
    expect(d.hash).not.toBe(a.hash);
  });

  it("repeats run the sequence again on the same (shared) corrupted test images", async () => {
    const s = await buildStream(parse({ kind: "corruptions", dataset: grey, corruptions: ["fog", "rotate"], repeats: 3 }), { seed: 0 });
    expect(s.taskNames).toEqual(["fog#1", "rotate#1", "fog#2", "rotate#2", "fog#3", "rotate#3"]);
    expect(await s.testSet(4)).toBe(await s.testSet(0));
    expect(same((await s.testSet(5)).images, (await s.testSet(1)).images)).toBe(true);
  });

  it("split: test gives corrupted domains without training images; validation is corrupted like train", async () => {
    const s = await buildStream(parse({ kind: "corruptions", dataset: grey, corruptions: ["fog"], clean_first: true, split: "test", validation: { per_class: 1 } }), { seed: 0 });
    expect(s.taskSizes).toEqual([
      { train: 6, validation: 3, test: 6 },
      { train: 0, validation: 0, test: 6 },
    ]);
    const t = await s.task(1);
    expect(t.train.count).toBe(0);
    expect(t.validation).toBeUndefined();
    const all = await buildStream(parse({ kind: "corruptions", dataset: grey, corruptions: ["fog"], clean_first: true, validation: { per_class: 1 } }), { seed: 0 });
    const v0 = (await all.task(0)).validation;
    const v1 = (await all.task(1)).validation;
    expect(v1?.count).toBe(3);
    expect(same(v0?.images ?? new Uint8Array(), v1?.images ?? new Uint8Array())).toBe(false);
  });

  it("a list can use the other benchmark's tables; names it cannot generate are config errors with the key", async () => {
    const s = await buildStream(parse({ kind: "corruptions", dataset: grey, corruptions: ["gaussian_noise"], parameters: "cifar10-c" }), { seed: 0 });
    expect((s.descriptor["corruptions"] as { benchmark: string }).benchmark).toBe("cifar10-c");
    const e1 = await caught(() => buildStream(parse({ kind: "corruptions", dataset: rgb, corruptions: ["fog", "frost"] }), { seed: 0 }));
    expect(e1).toBeInstanceOf(ConfigError);
    expect((e1 as ConfigError).path).toBe("stream.corruptions.1");
    expect(e1.message).toMatch(/frost photographs/);
    const e2 = await caught(() => buildStream(parse({ kind: "corruptions", dataset: rgb, corruptions: ["fgo"] }), { seed: 0 }));
    expect(e2.message).toMatch(/unknown cifar10-c corruption "fgo"; known: .*fog/);
    const e3 = await caught(() => buildStream(parse({ kind: "corruptions", dataset: grey, corruptions: ["spatter"], severity: 2 }), { seed: 0 }));
    expect((e3 as ConfigError).path).toBe("stream.corruptions.0");
    expect(e3.message).toMatch(/severity 2 is not available/);
    expect(() => parse({ kind: "corruptions", dataset: grey, severity: 6 } as unknown as StreamConfigInput)).toThrow();
  });
});
