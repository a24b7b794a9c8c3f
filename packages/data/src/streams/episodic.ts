/**
 * Episodic meta-learning streams (`stream.kind: meta-learning`): the dataset's classes are split
 * into disjoint meta-train / meta-val / meta-test sets (counts drawn in a seeded or the dataset
 * order, or explicit lists), optionally multiplied by rotations (each rotated class is a class
 * of its own, in the same split as its source: Omniglot's ×4). A class's train and test images
 * form one pool: the split is over classes, so no image is in two splits.
 *
 * The stream has one task, meta-training: `train` holds the meta-train classes, `validation` the
 * meta-val classes and `test` the meta-test classes, labelled in three consecutive ranges. The
 * episode shapes and the evaluation protocols travel with the stream (and its hash).
 */
import { ConfigError } from "@mnemo/core/errors";
import { SeededRng } from "@mnemo/core/rng";
import type { ImageSet, Task } from "@mnemo/core";
import type { Dataset } from "../datasets/types.js";
import { canonicalJson, sha256Hex } from "./hash.js";
import type { EpisodicStreamConfig } from "./schema.js";
import { indicesByClass, limitIndices } from "./subset.js";
import type { BuiltStream, TaskSampleCounts } from "./task-stream.js";
import { rotateImages } from "./transforms.js";
import { datasetFingerprint, RngAccess } from "./build.js";

const DESCRIPTOR_FORMAT = "mnemo-episodic/1";

export interface EpisodeShape {
  ways: number;
  shots: number;
  queries: number;
}

export interface ContinualFewShotSpec extends EpisodeShape {
  chunks: number;
  repeats: number;
}

/** Stream labels of each split (consecutive ranges: train, then validation, then test). */
export interface ClassSplit {
  train: number[];
  validation: number[];
  test: number[];
}

export interface EpisodicStream extends BuiltStream {
  readonly scenario: "meta-learning";
  readonly split: ClassSplit;
  /** Meta-training episodes. */
  readonly episodes: EpisodeShape;
  /** Meta-validation / meta-test episodes and how many are drawn for meta-test. */
  readonly testEpisodes: EpisodeShape & { count: number };
  /** Continual few-shot protocol on the meta-test classes, when configured. */
  readonly continual?: ContinualFewShotSpec;
}

export function isEpisodicStream(s: { scenario: string }): s is EpisodicStream {
  return s.scenario === "meta-learning" && "split" in s && "episodes" in s;
}

/** Resolve the three class sets (dataset class ids): lists are taken as given, counts in `order`. */
function resolveSplit(cfg: EpisodicStreamConfig, numClasses: number, rng: RngAccess): { train: number[]; validation: number[]; test: number[] } {
  const c = cfg.classes;
  const names = ["train", "validation", "test"] as const;
  const taken = new Map<number, string>();
  for (const name of names) {
    const v = c[name];
    if (typeof v === "number") continue;
    v.forEach((id, i) => {
      const path = `stream.classes.${name}[${i}]`;
      if (id >= numClasses) throw new ConfigError(`class ${id} is not a class id of the dataset (0..${numClasses - 1})`, { path });
      const other = taken.get(id);
      if (other) throw new ConfigError(`class ${id} is already in the ${other} classes; the splits must be disjoint`, { path });
      taken.set(id, name);
    });
  }
  const wanted = names.reduce((a, n) => a + (typeof c[n] === "number" ? (c[n] as number) : 0), 0);
  // Only counts draw from the order (explicit lists alone leave the run seed out of the stream).
  const order =
    wanted === 0 || c.order === "dataset"
      ? Array.from({ length: numClasses }, (_, i) => i)
      : (c.order_seed !== undefined ? new SeededRng(c.order_seed) : rng.get()).stream("stream-order").permutation(numClasses);
  const free = order.filter((id) => !taken.has(id));
  if (wanted > free.length) {
    throw new ConfigError(`the class counts ask for ${wanted} classes, but only ${free.length} are left (the dataset has ${numClasses})`, { path: "stream.classes" });
  }
  let k = 0;
  const out = { train: [] as number[], validation: [] as number[], test: [] as number[] };
  for (const name of names) {
    const v = c[name];
    out[name] = typeof v === "number" ? free.slice(k, (k += v)) : [...v];
  }
  if (out.train.length === 0) throw new ConfigError("meta-training needs at least one class", { path: "stream.classes.train" });
  if (out.test.length === 0) throw new ConfigError("meta-test needs at least one class", { path: "stream.classes.test" });
  return out;
}

