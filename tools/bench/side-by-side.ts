/**
 * What the side-by-side benchmarks share: finding a Python that imports torch, and turning
 * paired measurements (Mnemo and PyTorch in the same round) into ratios.
 * Ratios are only ever taken between two numbers measured in one invocation on one machine:
 * a constant from another host is no anchor (these VMs differ 2-3x from host to host).
 */
import { spawnSync } from "node:child_process";

export const TORCH_INSTALL_HINT = "apt-get install -y python3-torch libopenblas0-pthread (Debian's PyTorch 1.13; OpenBLAS keeps its matmul off the reference BLAS)";

export type TorchProbe = { ok: true; python: string; version: string } | { ok: false; reason: string };

/**
 * The first of `candidates` that imports torch. Default order: $MNEMO_BENCH_PYTHON, `python3` on
 * PATH, then /usr/bin/python3 (a pyenv `python3` on PATH does not see Debian's dist-packages).
 */
export function findTorchPython(candidates?: string[]): TorchProbe {
  const list = candidates ?? [process.env["MNEMO_BENCH_PYTHON"], "python3", "/usr/bin/python3"].filter((c): c is string => !!c);
  const tried: string[] = [];
  for (const python of [...new Set(list)]) {
    const r = spawnSync(python, ["-c", "import torch; print(torch.__version__)"], { encoding: "utf8", timeout: 60_000 });
    if (r.status === 0) return { ok: true, python, version: r.stdout.trim() };
    const why = r.error ? (r.error as NodeJS.ErrnoException).code ?? r.error.message : (r.stderr.trim().split("\n").pop() ?? `exit ${r.status}`);
    tried.push(`${python}: ${why}`);
  }
  return { ok: false, reason: tried.length ? tried.join("; ") : "no python candidate" };
}

/** The line printed instead of ratios when no PyTorch is found. */
export function noTorchMessage(reason: string): string {
  return (
    `PyTorch not found (${reason}): no ratio to PyTorch is available, only Mnemo's own numbers are shown.\n` +
    `Install it with: ${TORCH_INSTALL_HINT}; or point MNEMO_BENCH_PYTHON at a python that imports torch.`
  );
}

export interface RatioStats {
  min: number;
  median: number;
  max: number;
  n: number;
}

/** Min / median / max of the per-round ratios mnemo[i] / reference[i]; undefined without a valid pair. */
export function ratioStats(pairs: readonly { mnemo: number; reference: number }[]): RatioStats | undefined {
  const r = pairs.filter((p) => Number.isFinite(p.mnemo) && p.reference > 0).map((p) => p.mnemo / p.reference);
  if (r.length === 0) return undefined;
  r.sort((a, b) => a - b);
  const mid = r.length >> 1;
  const median = r.length % 2 ? (r[mid] as number) : ((r[mid - 1] as number) + (r[mid] as number)) / 2;
  return { min: r[0] as number, median, max: r[r.length - 1] as number, n: r.length };
}

/** "1.08× (1.02–1.13, 3 rounds)"; "—" when there is no pair. */
export function formatRatio(s: RatioStats | undefined): string {
  if (!s) return "—";
  const f = (v: number) => v.toFixed(2);
  return s.n === 1 ? `${f(s.median)}× (1 round)` : `${f(s.median)}× (${f(s.min)}–${f(s.max)}, ${s.n} rounds)`;
}

/** "181–186" for a set of measurements (one decimal dropped), or the single value. */
export function formatRange(values: readonly number[]): string {
  if (values.length === 0) return "—";
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  const f = (v: number) => (v >= 100 ? v.toFixed(0) : v.toFixed(1));
  return lo === hi ? f(lo) : `${f(lo)}–${f(hi)}`;
}

/** Right-aligned plain-text table. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((l) => (l[i] ?? "").length)));
  const fmt = (cells: readonly string[]) => cells.map((c, i) => c.padStart(widths[i] as number)).join("  ");
  return [fmt(header), ...rows.map(fmt)].join("\n");
}

/** Order of the two frameworks in round `round`: alternating, so drift in the machine's load hits both. */
export function roundOrder(round: number): ["mnemo", "pytorch"] | ["pytorch", "mnemo"] {
  return round % 2 === 0 ? ["mnemo", "pytorch"] : ["pytorch", "mnemo"];
}

/**
 * Environment of a PyTorch child. libgomp's default spin-waiting collapses PyTorch 5-20x when the
 * machine has more runnable threads than cores (measured 2026-12-03 at load 15-19 on 2 cores:
 * ResNet-20 training 7.4 img/s spinning, 161 img/s with OMP_WAIT_POLICY=PASSIVE), so the
 * benchmarks use PASSIVE unless `spin` is asked for, and record which.
 */
export function torchEnv(threads: number, spin: boolean, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base, OMP_NUM_THREADS: String(threads) };
  if (spin) delete env["OMP_WAIT_POLICY"];
  else env["OMP_WAIT_POLICY"] = "PASSIVE";
  return env;
}
