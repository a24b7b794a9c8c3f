/**
 * Comparing runs: which config keys differ, which runs are the same experiment up to the seed
 * (grouped, with mean ± std of every final metric and of the A_t curve), and sweeps (grid point
 * -> mean ± std). Pure functions over run-directory contents; the HTML lives in report.ts.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import { TrackingError } from "@mnemo/core";
import { flattenConfig } from "./flatten.js";
import { readRunDir, type RunDirContents } from "./run-dir.js";
import { seenTaskAccuracy } from "./svg.js";

export interface MeanStd {
  mean: number;
  /** Sample standard deviation (n - 1); 0 for a single value. */
  std: number;
  n: number;
}

/** Mean and sample std (n - 1, as the sweep table prints them); NaN mean for no values. */
export function meanStd(xs: readonly number[]): MeanStd {
  const n = xs.length;
  if (n === 0) return { mean: Number.NaN, std: Number.NaN, n: 0 };
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  const std = n > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : 0;
  return { mean, std, n };
}

/** Config keys that do not define the experiment: runs differing only in these are repeats. */
export function isRepeatKey(key: string): boolean {
  return key === "seed" || key === "output" || key.startsWith("output.");
}

export interface ConfigDiff {
  /** Flattened keys whose value is not the same in every run (missing counts as different). */
  keys: string[];
  /** values[r][k]: run r's value of keys[k] ("" when the run has no such key). */
  values: string[][];
  /** Keys with one value across all runs, and that value. */
  common: Record<string, string>;
}

export function configDiff(configs: readonly Record<string, unknown>[]): ConfigDiff {
  const flat = configs.map((c) => flattenConfig(c));
  const all = [...new Set(flat.flatMap((f) => Object.keys(f)))].sort();
  const keys: string[] = [];
  const common: Record<string, string> = {};
  for (const k of all) {
    const vals = flat.map((f) => f[k]);
    if (vals.every((v) => v !== undefined && v === vals[0])) common[k] = vals[0] as string;
    else keys.push(k);
  }
  return { keys, values: flat.map((f) => keys.map((k) => f[k] ?? "")), common };
}

export interface RunGroup {
  /** What sets this group apart from the others (the non-seed keys that differ), e.g. `training.lr=0.01`. */
  label: string;
  /** Values of the differing non-seed keys. */
  settings: Record<string, string>;
  /** Indices into the runs given to groupRuns. */
  members: number[];
  seeds: number[];
  /** Final metrics (metrics.json `final`), over the members that have them. */
  metrics: Record<string, MeanStd>;
  /** A_t per step over the members (seen tasks only, sample-weighted where testSizes are known). */
  curve: (MeanStd | null)[];
}

/** Groups runs whose configs are equal up to the seed (and output location), in first-seen order. */
export function groupRuns(runs: readonly RunDirContents[]): RunGroup[] {
  const flat = runs.map((r) => Object.fromEntries(Object.entries(flattenConfig(r.config)).filter(([k]) => !isRepeatKey(k))));
  const diff = configDiff(flat);
  const byKey = new Map<string, number[]>();
  flat.forEach((f, i) => {
    const key = JSON.stringify(Object.keys(f).sort().map((k) => [k, f[k]]));
    byKey.set(key, [...(byKey.get(key) ?? []), i]);
  });
  return [...byKey.values()].map((members) => {
    const first = members[0] as number;
    const settings = Object.fromEntries(diff.keys.map((k, j) => [k, diff.values[first]?.[j] ?? ""]));
    const label = diff.keys.length ? diff.keys.map((k) => `${k}=${settings[k] === "" ? "(unset)" : settings[k]}`).join(", ") : runs[first]!.run.experiment;
    const metricKeys = [...new Set(members.flatMap((i) => Object.keys(runs[i]!.metrics?.final ?? {})))].sort();
    const metrics = Object.fromEntries(
      metricKeys.map((k) => [k, meanStd(members.map((i) => runs[i]!.metrics?.final[k]).filter((v): v is number => typeof v === "number" && Number.isFinite(v)))]),
    );
    const curves = members.map((i) => (runs[i]!.accuracy ? seenTaskAccuracy(runs[i]!.accuracy!.matrix, runs[i]!.accuracy!.testSizes) : []));
    const steps = Math.max(0, ...curves.map((c) => c.length));
    const curve = Array.from({ length: steps }, (_, t) => {
      const vals = curves.map((c) => c[t]).filter((v): v is number => typeof v === "number");
      return vals.length ? meanStd(vals) : null;
    });
    return { label, settings, members, seeds: members.map((i) => runs[i]!.run.seed), metrics, curve };
  });
}