/** Images of the listed (dataset) classes, each rotated copy a class of its own; labels from `firstLabel`. */
function gatherSplit(
  classes: number[],
  pools: { set: ImageSet; index: number }[][],
  rotations: number[],
  firstLabel: number,
  shape: readonly [number, number, number],
): ImageSet {
  const size = shape[0] * shape[1] * shape[2];
  const count = classes.reduce((a, c) => a + (pools[c] as unknown[]).length, 0) * rotations.length;
  const images = new Uint8Array(count * size);
  const labels = new Int32Array(count);
  let o = 0;
  classes.forEach((c, k) => {
    const pool = pools[c] as { set: ImageSet; index: number }[];
    rotations.forEach((angle, r) => {
      const start = o;
      for (const { set, index } of pool) {
        images.set(set.images.subarray(index * size, (index + 1) * size), o * size);
        labels[o++] = firstLabel + k * rotations.length + r;
      }
      if (angle % 360 !== 0) {
        const part = { images: images.subarray(start * size, o * size), labels: labels.subarray(start, o), count: o - start, shape };
        rotateImages(part, angle);
      }
    });
  });
  return { images, labels, count, shape };
}

function minPerClass(set: ImageSet, labels: number[]): number {
  const counts = new Map<number, number>(labels.map((l) => [l, 0]));
  for (const y of set.labels) counts.set(y, (counts.get(y) ?? 0) + 1);
  return Math.min(...counts.values());
}

function checkEpisodes(shape: EpisodeShape, path: string, sets: { name: string; set: ImageSet; labels: number[] }[]): void {
  for (const { name, set, labels } of sets) {
    if (labels.length === 0) continue;
    if (shape.ways > labels.length) {
      throw new ConfigError(`ways ${shape.ways} needs at least ${shape.ways} ${name} classes, the split has ${labels.length}`, { path: `${path}.ways` });
    }
    const min = minPerClass(set, labels);
    if (shape.shots + shape.queries > min) {
      throw new ConfigError(`shots ${shape.shots} + queries ${shape.queries} need that many images per class, but a ${name} class has only ${min}`, { path: `${path}.shots` });
    }
  }
}

class PlannedEpisodicStream implements EpisodicStream {
  readonly scenario = "meta-learning" as const;
  readonly numTasks = 1;
  readonly online = false;
  constructor(
    readonly name: string,
    readonly numClasses: number,
    readonly labelMap: readonly number[],
    readonly classNames: readonly string[],
    readonly split: ClassSplit,
    readonly inputShape: readonly [number, number, number],
    readonly hash: string,
    readonly descriptor: Readonly<Record<string, unknown>>,
    readonly source: string,
    readonly episodes: EpisodeShape,
    readonly testEpisodes: EpisodeShape & { count: number },
    readonly continual: ContinualFewShotSpec | undefined,
    private readonly sets: { train: ImageSet; validation: ImageSet; test: ImageSet },
    readonly warnings: readonly string[],
    readonly normalization?: { mean: readonly number[]; std: readonly number[] },
  ) {}

  get taskClasses(): readonly (readonly number[])[] {
    return [this.split.train];
  }

  get taskSizes(): readonly TaskSampleCounts[] {
    return [{ train: this.sets.train.count, validation: this.sets.validation.count, test: this.sets.test.count }];
  }

  async task(index: number): Promise<Task> {
    if (index !== 0) throw new RangeError(`a meta-learning stream has one task (meta-training), asked for task ${index}`);
    const task: Task = { index: 0, classes: [...this.split.train], train: this.sets.train, test: this.sets.test };
    if (this.sets.validation.count > 0) task.validation = this.sets.validation;
    return task;
  }

  async testSet(index: number): Promise<ImageSet> {
    if (index !== 0) throw new RangeError(`a meta-learning stream has one task (meta-training), asked for task ${index}`);
    return this.sets.test;
  }
}

