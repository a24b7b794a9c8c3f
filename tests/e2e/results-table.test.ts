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
import { loadRows, meanStd, runRowSeed } from "../../tools/results/make-results.js";

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