/** A sweep directory (`mnemo sweep` output): its definition and the runs found for it. */
export interface SweepContents {
  dir: string;
  name: string;
  /** Grid keys in the order of sweep.yaml. */
  gridKeys: string[];
  runs: RunDirContents[];
}

/** True when `dir` was written by `mnemo sweep` (it has a sweep.yaml). */
export function isSweepDir(dir: string): boolean {
  return existsSync(join(dir, "sweep.yaml")) && !existsSync(join(dir, "run.json"));
}

/**
 * Reads a sweep directory: sweep.yaml for the grid, and its runs from summary.json (paths as the
 * sweep recorded them, relative to where it ran or to the sweep directory) plus any run
 * directories below it.
 */
export function readSweepDir(dir: string): SweepContents {
  let sweep: Record<string, unknown>;
  try {
    const parsed: unknown = parseYaml(readFileSync(join(dir, "sweep.yaml"), "utf8"));
    sweep = parsed !== null && typeof parsed === "object" && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
  } catch (cause) {
    throw new TrackingError(`${join(dir, "sweep.yaml")}: cannot read the sweep definition (${(cause as Error).message}).`, {}, { cause });
  }
  const found = new Set<string>();
  const summaryFile = join(dir, "summary.json");
  if (existsSync(summaryFile)) {
    let summary: { runs?: { runDir?: unknown }[] };
    try {
      summary = JSON.parse(readFileSync(summaryFile, "utf8")) as typeof summary;
    } catch (cause) {
      throw new TrackingError(`${summaryFile}: cannot read JSON (${(cause as Error).message}).`, {}, { cause });
    }
    for (const r of summary.runs ?? []) {
      if (typeof r.runDir !== "string") continue;
      const candidates = isAbsolute(r.runDir) ? [r.runDir] : [resolve(r.runDir), resolve(dir, r.runDir)];
      const hit = candidates.find((c) => existsSync(join(c, "run.json")));
      if (!hit) throw new TrackingError(`${summaryFile} lists run ${r.runDir}, which is not there (looked in ${candidates.join(" and ")}).`);
      found.add(hit);
    }
  }
  for (const d of runDirsBelow(dir, 4)) found.add(d);
  // A sweep of @mnemo/sweep lists its axis keys (grid, list, random, include) in plan.json.
  let grid = sweep.grid !== null && typeof sweep.grid === "object" ? Object.keys(sweep.grid as object) : [];
  try {
    const plan = JSON.parse(readFileSync(join(dir, "plan.json"), "utf8")) as { keys?: unknown };
    if (Array.isArray(plan.keys) && plan.keys.every((k) => typeof k === "string")) grid = plan.keys as string[];
  } catch {
    // no plan.json (a sweep directory of an older mnemo): the grid keys of sweep.yaml
  }
  return { dir, name: typeof sweep.name === "string" ? sweep.name : dir, gridKeys: grid, runs: [...found].sort().map((d) => readRunDir(d)) };
}

function runDirsBelow(dir: string, depth: number): string[] {
  if (depth === 0) return [];
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const sub = join(dir, name);
    if (!statSync(sub).isDirectory()) continue;
    if (existsSync(join(sub, "run.json"))) out.push(resolve(sub));
    else out.push(...runDirsBelow(sub, depth - 1));
  }
  return out;
}

export interface SweepPoint {
  /** Grid key -> value (as flattened params). */
  point: Record<string, string>;
  group: RunGroup;
}

/** Groups a sweep's runs by grid point; the point is read from each run's own config. */
export function sweepPoints(sweep: SweepContents): SweepPoint[] {
  return groupRuns(sweep.runs).map((group) => {
    const cfg = flattenConfig(sweep.runs[group.members[0] as number]!.config);
    return { point: Object.fromEntries(sweep.gridKeys.map((k) => [k, cfg[k] ?? ""])), group };
  });
}
