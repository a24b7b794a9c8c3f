/**
 * The Omniglot loader on small generated zips in the release layout
 * (images_background/<alphabet>/<character>/<drawing>.png, 105×105 black ink on white):
 * classes per character, background first, 28×28 area resize with inverted ink, the episodic
 * stream on top (with rotations), and the offline error naming the files and the URL.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PNG } from "pngjs";
import { describe, expect, it } from "vitest";
import { DataError } from "@mnemo/core/errors";
import { anyStreamConfigSchema, buildStream, isEpisodicStream, loadOmniglot, OMNIGLOT_URL, writeZip } from "../src/index.js";
import { caught, tempDir } from "./helpers.js";

/** A 105×105 RGBA drawing: white, with a black square whose position encodes (class, drawing). */
function drawing(cls: number, k: number): Uint8Array {
  const png = new PNG({ width: 105, height: 105 });
  png.data.fill(255);
  const x0 = (cls * 15) % 75;
  const y0 = (k * 15) % 75;
  for (let y = y0; y < y0 + 32; y++) for (let x = x0; x < x0 + 32; x++) png.data.fill(0, 4 * (y * 105 + x), 4 * (y * 105 + x) + 3);
  return new Uint8Array(PNG.sync.write(png));
}

function release(dir: string, alphabets: Record<string, string[]>[], drawings = 4): void {
  const own = join(dir, "omniglot");
  mkdirSync(own, { recursive: true });
  let cls = 0;
  (["images_background", "images_evaluation"] as const).forEach((root, part) => {
    const files: { name: string; data: Uint8Array }[] = [];
    for (const [alphabet, chars] of Object.entries(alphabets[part] as Record<string, string[]>)) {
      for (const ch of chars) {
        for (let k = 0; k < drawings; k++) files.push({ name: `${root}/${alphabet}/${ch}/${String(k).padStart(2, "0")}.png`, data: drawing(cls, k) });
        cls++;
      }
    }
    writeFileSync(join(own, `${root}.zip`), writeZip(files, part === 0));
  });
}

describe("Omniglot loader", () => {
  it("reads both zips: one class per character, background first, 28×28 inverted area resize", async () => {
    const dir = tempDir();
    release(dir, [{ Greek: ["character01", "character02"], Latin: ["character01"] }, { Tengwar: ["character01", "character02"] }]);
    const d = await loadOmniglot({ dataDir: dir, download: false });
    expect(d.numClasses).toBe(5);
    expect(d.classNames).toEqual(["Greek/character01", "Greek/character02", "Latin/character01", "Tengwar/character01", "Tengwar/character02"]);
    expect(d.shape).toEqual([28, 28, 1]);
    expect(d.train.count).toBe(12);
    expect(d.test.count).toBe(8);
    expect(Array.from(new Set(d.test.labels))).toEqual([3, 4]);
    expect(d.warnings?.[0]).toMatch(/964 \/ 659/);
    // Class 0, drawing 0: ink square at pixels 0..31 of 105 (3.75 input pixels per output pixel) -> output pixels 0..7 full, 8 about half (2 of 3.75), rest 0.
    const img = d.train.images.subarray(0, 28 * 28);
    expect(img[0]).toBe(255);
    expect(img[7 * 28 + 7]).toBe(255);
    expect(img[8 * 28 + 8]).toBe(Math.round(255 * (2 / 3.75) ** 2));
    expect(img[8 * 28 + 2]).toBe(Math.round((255 * 2) / 3.75));
    expect(img[20 * 28 + 20]).toBe(0);
  });

  it("is an episode source: counts in dataset order keep the background/evaluation split; rotations add classes", async () => {
    const dir = tempDir();
    release(dir, [{ A: ["c1", "c2", "c3"] }, { B: ["c1", "c2"] }], 3);
    const cfg = anyStreamConfigSchema.parse({
      kind: "meta-learning",
      dataset: { name: "omniglot" },
      classes: { train: 3, test: 2, order: "dataset" },
      rotations: [0, 90],
      episodes: { ways: 2, shots: 1, queries: 2 },
      test_episodes: { ways: 2, shots: 1, queries: 2, count: 5 },
    });
    const s = await buildStream(cfg, { seed: 0, dataDir: dir, download: false });
    if (!isEpisodicStream(s)) throw new Error("expected an episodic stream");
    expect(s.split.train).toHaveLength(6);
    expect(s.split.test).toHaveLength(4);
    expect(s.classNames?.slice(-4)).toEqual(["B/c1@0", "B/c1@90", "B/c2@0", "B/c2@90"]);
  });

  it("offline without the files: a DataError naming both files, the folder and the URL", async () => {
    const err = await caught(() => loadOmniglot({ dataDir: tempDir(), download: false }));
    expect(err).toBeInstanceOf(DataError);
    expect(err.message).toContain("images_background.zip not found");
    expect(err.message).toContain("images_evaluation.zip");
    expect(err.message).toContain("omniglot");
    expect(err.message).toContain(OMNIGLOT_URL);
  });
});
