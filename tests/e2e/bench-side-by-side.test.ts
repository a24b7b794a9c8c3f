/**
 * The side-by-side benchmarks' bookkeeping (never their speed): ratios only from same-round
 * pairs, how they are printed, the message when PyTorch is absent, and that the end-to-end
 * benchmark's Mnemo config is a valid experiment config with the protocol it claims.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadExperimentConfig } from "@mnemo/experiment";
import { findTorchPython, formatRange, formatRatio, noTorchMessage, ratioStats, roundOrder, torchEnv } from "../../tools/bench/side-by-side.js";
import { formatReport, summarize, type Row } from "../../tools/bench/throughput.js";
import { formatE2e, mnemoConfig, type E2eArgs } from "../../tools/bench/e2e-cil.js";

function row(framework: Row["framework"], round: number, train: number, forward: number): Row {
  return {
    framework,
    engine: framework === "mnemo" ? "wasm (2 threads, simd)" : "torch 1.13.1",
    threads: 2,
    model: "resnet20",
    round,
    trainImgPerSec: train,
    forwardImgPerSec: forward,
    trainStepMs: 1,
    peakRssMB: framework === "mnemo" ? 600 : 400,
    steps: 5,
    trainCpuMsPerStep: framework === "mnemo" ? 100 : 80,
    loadAvg: [1, 2],
  };
}

describe("ratio statistics", () => {
  it("min / median / max of the per-pair ratios, median of an even count is the mean of the middle two", () => {
    expect(ratioStats([{ mnemo: 2, reference: 1 }, { mnemo: 3, reference: 2 }, { mnemo: 1, reference: 1 }])).toEqual({ min: 1, median: 1.5, max: 2, n: 3 });
    expect(ratioStats([{ mnemo: 1, reference: 1 }, { mnemo: 3, reference: 1 }])?.median).toBe(2);
  });

  it("no valid pair gives no ratio, and a zero reference is no pair", () => {
    expect(ratioStats([])).toBeUndefined();
    expect(ratioStats([{ mnemo: 5, reference: 0 }])).toBeUndefined();
    expect(formatRatio(undefined)).toBe("—");
  });

  it("prints the median with the range and the number of rounds", () => {
    expect(formatRatio({ min: 1.02, median: 1.08, max: 1.13, n: 3 })).toBe("1.08× (1.02–1.13, 3 rounds)");
    expect(formatRatio({ min: 0.5, median: 0.5, max: 0.5, n: 1 })).toBe("0.50× (1 round)");
    expect(formatRange([181.2, 186.4, 183])).toBe("181–186");
    expect(formatRange([12.34])).toBe("12.3");
  });

  it("PyTorch children wait passively unless spinning is asked for, with the thread count set", () => {
    expect(torchEnv(2, false, { OMP_WAIT_POLICY: "ACTIVE" })).toMatchObject({ OMP_NUM_THREADS: "2", OMP_WAIT_POLICY: "PASSIVE" });
    expect(torchEnv(1, true, { OMP_WAIT_POLICY: "PASSIVE" })).not.toHaveProperty("OMP_WAIT_POLICY");
  });

  it("alternates which framework goes first", () => {
    expect(roundOrder(0)).toEqual(["mnemo", "pytorch"]);
    expect(roundOrder(1)).toEqual(["pytorch", "mnemo"]);
  });
});

describe("throughput report", () => {
  it("pairs each Mnemo round with the PyTorch run of the same round only", () => {
    const rows = [row("mnemo", 0, 200, 800), row("pytorch", 0, 100, 400), row("mnemo", 1, 300, 900), row("pytorch", 1, 300, 300), row("mnemo", 2, 999, 999)];
    const [s] = summarize(rows, ["resnet20"]);
    expect(s?.trainRatio).toEqual({ min: 1, median: 1.5, max: 2, n: 2 });
    expect(s?.forwardRatio).toEqual({ min: 2, median: 2.5, max: 3, n: 2 });
    expect(s?.torchRssMB).toBe(400);
    expect(s?.cpuRatio?.median).toBeCloseTo(0.8, 10);
    const text = formatReport(summarize(rows, ["resnet20"]), undefined);
    expect(text).toMatch(/1\.50× \(1\.00–2\.00, 2 rounds\)/);
    expect(text).not.toMatch(/no ratio/);
  });

  it("without PyTorch: no ratio, and the report says so", () => {
    const rows = [row("mnemo", 0, 200, 800)];
    const [s] = summarize(rows, ["resnet20"]);
    expect(s?.trainRatio).toBeUndefined();
    const text = formatReport([s!], "no ratio to PyTorch is available: PyTorch was not found (see above)");
    expect(text).toMatch(/—/);
    expect(text).toMatch(/no ratio to PyTorch is available/);
  });

  it("a python that cannot import torch is reported with the install command", () => {
    const probe = findTorchPython(["/nonexistent/python3"]);
    expect(probe.ok).toBe(false);
    if (probe.ok) return;
    expect(probe.reason).toMatch(/\/nonexistent\/python3: ENOENT/);
    const msg = noTorchMessage(probe.reason);
    expect(msg).toMatch(/no ratio to PyTorch is available/);
    expect(msg).toMatch(/apt-get install -y python3-torch libopenblas0-pthread/);
    expect(msg).toMatch(/MNEMO_BENCH_PYTHON/);
  });
});

describe("end-to-end benchmark", () => {
  const args: E2eArgs = { model: "resnet32", reduced: true, epochs: 1, rounds: 1, threads: 2, backend: "wasm", torch: false, torchSpin: false, dataDir: "/tmp/x" };

  it("its Mnemo config is a valid experiment with the PyTorch script's protocol", () => {
    const dir = mkdtempSync(join(tmpdir(), "mnemo-e2e-config-"));
    const file = join(dir, "e2e.yaml");
    writeFileSync(file, mnemoConfig(args, join(dir, "runs")));
    const c = loadExperimentConfig(file).value;
    expect(c.model.backbone).toBe("resnet32");
    expect(c.model.head).toBe("fixed");
    expect(c.method.name).toBe("finetune");
    expect(c.training).toMatchObject({ epochs: 1, batch_size: 64, lr: 0.05, augment: { crop: { padding: 4 }, flip: true } });
    expect(c.training.optimizer).toMatchObject({ name: "sgd", momentum: 0.9, weight_decay: 0.0005 });
    expect(c.evaluation.future_tasks).toBe(false);
    expect(c.output.dir).toBe(join(dir, "runs"));
  });

  it("the wall-time ratio is PyTorch / Mnemo of the same round, or the no-torch note", () => {
    const base = { trainSeconds: [1, 2], evalSeconds: [0.5], backend: "x", loadAvg: [1, 1] as [number, number], peakRssMB: 500 };
    const rows = [
      { ...base, framework: "mnemo" as const, round: 0, wallSeconds: 100 },
      { ...base, framework: "pytorch" as const, round: 0, wallSeconds: 150 },
    ];
    expect(formatE2e(rows)).toMatch(/speed-up .*: 1\.50× \(1 round\)/);
    expect(formatE2e(rows.slice(0, 1), "no ratio to PyTorch is available")).toMatch(/no ratio to PyTorch is available/);
  });
});
