/**
 * What tools/gpu-check.sh runs after installing: which backends start on this machine, the
 * kernel-parity tests of each one present, the throughput benchmark on each (with PyTorch beside
 * it when torch is importable), and a JSON + Markdown summary.
 *
 *   node --import tsx tools/gpu-check.ts [--out DIR] [--models conv4,resnet20] [--rounds 1] [--seconds 2]
 *
 * Each probe and each benchmark runs in its own process: two native tfjs packages in one process
 * clash, and a backend that fails must not take the others with it.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, "..");
const CANDIDATES = ["webgpu", "node-gpu", "node", "wasm"] as const;
type Candidate = (typeof CANDIDATES)[number];

/** The parity tests of each backend: files that compare its kernels with cpu. */
const PARITY: Record<Candidate, string[]> = {
  webgpu: ["packages/models/test/webgpu-parity.test.ts", "packages/runtime/test/backend.test.ts"],
  wasm: ["packages/kernels/test/conv-grads.test.ts", "packages/kernels/test/winograd.test.ts", "packages/kernels/test/batch-norm.test.ts", "packages/kernels/test/other-kernels.test.ts"],
  "node-gpu": [],
  node: [],
};

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

interface Probe {
  backend: Candidate;
  available: boolean;
  description?: string;
  reason?: string;
}

function probe(backend: Candidate): Probe {
  const r = spawnSync(process.execPath, ["--import", "tsx", join(here, "bench", "probe-backend.ts"), backend], { cwd: repo, encoding: "utf8", timeout: 120_000 });
  const line = (r.stdout ?? "").trim().split("\n").pop() ?? "";
  try {
    const p = JSON.parse(line) as { ok: boolean; d?: string; r?: string };
    return p.ok ? { backend, available: true, description: p.d } : { backend, available: false, reason: p.r };
  } catch {
    return { backend, available: false, reason: `probe failed (exit ${r.status}): ${(r.stderr ?? "").trim().split("\n").slice(-2).join(" ")}` };
  }
}

interface Step {
  name: string;
  ok: boolean;
  seconds: number;
  summary: string;
}

function step(name: string, cmd: string, argv: string[], summarize: (out: string) => string, cwd = repo): Step {
  const t0 = performance.now();
  console.error(`\n== ${name}`);
  const r = spawnSync(cmd, argv, { cwd, encoding: "utf8", maxBuffer: 32 << 20, env: { ...process.env, FORCE_COLOR: "0" } });
  const out = `${r.stdout ?? ""}\n${r.stderr ?? ""}`;
  process.stderr.write(out.split("\n").slice(-25).join("\n") + "\n");
  return { name, ok: r.status === 0, seconds: (performance.now() - t0) / 1000, summary: summarize(out) };
}

/** vitest's closing lines ("Tests  5 passed | 8 skipped (13)") and the reason a file skipped. */
function vitestSummary(out: string): string {
  const clean = out.replace(new RegExp(String.fromCharCode(27) + "\\[[0-9;]*m", "g"), ""); // colour codes
  const tests = /Tests\s+([^\n]+)/.exec(clean)?.[1]?.trim() ?? "no vitest summary";
  const skipped = /webgpu parity tests skipped: ([^\n]+)/.exec(clean)?.[1];
  return skipped ? `${tests}; ${skipped}` : tests;
}

