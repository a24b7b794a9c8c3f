/**
 * Self-training end to end through the real `mnemo run`: the config of packages/selftraining's
 * README (a semi-supervised synthetic stream, ER + `plugins: [self_training]` with T-similarity),
 * run as written and with `--set plugins=[]` (labelled only). Pseudo-labels are produced and
 * mostly right, both confidences' ECE on the unlabelled pool are recorded, and training on them
 * changes the accuracy matrix.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const root = resolve(import.meta.dirname, "../..");
const bin = join(root, "packages/cli/bin/mnemo.mjs");
const out = mkdtempSync(join(tmpdir(), "mnemo-st-e2e-"));
afterAll(() => rmSync(out, { recursive: true, force: true }));

/** The README's ```yaml block that configures self_training. */
function readmeConfig(): string {
  const text = readFileSync(join(root, "packages/selftraining/README.md"), "utf8");
  const block = [...text.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1] as string).find((b) => b.includes("name: self_training"));
  if (!block) throw new Error("packages/selftraining/README.md has no yaml block with self_training");
  return block;
}

function run(file: string, name: string, extra: string[] = []): { matrix: number[][]; perStep: Record<string, number>[] } {
  const dir = join(out, name);
  const r = spawnSync(process.execPath, [bin, "run", file, "--quiet", "--set", `output.dir=${dir}`, ...extra], {
    cwd: root,
    env: { ...process.env, MLFLOW_TRACKING_URI: join(out, "mlruns") },
    encoding: "utf8",
    timeout: 120_000,
  });
  expect(r.stderr + r.stdout).toContain("final average accuracy");
  expect(r.status).toBe(0);
  const exp = join(dir, readdirSync(dir)[0] as string);
  const runDir = join(exp, readdirSync(exp)[0] as string);
  const read = (f: string) => JSON.parse(readFileSync(join(runDir, f), "utf8"));
  return { matrix: read("accuracy_matrix.json").matrix, perStep: read("metrics.json").perStep };
}

describe("mnemo run with plugins: [self_training] (the selftraining README config)", { timeout: 240_000 }, () => {
  it("produces mostly-right pseudo-labels, records both ECEs, and changes the matrix against labelled-only", () => {
    const file = join(out, "ssl-blobs.yaml");
    writeFileSync(file, readmeConfig());
    const st = run(file, "st");
    const sup = run(file, "sup", ["--set", "plugins=[]"]);
    expect(st.matrix).toHaveLength(2);
    for (const row of st.perStep) {
      expect(row.st_pseudo_labels).toBeGreaterThan(0);
      expect(row.st_pl_precision).toBeGreaterThan(60); // 2 classes per task: chance is 50 %
      for (const k of ["st_ece_softmax", "st_ece_tsim"]) expect(row[k]).toBeGreaterThanOrEqual(0);
    }
    // Labelled only: no self-training metrics, and a different run.
    expect(sup.perStep[0]?.st_pseudo_labels).toBeUndefined();
    expect(st.matrix).not.toEqual(sup.matrix);
  });
});
