/**
 * planSweep: a sweep file -> its trials, each with its resolved and validated config and a
 * stable id. Nothing runs and nothing is written: every trial config goes through the experiment
 * library's schema first, so a typo in a sweep fails in a second, located in the sweep file.
 */
import { dirname, join, resolve } from "node:path";
import { ConfigError } from "@mnemo/core";
import { defaultRegistry, importComponentsOf, loadConfig, loadExperimentConfig, type ExperimentConfig, type LoadedConfig, type PathSegment, type Registry } from "@mnemo/experiment";
import { canonicalJson, trialId } from "./hash.js";
import { axisKeys, expandPoints, seedList, SweepSpecProblem, sweepFileSchema, type SweepFile, type SweepValue } from "./spec.js";

/** One run of a sweep: a grid point × a seed. Plain data (JSON), so a queue can carry it. */
export interface Trial {
  /** Stable id: hash of the resolved config (see hash.ts); the same across reruns and machines. */
  id: string;
  /** Position in the sweep (points in order, seeds inside each point). */
  index: number;
  /** Index of the point in `SweepPlan.points`. */
  pointIndex: number;
  /** The axis values of this trial's point (config key -> value), without the seed. */
  point: Record<string, SweepValue>;
  seed: number;
  /** The resolved config (defaults filled in, overrides applied, `imports:` absolute). */
  config: ExperimentConfig;
}

export interface SweepPlan {
  name: string;
  /** The sweep file, as given. */
  file: string;
  /** The sweep directory (absolute): manifest, trial runs, summary. */
  dir: string;
  /** The base config (absolute). */
  base: string;
  /** The parsed sweep file (defaults filled in). */
  sweep: SweepFile;
  /** The axis keys, in sweep-file order (the summary's columns). */
  keys: string[];
  /** The distinct points, in order. */
  points: Record<string, SweepValue>[];
  seeds: number[];
  trials: Trial[];
}

export interface PlanOptions {
  /** `key.path=value` overrides for every trial (after the sweep's `set:`), as `--set` gives them. */
  overrides?: string[];
  /** The sweep directory; default the sweep file's `dir:`, else runs/sweeps/<name> under `cwd`. */
  dir?: string;
  registry?: Registry;
  /** Base for the default sweep directory (default process.cwd()). */
  cwd?: string;
}

/** `key=value` as `--set` reads it: the value as JSON, which YAML reads back as the same value. */
export const toOverride = (key: string, v: SweepValue): string => `${key}=${JSON.stringify(v)}`;

/** The default sweep directory: stable, so that rerunning a sweep finds its finished trials. */
export function defaultSweepDir(name: string, cwd = process.cwd()): string {
  return resolve(cwd, "runs", "sweeps", name);
}