async function main(): Promise<void> {
  const outDir = arg("out", join(here, "bench", "results", "gpu-check"));
  const models = arg("models", "conv4,resnet20");
  const rounds = arg("rounds", "1");
  const seconds = arg("seconds", "2");
  mkdirSync(outDir, { recursive: true });
  const started = new Date();

  const probes = CANDIDATES.map(probe);
  for (const p of probes) console.error(`${p.backend}: ${p.available ? `available, ${p.description}` : `not available: ${p.reason}`}`);

  const steps: Step[] = [];
  const vitest = join(repo, "node_modules", ".bin", "vitest");
  for (const p of probes) {
    const files = PARITY[p.backend];
    // webgpu's parity file also runs where there is no adapter: it then checks the fallback message.
    if (files.length === 0 || (!p.available && p.backend !== "webgpu")) continue;
    // Per package, from its folder, so that its vitest config (forked workers, timeouts) applies.
    const byPackage = new Map<string, string[]>();
    for (const f of files) {
      const [, pkg, ...rest] = f.split("/");
      byPackage.set(pkg as string, [...(byPackage.get(pkg as string) ?? []), rest.join("/")]);
    }
    for (const [pkg, rel] of byPackage) steps.push(step(`parity ${p.backend} (${pkg})`, vitest, ["run", ...rel], vitestSummary, join(repo, "packages", pkg)));
  }
  const benchRows: { backend: string; file: string }[] = [];
  for (const p of probes) {
    if (!p.available) continue;
    const file = join(outDir, `throughput-${p.backend}.json`);
    steps.push(
      step(`throughput ${p.backend}`, process.execPath, ["--import", "tsx", "tools/bench/throughput.ts", "--backend", p.backend, "--models", models, "--rounds", rounds, "--seconds", seconds, "--json", file], (out) =>
        out.includes("no ratio to PyTorch is available") ? "measured; PyTorch not found, no ratio" : "measured, with PyTorch ratios",
      ),
    );
    benchRows.push({ backend: p.backend, file });
  }

  interface Summary {
    model: string;
    mnemoTrain: number[];
    torchTrain: number[];
    mnemoForward: number[];
    torchForward: number[];
    trainRatio?: { median: number };
    forwardRatio?: { median: number };
  }
  const throughput = benchRows.flatMap(({ backend, file }) => {
    try {
      const j = JSON.parse(readFileSync(file, "utf8")) as { summaries: Summary[] };
      return j.summaries.map((s) => ({ backend, ...s }));
    } catch {
      return [];
    }
  });

  const result = {
    startedAt: started.toISOString(),
    seconds: (Date.now() - started.getTime()) / 1000,
    machine: { cpus: os.cpus()[0]?.model ?? "unknown", logicalCores: os.cpus().length, node: process.version, loadAvg: os.loadavg() },
    backends: probes,
    steps,
    throughput,
  };
  writeFileSync(join(outDir, "summary.json"), JSON.stringify(result, null, 2) + "\n");

  const med = (v: number[]) => (v.length ? [...v].sort((a, b) => a - b)[v.length >> 1]?.toFixed(0) : "—");
  const md = [
    `# GPU check, ${started.toISOString()}`,
    "",
    `Machine: ${result.machine.cpus}, ${result.machine.logicalCores} logical cores, Node ${process.version}, load ${os.loadavg().map((l) => l.toFixed(1)).join(" / ")}. Took ${result.seconds.toFixed(0)} s.`,
    "",
    "| backend | available | description or reason |",
    "|---|---|---|",
    ...probes.map((p) => `| ${p.backend} | ${p.available ? "yes" : "no"} | ${(p.available ? p.description : p.reason)?.replace(/\|/g, "\\|") ?? ""} |`),
    "",
    "| step | result | seconds | summary |",
    "|---|---|---|---|",
    ...steps.map((s) => `| ${s.name} | ${s.ok ? "ok" : "FAILED"} | ${s.seconds.toFixed(0)} | ${s.summary.replace(/\|/g, "/")} |`),
    "",
    "| backend | model | Mnemo train img/s | PyTorch train | ratio | Mnemo forward | PyTorch forward | ratio |",
    "|---|---|---|---|---|---|---|---|",
    ...throughput.map(
      (t) =>
        `| ${t.backend} | ${t.model} | ${med(t.mnemoTrain)} | ${med(t.torchTrain)} | ${t.trainRatio ? t.trainRatio.median.toFixed(2) + "×" : "—"} | ${med(t.mnemoForward)} | ${med(t.torchForward)} | ${t.forwardRatio ? t.forwardRatio.median.toFixed(2) + "×" : "—"} |`,
    ),
    "",
    "Ratios: Mnemo / PyTorch img/s, same round, same threads (median over rounds); — = PyTorch not found.",
    "",
  ].join("\n");
  writeFileSync(join(outDir, "summary.md"), md);
  console.log(md);
  console.log(`wrote ${join(outDir, "summary.json")} and summary.md`);
  if (steps.some((s) => !s.ok)) process.exitCode = 1;
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
