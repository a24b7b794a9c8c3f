/**
 * Test-time adaptation through the real `mnemo run`: a tiny source model on clean MNIST, then
 * source / BN-adapt / Tent over two strongly shifted MNIST-C domains. BN adaptation must lower
 * the error on brightness (the shift moves every pixel's mean: source ~60% error, BN ~20% at this
 * size), a run stopped between domains resumes to the same per-domain errors, and the CIFAR-10-C
 * config fails clearly without CIFAR-10.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const root = resolve(import.meta.dirname, "../..");
const bin = join(root, "packages/cli/bin/mnemo.mjs");
const work = mkdtempSync(join(tmpdir(), "mnemo-tta-"));
const config = join(work, "tta.yaml");
writeFileSync(
  config,
  `name: tta
seed: 2
stream:
  kind: class-incremental
  dataset: { name: mnist }
  order: dataset
  increment: 10
  limit_per_class: { train: 200, test: 20 }
  validation: { per_class: 10 }
model: { backbone: mlp, hidden: [64], batch_norm: true, head: fixed }
training: { epochs: 1, batch_size: 64, lr: 0.001, optimizer: { name: adam } }
evaluation: { future_tasks: false }
adaptation:
  stream:
    kind: corruptions
    dataset: { name: mnist }
    corruptions: [brightness, stripe]
    split: test
    limit_per_class: { train: 1, test: 30 }
  batch_size: 100
  adapters: [{ name: source }, { name: bn }, { name: tent }]
`,
);

function mnemo(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [bin, ...args, "--quiet"], { cwd: root, env: { ...process.env, MLFLOW_TRACKING_URI: join(work, "mlruns"), ...env }, encoding: "utf8", timeout: 170_000 });
}

function runDir(out: string): string {
  const exp = join(out, "tta");
  return join(exp, readdirSync(exp)[0] as string);
}

type Report = Record<string, { error: number[]; mean_error: number; correct: number[] }>;
const adapters = (dir: string): Report => JSON.parse(readFileSync(join(dir, "adaptation.json"), "utf8")).adapters;

let ref: Report | undefined;

describe("mnemo run with adaptation:", () => {
  it("BN adaptation beats the source model on brightness; errors, plots and MLflow metrics per domain", () => {
    const full = mnemo(["run", config, "--set", `output.dir=${join(work, "full")}`]);
    expect(full.status, full.stderr).toBe(0);
    const dir = runDir(join(work, "full"));
    ref = adapters(dir);
    expect(Object.keys(ref)).toEqual(["source", "bn", "tent"]);
    const [srcBrightness] = ref.source!.error;
    const [bnBrightness] = ref.bn!.error;
    expect(bnBrightness! + 15).toBeLessThan(srcBrightness!);
    const metrics = JSON.parse(readFileSync(join(dir, "metrics.json"), "utf8"));
    expect(metrics.adaptation.cells).toEqual(["brightness", "stripe"]);
    expect(readFileSync(join(dir, "plots", "adaptation_error_heatmap.svg"), "utf8")).toContain("brightness");
    const journal = readFileSync(join(dir, "tracking-journal.jsonl"), "utf8");
    expect(journal).toContain("tta_bn_error");
    expect(journal).toContain("tta_tent_mean_error");
  });

  it("a run stopped between two domains resumes to the same per-domain errors", () => {
    expect(ref, "needs the first test's run").toBeDefined();
    const out = join(work, "stopped");
    const stopped = mnemo(["run", config, "--set", `output.dir=${out}`], { MNEMO_STOP_AFTER_ADAPTATION_DOMAINS: "3" });
    expect(stopped.status, stopped.stderr).toBe(130);
    const sdir = runDir(out);
    expect(JSON.parse(readFileSync(join(sdir, "run.json"), "utf8")).status).toBe("KILLED");
    const resumed = mnemo(["run", "--resume", sdir]);
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(adapters(sdir)).toEqual(ref);
  });

  it("configs/tta-cifar10-c.yaml without CIFAR-10 and offline stops at once, naming the file and MNEMO_DATA_DIR", () => {
    const empty = mkdtempSync(join(tmpdir(), "mnemo-tta-nodata-"));
    const r = mnemo(["run", "configs/tta-cifar10-c.yaml", "--offline"], { MNEMO_DATA_DIR: empty });
    expect(r.status).not.toBe(0);
    expect(r.status).not.toBeNull();
    expect(r.stderr).toContain("cifar-10-binary.tar.gz");
    expect(r.stderr).toContain("MNEMO_DATA_DIR");
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
