/**
 * The results table is checked, Avalanche continual-learning-baselines style: the rows marked
 * `ci: true` in tools/results/rows.yaml are re-run with their seeds and their mean ACC (task-macro)
 * must be within the file's tolerance of docs/results.json (what docs/results.md shows). A change
 * in any kernel, buffer, stream or metric that moves these numbers fails here; if the change is
 * intended, regenerate the table (`npm run results -- --only ci-finetune,ci-er --force`).
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { loadRows, meanStd, renderMarkdown, runRowSeed, type ResultRow, type SeedResult } from "../../tools/results/make-results.js";

const root = resolve(import.meta.dirname, "../..");
const table = JSON.parse(readFileSync(join(root, "docs/results.json"), "utf8")) as {
  tolerance: number;
  rows: Record<string, { seeds: number[]; acc: { mean: number; std: number }; perSeed: number[] }>;
};
const { rows, tolerance } = loadRows();
const ciRows = rows.filter((r) => r.ci);

describe("docs/results.md CI rows", () => {
  it("the table has every CI row, with the seeds rows.yaml lists", () => {
    expect(ciRows.length).toBeGreaterThanOrEqual(2);
    for (const row of ciRows) expect(table.rows[row.id]?.seeds, row.id).toEqual(row.seeds);
    expect(table.tolerance).toBe(tolerance);
  });

  it.each(ciRows.map((r) => [r.id, r] as const))("%s reproduces its ACC within the stated tolerance", async (_id, row) => {
    const out = mkdtempSync(join(tmpdir(), "mnemo-results-"));
    process.env.MLFLOW_TRACKING_URI = join(out, "mlruns");
    const accs: number[] = [];
    for (const seed of row.seeds) accs.push((await runRowSeed(row, seed, out)).acc);
    const expected = table.rows[row.id]?.acc.mean as number;
    expect(Math.abs(meanStd(accs).mean - expected), `${row.id}: measured ${accs.join(", ")} vs table ${expected}`).toBeLessThanOrEqual(tolerance);
  });
});

describe("docs/results.md rendering", () => {
  const seed = (s: number, acc: number, extra: Partial<SeedResult> = {}): SeedResult => ({
    seed: s,
    runDir: "x",
    acc,
    accSampleWeighted: acc,
    aia: acc,
    forgetting: 10,
    valAcc: acc - 1,
    trainSeconds: 10,
    trainImagesPerSec: 1000,
    peakRssBytes: 512 * 2 ** 20,
    wallSeconds: 12,
    fwt: -9,
    bufferBytes: 2048,
    backend: "wasm",
    machine: "vm (2 cores)",
    date: "2026-12-03",
    ...extra,
  });
  const row = (id: string, extra: Partial<ResultRow> = {}): ResultRow => ({ id, title: id, config: "c.yaml", set: [], seeds: [0, 1, 2, 3, 4], ...extra });

  it("says when a row has fewer seeds than it asks for, and shows FWT, wall time, memory and buffer", () => {
    const md = renderMarkdown([row("a", { hyperparameters: "lr from the paper, not tuned" })], new Map([["a", [seed(0, 80), seed(1, 82)]]]), 1);
    const line = md.split("\n").find((l) => l.startsWith("| a |")) as string;
    expect(line).toContain("| 0, 1 (2 of 5) |");
    expect(line).toContain("| 81.0 ± 1.4 |");
    expect(line).toContain("| -9.0 ± 0.0 |"); // FWT
    expect(line).toContain("| 512 ± 0 | 2 ± 0 |"); // peak RSS MiB, buffer KiB
    expect(md).toContain("- a: lr from the paper, not tuned");
  });

  it("gives few-shot rows their session table and leaves rows without results out", () => {
    const fscil = { session_accuracy: 73.8, base_accuracy: 92, novel_accuracy: 46, harmonic_mean: 61.3, fscil_avg: 85.3, fscil_pd: 22.6 };
    const md = renderMarkdown([row("f", { seeds: [0] }), row("missing")], new Map([["f", [seed(0, 70, { fscil })]]]), 1);
    expect(md).toContain("| f | 0 | 73.8 | 92.0 | 46.0 | 61.3 | 85.3 | 22.6 |");
    expect(md).not.toContain("plain prototypes"); // no plain_* metrics, no baseline line
    const withPlain = { ...fscil, plain_session_accuracy: 73.5, plain_base_accuracy: 92.4, plain_novel_accuracy: 44.7, plain_harmonic_mean: 60.3, plain_fscil_avg: 85.1, plain_fscil_pd: 22.8 };
    const md2 = renderMarkdown([row("f", { seeds: [0] })], new Map([["f", [seed(0, 70, { fscil: withPlain })]]]), 1);
    expect(md2).toContain("| f: plain prototypes, same frozen backbone, no calibration | 0 | 73.5 | 92.4 | 44.7 | 60.3 | 85.1 | 22.8 |");
    expect(md).not.toContain("| missing |");
    expect(md).toContain("Rows in rows.yaml with no finished run yet (not in the table): missing.");
  });
});