/** Reads and validates a sweep file, then every trial config; throws ConfigError at file:line. */
export async function planSweep(file: string, options: PlanOptions = {}): Promise<SweepPlan> {
  const registry = options.registry ?? defaultRegistry;
  const loaded = loadConfig(file, sweepFileSchema);
  const sweep = loaded.value;
  const at = (path: PathSegment[], problem: string): ConfigError => loaded.errorAt(path, problem);
  let points;
  try {
    points = expandPoints(sweep);
  } catch (err) {
    if (err instanceof SweepSpecProblem) throw at(err.path, err.problem);
    throw err;
  }
  const seeds = seedList(sweep);
  const total = points.length * seeds.length;
  if (points.length === 0) throw at([], "the sweep has no points left (exclude dropped them all)");
  if (total > sweep.max_runs) throw at(["max_runs"], `${points.length} points × ${seeds.length} seeds = ${total} trials exceed max_runs (${sweep.max_runs}); raise max_runs if you mean it`);
  const base = resolve(dirname(file), sweep.base);
  const fixed: { override: string; source: PathSegment[] }[] = [
    ...Object.entries(sweep.set).map(([k, v]) => ({ override: toOverride(k, v), source: ["set", k] as PathSegment[] })),
    ...(options.overrides ?? []).map((o) => ({ override: o, source: [] as PathSegment[] })),
  ];
  let imports: string[];
  try {
    imports = await importComponentsOf(base, registry, fixed.map((f) => f.override));
  } catch (err) {
    throw relocate(err, loaded, fixed.map((f) => f.source), ["base"]);
  }

  // The base config with the sweep's fixed overrides must be valid on its own: then an error in a
  // trial is caused by its point, and is reported there.
  try {
    loadExperimentConfig(base, { overrides: fixed.map((f) => f.override), registry });
  } catch (err) {
    throw relocate(err, loaded, fixed.map((f) => f.source), ["base"]);
  }

  const trials: Trial[] = [];
  const byId = new Map<string, Trial>();
  points.forEach((p, pointIndex) => {
    const pointOverrides = Object.entries(p.values).map(([k, v]) => ({ override: toOverride(k, v), source: p.sources[k] as PathSegment[] }));
    seeds.forEach((seed, s) => {
      const all = [...fixed, ...pointOverrides, { override: `seed=${seed}`, source: ["seeds", ...(typeof sweep.seeds === "number" ? [] : [s])] as PathSegment[] }];
      let config: LoadedConfig<ExperimentConfig>;
      try {
        config = loadExperimentConfig(base, { overrides: all.map((o) => o.override), registry });
      } catch (err) {
        throw relocate(err, loaded, all.map((o) => o.source), ["base"], pointOverrides);
      }
      if (imports.length === config.value.imports.length) config.value.imports = imports;
      const trial: Trial = { id: trialId(config.value), index: trials.length, pointIndex, point: p.values, seed, config: config.value };
      const twin = byId.get(trial.id);
      if (twin) {
        const source = Object.values(p.sources)[0] ?? ["include"];
        throw at(
          source,
          `point ${canonicalJson(p.values)} seed ${seed} resolves to the same config as point ${canonicalJson(twin.point)} seed ${twin.seed} (trial ${trial.id}); ` +
            `an axis over output, checkpoint, data or threads does not change results, and an include must add a new point`,
        );
      }
      byId.set(trial.id, trial);
      trials.push(trial);
    });
  });
  return {
    name: sweep.name,
    file,
    dir: options.dir ? resolve(options.dir) : sweep.dir ? resolve(dirname(file), sweep.dir) : defaultSweepDir(sweep.name, options.cwd),
    base,
    sweep,
    keys: axisKeys(sweep),
    points: points.map((p) => p.values),
    seeds,
    trials,
  };
}

/**
 * A trial config's error, told where the user can fix it: an error in an override the sweep gave
 * is re-located at that value in the sweep file; an error in the base config keeps its own place.
 */
function relocate(err: unknown, sweep: LoadedConfig<SweepFile>, sources: PathSegment[][], fallback: PathSegment[], point: { override: string; source: PathSegment[] }[] = []): unknown {
  if (!(err instanceof ConfigError)) return err;
  if (err.file !== "--set") {
    // The base config is valid with the fixed overrides, so the point made this one invalid
    // (method.name: er without method.memory_size): report it at the point's closest key.
    const key = err.path ?? "";
    const shared = (k: string): number => {
      const a = k.split(".");
      const b = key.split(".");
      let n = 0;
      while (n < a.length && n < b.length && a[n] === b[n]) n++;
      return n;
    };
    const best = [...point].sort((x, y) => shared(sweepKeyOf(y.source) ?? "") - shared(sweepKeyOf(x.source) ?? ""))[0];
    if (!best) return err;
    return sweep.errorAt(best.source, `with ${best.override} the trial config is invalid: ${err.message}; give the missing key in set: (or include it in this point)`);
  }
  const key = err.path ?? "";
  // Which override gave the failing key: the last one whose key is the key or a prefix of it.
  const order = sources.map((source, i) => ({ source, i }));
  const hit = [...order].reverse().find(({ source }) => {
    const k = sweepKeyOf(source);
    return k !== undefined && (key === k || key.startsWith(k + ".") || k.startsWith(key + "."));
  });
  if (!hit) {
    // A command-line --set (no sweep source) keeps the --set location.
    if (sources.some((s) => s.length === 0)) return err;
    return sweep.errorAt(fallback, err.message);
  }
  const src = hit.source;
  return sweep.errorAt(src, src[0] === "seeds" ? err.problem : `${err.problem}${key && key !== sweepKeyOf(src) ? ` (at ${key})` : ""}`);
}

/** The config key a sweep-file path sets: grid.<key>.<i>, list.<key>.<i>, random.params.<key>, include.<i>.<key>, set.<key>, seeds. */
function sweepKeyOf(source: PathSegment[]): string | undefined {
  const [head, a, b] = source;
  if (head === "grid" || head === "list" || head === "set") return String(a);
  if (head === "random") return String(b);
  if (head === "include") return String(b);
  if (head === "seeds") return "seed";
  return undefined;
}

/** Where a trial's runs live: `<sweepDir>/trials/<id>/`. */
export const trialDir = (sweepDir: string, id: string): string => join(sweepDir, "trials", id);
