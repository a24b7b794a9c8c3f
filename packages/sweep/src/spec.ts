/**
 * The sweep file: a base config, axes over any config key and a seeds axis.
 *
 *   name: cil-mnist-lr
 *   base: ../cil-mnist.yaml            # relative to the sweep file
 *   seeds: [0, 1, 2]                   # or a count: `seeds: 3` is [0, 1, 2]
 *   grid:                              # every combination (keys as written, values as listed)
 *     training.lr: [0.001, 0.0003]
 *   list:                              # zipped: the i-th values of every key form one point
 *     method.alpha: [0.1, 0.3]
 *     method.beta: [0.5, 1.0]
 *   random:                            # `samples` draws from a seeded sampler
 *     samples: 4
 *     seed: 0
 *     params:
 *       training.lr: { log_uniform: [0.0001, 0.01] }
 *       training.batch_size: { choice: [32, 64] }
 *   exclude: [{ training.lr: 0.001, method.alpha: 0.3 }]   # drop the points matching every key given
 *   include: [{ training.lr: 0.01, method.alpha: 0.5 }]    # add points (after exclude)
 *   set: { training.epochs: 1 }        # fixed overrides for every trial
 *
 * The points are grid × list × random (each block one empty point when absent), minus exclude,
 * plus include; every point runs once per seed. Pure functions: no file is read here.
 */
import { SeededRng } from "@mnemo/core";
import { folderName, nonNegativeInt, positiveInt, type PathSegment } from "@mnemo/experiment";
import { z } from "zod";
import { canonicalJson } from "./hash.js";

/** A value a sweep may give a config key: YAML scalars, lists and mappings. */
export type SweepValue = string | number | boolean | null | SweepValue[] | { [key: string]: SweepValue };
const value: z.ZodType<SweepValue> = z.lazy(() => z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(value), z.record(z.string(), value)]));

const range = (what: string, check: (lo: number, hi: number) => boolean) =>
  z.tuple([z.number(), z.number()], { error: `expected [low, high], two numbers` }).refine(([lo, hi]) => check(lo, hi), { error: what });

const distribution = z.union(
  [
    z.strictObject({ uniform: range("expected [low, high] with low < high", (lo, hi) => lo < hi) }),
    z.strictObject({ log_uniform: range("expected [low, high] with 0 < low < high", (lo, hi) => lo > 0 && lo < hi) }),
    z.strictObject({ int: range("expected integers [low, high] with low <= high (both included)", (lo, hi) => Number.isInteger(lo) && Number.isInteger(hi) && lo <= hi) }),
    z.strictObject({ choice: z.array(value).min(1, "expected at least one choice") }),
  ],
  { error: "expected one of { uniform: [lo, hi] }, { log_uniform: [lo, hi] }, { int: [lo, hi] }, { choice: [a, b, ...] }" },
);
export type Distribution = z.infer<typeof distribution>;

export const sweepFileSchema = z.strictObject({
  name: folderName(),
  base: z.string().min(1).describe("Base config file, relative to the sweep file"),
  dir: z.string().min(1).optional().describe("The sweep directory; default runs/sweeps/<name> (relative to the working directory)"),
  seeds: z.union([z.array(nonNegativeInt()).min(1, "expected at least one seed"), positiveInt()]).default([0]).describe("Seeds of every point, or a count n (seeds 0..n-1)"),
  grid: z.record(z.string(), z.array(value).min(1, "expected at least one value")).default({}).describe("key.path -> values; every combination"),
  list: z.record(z.string(), z.array(value).min(1, "expected at least one value")).default({}).describe("key.path -> values; the i-th values of all keys form point i"),
  random: z
    .strictObject({
      samples: positiveInt(),
      seed: nonNegativeInt().default(0).describe("Seed of the sampler (not of the trials)"),
      params: z.record(z.string(), distribution),
    })
    .optional(),
  include: z.array(z.record(z.string(), value)).default([]).describe("Extra points: key.path -> value"),
  exclude: z.array(z.record(z.string(), value)).default([]).describe("Drop points matching every key.path -> value given"),
  set: z.record(z.string(), value).default({}).describe("Overrides applied to every trial"),
  max_runs: positiveInt().default(200).describe("Refuse sweeps with more trials than this (a typo guard)"),
});
export type SweepFile = z.output<typeof sweepFileSchema>;

/** One grid point: config key -> value, and where in the sweep file each value comes from. */
export interface PointSpec {
  values: Record<string, SweepValue>;
  /** key -> the path of its value in the sweep file (for errors located at file:line). */
  sources: Record<string, PathSegment[]>;
}

/** A problem in the sweep file at a key path (the caller turns it into a ConfigError at file:line). */
export class SweepSpecProblem extends Error {
  constructor(
    readonly path: PathSegment[],
    readonly problem: string,
  ) {
    super(problem);
  }
}

/** Keys a sweep cannot vary: the seed has its own axis. */
function checkAxisKey(key: string, where: PathSegment[]): void {
  if (key === "seed") throw new SweepSpecProblem(where, "the seed is not an axis key: list the seeds under `seeds:`");
  if (key.trim() === "" || key.startsWith(".") || key.endsWith(".")) throw new SweepSpecProblem(where, `"${key}" is not a config key path (write e.g. training.lr)`);
}

/** Rounds a sampled number to 4 significant digits (readable trial configs and table columns). */
export const roundSample = (x: number): number => Number(x.toPrecision(4));

