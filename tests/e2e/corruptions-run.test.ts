/**
 * `stream.kind: corruptions` through `mnemo run`: a tiny corrupted-MNIST stream (clean task + 3
 * corruptions, 10 images per class) trains and evaluates end to end, the header names each task's
 * corruption, and a corruption the stream cannot generate is a config error at its file and line.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { consoleReporter, runFromConfig } from "@mnemo/experiment";

const config = (corruptions: string): string => `name: corrupted-tiny
seed: 3
stream:
  kind: corruptions
  dataset: { name: mnist }
  corruptions: ${corruptions}
  clean_first: true
  limit_per_class: { train: 10, test: 10 }
model: { backbone: mlp, hidden: [32], head: fixed }
training:
  epochs: 1
  batch_size: 50
  lr: 0.001
  optimizer: { name: adam }
`;

describe("mnemo run on a corruptions stream", () => {
  it("trains on clean then shot_noise, rotate, fog, with the tasks named in the header", { timeout: 120_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), "mnemo-corrupt-"));
    const file = join(dir, "c.yaml");
    writeFileSync(file, config("[shot_noise, rotate, fog]"));
    process.env.MLFLOW_TRACKING_URI = join(dir, "mlruns");
    const lines: string[] = [];
    const { runDir, result, config: cfg } = await runFromConfig({
      configFile: file,
      overrides: [`output.dir=${dir}`],
      quiet: true,
      log: () => {},
      observers: [consoleReporter((l) => lines.push(l))],
    });
    expect(cfg.stream.kind).toBe("corruptions");
    expect(result.matrix).toHaveLength(4);
    expect(result.matrix.every((row) => row.length === 4 && row.every((v) => v !== null && v >= 0 && v <= 100))).toBe(true);
    expect(JSON.parse(readFileSync(join(runDir, "run.json"), "utf8")).status).toBe("FINISHED");
    const sizes = lines.filter((l) => /^ {2}task \d/.test(l));
    expect(sizes.map((l) => /task \d+ \(([\w#]+)\)/.exec(l)?.[1])).toEqual(["clean", "shot_noise", "rotate", "fog"]);
    expect(sizes[1]).toMatch(/task 1 \(shot_noise\): 100 train \/ 0 validation \/ 100 test/);
  });

  it("a corruption it cannot generate is an error at the config's file and line", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mnemo-corrupt-"));
    const file = join(dir, "bad.yaml");
    writeFileSync(file, config("[fog, frost]"));
    await expect(runFromConfig({ configFile: file, overrides: [`output.dir=${dir}`], quiet: true, log: () => {} })).rejects.toThrow(
      new RegExp(`bad\\.yaml:6 stream\\.corruptions\\.1: corruption "frost" is not generated here: it needs the benchmark's frost photographs`),
    );
  });
});
