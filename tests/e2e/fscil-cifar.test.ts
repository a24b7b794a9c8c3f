/**
 * configs/fscil-cifar.yaml end to end: a clear failure without CIFAR-100 (through the same command
 * as `npx nx run experiments:fscil-cifar`), and a full run of all 9 sessions on a generated
 * CIFAR-100-format stand-in in which the TOPIC index lists point at the right classes (no real
 * CIFAR here). The stand-in run uses a tiny schedule and few images per class: it proves the
 * protocol runs end to end, not what accuracy it reaches.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { CIFAR100_TOPIC_DIR } from "../../packages/data/src/streams/fscil.js";
import { fineToCoarse, generateCifarRecords } from "../../packages/data/src/testing/generators.js";
import { runFromConfig } from "@mnemo/experiment";

const root = resolve(import.meta.dirname, "../..");
const configFile = join(root, "configs/fscil-cifar.yaml");
const temps: string[] = [];
const temp = (prefix: string): string => {
  const d = mkdtempSync(join(tmpdir(), prefix));
  temps.push(d);
  return d;
};
afterAll(() => temps.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** Full-size CIFAR-100 binary files whose session_2..9 indices carry the classes the lists expect. */
function writeTopicStandIn(dir: string): void {
  const train = generateCifarRecords(100, 50_000, 5, 100, "pattern").bytes;
  for (let s = 0; s < 8; s++) {
    const list = readFileSync(join(CIFAR100_TOPIC_DIR, `session_${s + 2}.txt`), "utf8").trim().split(/\s+/).map(Number);
    list.forEach((idx, j) => {
      const fine = 60 + 5 * s + Math.floor(j / 5);
      train[idx * 3074] = fineToCoarse(fine);
      train[idx * 3074 + 1] = fine;
    });
  }
  mkdirSync(join(dir, "cifar-100-binary"), { recursive: true });
  writeFileSync(join(dir, "cifar-100-binary", "train.bin"), train);
  writeFileSync(join(dir, "cifar-100-binary", "test.bin"), generateCifarRecords(100, 10_000, 6, 100, "pattern").bytes);
}

describe("configs/fscil-cifar.yaml", () => {
  it("without CIFAR-100 and without network: exits non-zero within seconds naming the file, the URL and MNEMO_DATA_DIR", () => {
    const empty = temp("mnemo-fscil-nodata-");
    const t0 = Date.now();
    // The command of the nx target experiments:fscil-cifar.
    const r = spawnSync(process.execPath, ["--import", "tsx", "packages/cli/src/main.ts", "run", "configs/fscil-cifar.yaml"], {
      cwd: root,
      env: { ...process.env, MNEMO_DATA_DIR: empty, MLFLOW_TRACKING_URI: join(empty, "mlruns") },
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(r.status).not.toBe(0);
    expect(r.status).not.toBeNull(); // null = killed by the timeout
    expect(r.stderr).toContain("cifar-100-binary.tar.gz");
    expect(r.stderr).toContain("https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz");
    expect(r.stderr).toContain("MNEMO_DATA_DIR");
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect((Date.now() - t0) / 1000).toBeLessThan(60);
  });

  it("runs all 9 sessions on a CIFAR-100-format stand-in and reports the FSCIL metrics", async () => {
    const dir = temp("mnemo-fscil-standin-");
    writeTopicStandIn(dir);
    const previous = { data: process.env.MNEMO_DATA_DIR, uri: process.env.MLFLOW_TRACKING_URI };
    process.env.MNEMO_DATA_DIR = dir;
    process.env.MLFLOW_TRACKING_URI = join(dir, "mlruns");
    try {
      const tiny = ["training.epochs=2", "training.max_steps_per_task=2", "training.batch_size=16", "stream.limit_per_class={train: 20, test: 4}", `output.dir=${join(dir, "runs")}`];
      const { runDir, result } = await runFromConfig({ configFile, overrides: tiny, quiet: true, log: () => {} });
      expect(result.matrix).toHaveLength(9);
      expect(result.taskClasses.map((c) => c.length)).toEqual([60, 5, 5, 5, 5, 5, 5, 5, 5]);
      const run = JSON.parse(readFileSync(join(runDir, "run.json"), "utf8"));
      expect(run.status).toBe("FINISHED");
      const perStep = (JSON.parse(readFileSync(join(runDir, "metrics.json"), "utf8")) as { perStep: Record<string, number>[] }).perStep;
      expect(perStep).toHaveLength(9);
      expect(Object.keys(perStep[0]!)).toEqual(expect.arrayContaining(["session_accuracy", "base_accuracy"]));
      expect(Object.keys(perStep[8]!)).toEqual(expect.arrayContaining(["novel_accuracy", "harmonic_mean", "fscil_avg", "fscil_pd", "plain_base_accuracy"]));
      perStep.forEach((m) => expect(m.session_accuracy).toBeCloseTo(m.accuracy as number, 9)); // = A_t of the matrix
    } finally {
      for (const [k, v] of [["MNEMO_DATA_DIR", previous.data], ["MLFLOW_TRACKING_URI", previous.uri]] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });
});