/** Draws one value; every draw comes from the one named stream `sweep/random` of `random.seed`. */
export function sample(d: Distribution, rng: ReturnType<SeededRng["stream"]>): SweepValue {
  if ("uniform" in d) return roundSample(rng.uniform(d.uniform[0], d.uniform[1]));
  if ("log_uniform" in d) return roundSample(Math.exp(rng.uniform(Math.log(d.log_uniform[0]), Math.log(d.log_uniform[1]))));
  if ("int" in d) return d.int[0] + rng.int(d.int[1] - d.int[0] + 1);
  return d.choice[rng.int(d.choice.length)] as SweepValue;
}

const matches = (point: Record<string, SweepValue>, filter: Record<string, SweepValue>): boolean =>
  Object.entries(filter).every(([k, v]) => k in point && canonicalJson(point[k]) === canonicalJson(v));

/** The sweep's points in a stable order: grid × list × random, minus exclude, plus include. */
export function expandPoints(sweep: SweepFile): PointSpec[] {
  const seen = new Map<string, PathSegment[]>();
  const axis = (key: string, where: PathSegment[]): void => {
    checkAxisKey(key, where);
    const other = seen.get(key);
    if (other) throw new SweepSpecProblem(where, `${key} is already an axis at ${other.join(".")}; give each key one axis`);
    seen.set(key, where);
  };
  let points: PointSpec[] = [{ values: {}, sources: {} }];
  for (const [key, values] of Object.entries(sweep.grid)) {
    axis(key, ["grid", key]);
    points = points.flatMap((p) => values.map((v, i) => ({ values: { ...p.values, [key]: v }, sources: { ...p.sources, [key]: ["grid", key, i] } })));
  }
  const listKeys = Object.keys(sweep.list);
  if (listKeys.length > 0) {
    const n = (sweep.list[listKeys[0] as string] as SweepValue[]).length;
    for (const key of listKeys) {
      axis(key, ["list", key]);
      const len = (sweep.list[key] as SweepValue[]).length;
      if (len !== n) throw new SweepSpecProblem(["list", key], `has ${len} values, ${listKeys[0]} has ${n}: list: zips its keys, so every key needs the same number of values (use grid: for combinations)`);
    }
    points = points.flatMap((p) =>
      Array.from({ length: n }, (_, i) => ({
        values: { ...p.values, ...Object.fromEntries(listKeys.map((k) => [k, (sweep.list[k] as SweepValue[])[i] as SweepValue])) },
        sources: { ...p.sources, ...Object.fromEntries(listKeys.map((k) => [k, ["list", k, i]])) },
      })),
    );
  }
  if (sweep.random) {
    const { samples, seed, params } = sweep.random;
    const keys = Object.keys(params);
    if (keys.length === 0) throw new SweepSpecProblem(["random", "params"], "expected at least one key to sample, e.g. training.lr: { log_uniform: [0.0001, 0.01] }");
    for (const key of keys) axis(key, ["random", "params", key]);
    const rng = new SeededRng(seed).stream("sweep/random");
    const draws = Array.from({ length: samples }, () => Object.fromEntries(keys.map((k) => [k, sample(params[k] as Distribution, rng)])));
    points = points.flatMap((p) =>
      draws.map((d) => ({ values: { ...p.values, ...d }, sources: { ...p.sources, ...Object.fromEntries(keys.map((k) => [k, ["random", "params", k]])) } })),
    );
  }
  if (seen.size === 0 && sweep.include.length > 0) points = []; // only the included points
  sweep.exclude.forEach((filter, i) => {
    const keys = Object.keys(filter);
    if (keys.length === 0) throw new SweepSpecProblem(["exclude", i], "an empty exclude entry would drop every point; give key.path: value pairs");
    for (const k of keys) if (!seen.has(k)) throw new SweepSpecProblem(["exclude", i, k], `${k} is not an axis of this sweep (axes: ${[...seen.keys()].join(", ") || "none"})`);
    const before = points.length;
    points = points.filter((p) => !matches(p.values, filter));
    if (points.length === before) throw new SweepSpecProblem(["exclude", i], `matches no point of the sweep; check the values (they must equal an axis value) or remove the entry`);
  });
  sweep.include.forEach((extra, i) => {
    const keys = Object.keys(extra);
    if (keys.length === 0) throw new SweepSpecProblem(["include", i], "an empty include entry; give key.path: value pairs");
    for (const k of keys) checkAxisKey(k, ["include", i, k]);
    points.push({ values: { ...extra }, sources: Object.fromEntries(keys.map((k) => [k, ["include", i, k]])) });
  });
  return points;
}

/** The seeds of every point (`seeds: 3` is [0, 1, 2]). */
export function seedList(sweep: SweepFile): number[] {
  return typeof sweep.seeds === "number" ? Array.from({ length: sweep.seeds }, (_, i) => i) : [...sweep.seeds];
}

/** The axis keys in sweep-file order (grid, list, random, then keys only include sets). */
export function axisKeys(sweep: SweepFile): string[] {
  const keys = [...Object.keys(sweep.grid), ...Object.keys(sweep.list), ...Object.keys(sweep.random?.params ?? {})];
  for (const extra of sweep.include) for (const k of Object.keys(extra)) if (!keys.includes(k)) keys.push(k);
  return keys;
}