export function buildEpisodicStream(cfg: EpisodicStreamConfig, dataset: Dataset, seed: number): EpisodicStream {
  const rng = new RngAccess(seed);
  const ids = resolveSplit(cfg, dataset.numClasses, rng);
  const byTrain = indicesByClass(dataset.train.labels, dataset.numClasses);
  const byTest = indicesByClass(dataset.test.labels, dataset.numClasses);
  const pools = byTrain.map((ix, c) => {
    const all = [...Array.from(ix, (index) => ({ set: dataset.train, index })), ...Array.from(byTest[c] as Int32Array, (index) => ({ set: dataset.test, index }))];
    if (cfg.limit_per_class === undefined || all.length <= cfg.limit_per_class) return all;
    const keep = limitIndices(Int32Array.from(all, (_, k) => k), cfg.limit_per_class, rng.get(), `stream-limit/class${c}`);
    return Array.from(keep, (k) => all[k] as { set: ImageSet; index: number });
  });
  const rotations = cfg.rotations ?? [0];
  const R = rotations.length;
  const labelMap: number[] = [];
  const classNames: string[] = [];
  for (const c of [...ids.train, ...ids.validation, ...ids.test]) {
    for (const angle of rotations) {
      labelMap.push(c);
      const base = dataset.classNames[c] ?? String(c);
      classNames.push(R > 1 || angle % 360 !== 0 ? `${base}@${angle}` : base);
    }
  }
  const nTrain = ids.train.length * R;
  const nVal = ids.validation.length * R;
  const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);
  const split: ClassSplit = { train: range(0, nTrain), validation: range(nTrain, nVal), test: range(nTrain + nVal, ids.test.length * R) };
  const sets = {
    train: gatherSplit(ids.train, pools, rotations, 0, dataset.shape),
    validation: gatherSplit(ids.validation, pools, rotations, nTrain, dataset.shape),
    test: gatherSplit(ids.test, pools, rotations, nTrain + nVal, dataset.shape),
  };
  const all = [
    { name: "meta-train", set: sets.train, labels: split.train },
    { name: "meta-validation", set: sets.validation, labels: split.validation },
    { name: "meta-test", set: sets.test, labels: split.test },
  ];
  const empty = all.find((s) => s.labels.length > 0 && minPerClass(s.set, s.labels) === 0);
  if (empty) throw new ConfigError(`a ${empty.name} class has no images in the dataset`, { path: "stream.classes" });
  checkEpisodes(cfg.episodes, "stream.episodes", [all[0] as (typeof all)[number]]);
  checkEpisodes(cfg.test_episodes, "stream.test_episodes", all.slice(1));
  if (cfg.continual) {
    const c = cfg.continual;
    if (c.chunks * c.ways > split.test.length) {
      throw new ConfigError(`${c.chunks} chunks × ${c.ways} ways need ${c.chunks * c.ways} meta-test classes, the split has ${split.test.length}`, { path: "stream.continual.chunks" });
    }
    checkEpisodes(c, "stream.continual", [all[2] as (typeof all)[number]]);
  }
  const descriptor: Record<string, unknown> = {
    format: DESCRIPTOR_FORMAT,
    config: cfg,
    dataset: datasetFingerprint(dataset),
    labelMap,
    classes: ids,
    splitSizes: { train: sets.train.count, validation: sets.validation.count, test: sets.test.count },
  };
  if (rng.used) descriptor["seed"] = seed;
  const hash = sha256Hex(canonicalJson(descriptor));
  const e = cfg.episodes;
  return new PlannedEpisodicStream(
    `${dataset.name}/meta-learning/${e.ways}-way-${e.shots}-shot`,
    labelMap.length,
    Object.freeze(labelMap),
    Object.freeze(classNames),
    split,
    dataset.shape,
    hash,
    Object.freeze(descriptor),
    dataset.source,
    { ways: e.ways, shots: e.shots, queries: e.queries },
    { ...cfg.test_episodes },
    cfg.continual ? { ...cfg.continual } : undefined,
    sets,
    Object.freeze([...(dataset.warnings ?? [])]),
    dataset.normalization,
  );
}
