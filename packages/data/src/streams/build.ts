import { ConfigError } from "@mnemo/core/errors";
import { SeededRng, type RandomStream } from "@mnemo/core/rng";
import type { Scenario } from "@mnemo/core";
import type { Dataset, ProgressCallback } from "../datasets/types.js";
import { loadDataset } from "./load-dataset.js";
import { resolveClassOrder, type ClassOrderSpec } from "./orders.js";
import { partitionClasses } from "./partition.js";
import { canonicalJson, sha256Hex } from "./hash.js";
import { anyStreamConfigSchema, type AnyStreamConfig, type StreamConfig } from "./schema.js";
import type { EpisodicStream } from "./episodic.js";
import { applySplitFiles } from "./split-files.js";
import { resolveNormalization } from "./normalize.js";
import { carveValidation, concatIndices, indicesByClass, inverseLabelMap, limitIndices } from "./subset.js";
import { PlannedStream, type BuiltStream, type TaskPlan } from "./task-stream.js";
import { permutePixels, rotateImages } from "./transforms.js";
import { planFewShot } from "./fscil.js";
import { buildEpisodicStream } from "./episodic.js";
import { splitLabels } from "./labelling.js";
import { planCorruptions } from "./corrupted.js";

/**
 * Semi-supervised streams: each task keeps the labels of a per-class selection of its training
 * images and delivers the rest as `task.unlabelled`. Keyed by task and original class, so the
 * selection of one class never depends on the others.
 */
function applyLabels(cfg: StreamConfig, dataset: Dataset, plans: TaskPlan[], rng: RngAccess): Record<string, unknown> {
  if (cfg.kind === "few-shot-class-incremental" || !cfg.labels) return {};
  const spec = cfg.labels;
  const labelled: number[][] = [];
  plans.forEach((plan, t) => {
    const byClass = new Map<number, number[]>();
    for (const i of plan.train) {
      const c = dataset.train.labels[i] as number;
      let list = byClass.get(c);
      if (!list) byClass.set(c, (list = []));
      list.push(i);
    }
    const classes = [...byClass.keys()].sort((a, b) => a - b);
    const pools = classes.map((c) => Int32Array.from(byClass.get(c) as number[]));
    const split = splitLabels(dataset.train, pools, spec, (k) => rng.get().derive(`${spec.stream}/task${t}/class${classes[k]}`));
    plan.train = split.labelled;
    plan.unlabelled = split.unlabelled;
    labelled.push(Array.from(split.labelled));
  });
  return { labelledSha256: sha256Hex(canonicalJson(labelled)) };
}

export interface BuildStreamOptions {
  /** Run seed; every random choice uses a named stream of it ("stream-order", "validation", ...). */
  seed: number;
  /** Local copies / download cache (default `$MNEMO_DATA_DIR`, else ~/.cache/mnemo/datasets). */
  dataDir?: string;
  /** Download missing dataset files (default true; false or `MNEMO_DOWNLOAD=0` forbids it). */
  download?: boolean;
  /** Base URL of a mirror of the release files (default `$MNEMO_DATASET_MIRROR`). */
  mirror?: string;
  /** md5 per file name, replacing the official ones (a mirror serving another copy). */
  checksums?: Readonly<Record<string, string>>;
  /** Official files with a non-official record count: "warn" (default, see BuiltStream.warnings) or "refuse". */
  incomplete?: "warn" | "refuse";
  /** Connect timeout for downloads in ms (default 10 000). */
  downloadTimeoutMs?: number;
  /** Download progress; default: a bar / periodic line on stderr. */
  onProgress?: ProgressCallback;
}

/** Bump when the meaning of a descriptor changes, so old hashes are never confused with new ones. */
const DESCRIPTOR_FORMAT = "mnemo-stream/1";

/** Tracks whether the run seed influenced the stream: if not, the hash leaves the seed out. */
export class RngAccess {
  used = false;
  private readonly rng: SeededRng;
  constructor(seed: number) {
    this.rng = new SeededRng(seed);
  }
  get(): SeededRng {
    this.used = true;
    return this.rng;
  }
}

/** Per-class pools of dataset indices after `limit_per_class` and the validation carve-out. */
export interface ClassPools {
  train: Int32Array[];
  validation?: Int32Array[];
  test: Int32Array[];
}

function classPools(dataset: Dataset, config: Exclude<StreamConfig, { kind: "meta-learning" }>, rng: RngAccess): ClassPools {
  const lim = config.limit_per_class;
  const trainLimit = typeof lim === "number" ? lim : lim?.train;
  const testLimit = typeof lim === "number" ? lim : lim?.test;
  const byTrain = indicesByClass(dataset.train.labels, dataset.numClasses);
  const byTest = indicesByClass(dataset.test.labels, dataset.numClasses);
  const train = byTrain.map((ix, c) => (trainLimit === undefined ? ix : limitIndices(ix, trainLimit, rng.get(), `stream-limit/train/class${c}`)));
  const test = byTest.map((ix, c) => (testLimit === undefined ? ix : limitIndices(ix, testLimit, rng.get(), `stream-limit/test/class${c}`)));
  const v = config.validation;
  if (!v || (v.fraction ?? v.per_class) === 0) return { train, test };
  const split = train.map((ix, c) => {
    const n = v.per_class ?? Math.round(ix.length * (v.fraction as number));
    if (ix.length > 0 && n >= ix.length) {
      throw new ConfigError(`holding out ${n} validation images of class ${c} leaves none of its ${ix.length} for training`, {
        path: v.per_class !== undefined ? "stream.validation.per_class" : "stream.validation.fraction",
      });
    }
    return carveValidation(ix, n, rng.get(), `${v.stream}/class${c}`);
  });
  return { train: split.map((s) => s[0]), validation: split.map((s) => s[1]), test };
}

function orderStream(orderSeed: number | undefined, rng: RngAccess): () => RandomStream {
  return () => (orderSeed !== undefined ? new SeededRng(orderSeed).stream("stream-order") : rng.get().stream("stream-order"));
}

export function datasetFingerprint(d: Dataset): Record<string, unknown> {
  return {
    name: d.name,
    shape: d.shape,
    numClasses: d.numClasses,
    trainCount: d.train.count,
    testCount: d.test.count,
    // Labels identify the copy cheaply (a regenerated or reordered file changes them); pixels
    // are covered by the md5 of official archives.
    trainLabelsSha256: sha256Hex(new Uint8Array(d.train.labels.buffer, d.train.labels.byteOffset, d.train.labels.byteLength)),
    testLabelsSha256: sha256Hex(new Uint8Array(d.test.labels.buffer, d.test.labels.byteOffset, d.test.labels.byteLength)),
  };
}

function planClassSplit(
  config: Extract<StreamConfig, { kind: "class-incremental" | "task-incremental" }>,
  dataset: Dataset,
  pools: ClassPools,
  rng: RngAccess,
): { labelMap: number[]; plans: TaskPlan[] } {
  const order = resolveClassOrder(config.order as ClassOrderSpec, dataset.numClasses, orderStream(config.order_seed, rng));
  const sizes = partitionClasses(order.length, config.increment, config.initial_increment, config.remainder);
  const plans: TaskPlan[] = [];
  let k = 0;
  for (const size of sizes) {
    const original = order.slice(k, k + size);
    plans.push({
      classes: original.map((_, j) => k + j),
      train: concatIndices(original.map((c) => pools.train[c] as Int32Array)),
      validation: pools.validation ? concatIndices(original.map((c) => (pools.validation as Int32Array[])[c] as Int32Array)) : undefined,
      test: concatIndices(original.map((c) => pools.test[c] as Int32Array)),
    });
    k += size;
  }
  return { labelMap: order, plans };
}

/**
 * Blurry boundaries (Bang et al. 2021 "blurry-M"): a fraction of each task's training samples is
 * moved to a uniformly chosen other task, so classes leak across boundaries in both directions.
 */
function blurTasks(plans: TaskPlan[], ratio: number, rng: RngAccess): void {
  if (ratio <= 0 || plans.length < 2) return;
  const stream = rng.get().derive("stream-blurry");
  const moved: number[][] = plans.map(() => []);
  const kept: number[][] = plans.map(() => []);
  plans.forEach((plan, t) => {
    for (const i of plan.train) {
      if (stream.bernoulli(ratio)) {
        let other = stream.int(plans.length - 1);
        if (other >= t) other++;
        (moved[other] as number[]).push(i);
      } else (kept[t] as number[]).push(i);
    }
  });
  plans.forEach((plan, t) => (plan.train = Int32Array.from([...(kept[t] as number[]), ...(moved[t] as number[])]).sort()));
}

function planDomain(
  config: Extract<StreamConfig, { kind: "domain-incremental" }>,
  dataset: Dataset,
  pools: ClassPools,
  rng: RngAccess,
): { labelMap: number[]; plans: TaskPlan[]; extra: Record<string, unknown> } {
  const labelMap = Array.from({ length: dataset.numClasses }, (_, i) => i);
  const base = {
    classes: labelMap,
    train: concatIndices(pools.train),
    validation: pools.validation ? concatIndices(pools.validation) : undefined,
    test: concatIndices(pools.test),
  };
  const t = config.transform;
  if (t.type === "rotated") {
    return { labelMap, plans: t.angles.map((angle) => ({ ...base, transform: (s) => rotateImages(s, angle) })), extra: {} };
  }
  const [h, w] = dataset.shape;
  const perms = Array.from({ length: t.tasks }, (_, i) =>
    i === 0 && t.identity_first ? Array.from({ length: h * w }, (_, p) => p) : rng.get().derive(`stream-permutation/task${i}`).permutation(h * w),
  );
  // The permutations are part of what defines the stream; hash them rather than trust the RNG forever.
  const extra = { permutationsSha256: sha256Hex(canonicalJson(perms)) };
  return { labelMap, plans: perms.map((perm) => ({ ...base, transform: (s) => permutePixels(s, perm) })), extra };
}

/** Permutation used by task `task` of a permuted stream (for inspection and tests). */
export function taskPermutation(seed: number, task: number, pixels: number): number[] {
  return new SeededRng(seed).derive(`stream-permutation/task${task}`).permutation(pixels);
}

/**
 * Build the task stream a `stream:` config describes. The config is (re)validated, so a raw
 * object from YAML works too; errors are ConfigError (bad config) or DataError (bad files).
 */
export async function buildStream(config: StreamConfig, options: BuildStreamOptions): Promise<BuiltStream>;
export async function buildStream(config: AnyStreamConfig, options: BuildStreamOptions): Promise<BuiltStream | EpisodicStream>;
export async function buildStream(config: AnyStreamConfig, options: BuildStreamOptions): Promise<BuiltStream | EpisodicStream> {
  const parsed = anyStreamConfigSchema.safeParse(config);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = ["stream", ...(issue?.path ?? []).map(String)].join(".");
    throw new ConfigError(issue?.message ?? "invalid stream config", { path });
  }
  const cfg = parsed.data;
  let dataset = await loadDataset(cfg.dataset, {
    dataDir: options.dataDir,
    download: options.download,
    mirror: options.mirror,
    checksums: options.checksums,
    incomplete: options.incomplete,
    downloadTimeoutMs: options.downloadTimeoutMs,
    onProgress: options.onProgress,
  });
  if (cfg.kind === "meta-learning") return buildEpisodicStream(cfg, dataset, options.seed);
  let splitDigest: string | undefined;
  if (cfg.split_files) ({ dataset, digest: splitDigest } = applySplitFiles(dataset, cfg.split_files));
  const normalization = resolveNormalization(cfg.normalize, dataset);
  const rng = new RngAccess(options.seed);
  const pools = classPools(dataset, cfg, rng);
  let labelMap: number[];
  let plans: TaskPlan[];
  let scenario: Scenario;
  let extra: Record<string, unknown> = {};
  let online = false;
  let taskNames: string[] | undefined;
  switch (cfg.kind) {
    case "class-incremental":
    case "task-incremental": {
      ({ labelMap, plans } = planClassSplit(cfg, dataset, pools, rng));
      scenario = cfg.kind;
      if (cfg.kind === "class-incremental" && cfg.online) {
        online = true;
        blurTasks(plans, cfg.online.blurry, rng);
      }
      break;
    }
    case "domain-incremental":
      ({ labelMap, plans, extra } = planDomain(cfg, dataset, pools, rng));
      scenario = "domain-incremental";
      break;
    case "corruptions": {
      labelMap = Array.from({ length: dataset.numClasses }, (_, i) => i);
      const base = {
        classes: labelMap,
        train: concatIndices(pools.train),
        validation: pools.validation ? concatIndices(pools.validation) : undefined,
        test: concatIndices(pools.test),
      };
      ({ plans, names: taskNames, extra } = planCorruptions(cfg, dataset, base, rng.get()));
      extra = { ...extra, taskNames };
      scenario = "domain-incremental";
      break;
    }
    case "few-shot-class-incremental":
      ({ labelMap, plans } = planFewShot(cfg, dataset, pools, orderStream(cfg.order_seed, rng), () => rng.get()));
      scenario = "few-shot-class-incremental";
      break;
  }
  extra = { ...extra, ...applyLabels(cfg, dataset, plans, rng) };
  const descriptor: Record<string, unknown> = {
    format: DESCRIPTOR_FORMAT,
    config: cfg,
    dataset: datasetFingerprint(dataset),
    labelMap,
    taskClasses: plans.map((p) => p.classes),
    taskSizes: plans.map((p) => ({
      train: p.train.length,
      validation: p.validation?.length ?? 0,
      test: p.test.length,
      ...(p.unlabelled ? { unlabelled: p.unlabelled.length } : {}),
    })),
    ...(splitDigest ? { splitFilesSha256: splitDigest } : {}),
    ...extra,
  };
  // Seed last: only recorded if some random choice depended on it.
  if (rng.used) descriptor["seed"] = options.seed;
  const hash = sha256Hex(canonicalJson(descriptor));
  return new PlannedStream({
    name: `${dataset.name}/${cfg.kind}/${plans.length}-tasks`,
    scenario,
    dataset,
    labelMap,
    remap: inverseLabelMap(labelMap, dataset.numClasses),
    plans,
    hash,
    descriptor,
    online,
    normalization,
    classNames: labelMap.map((c) => dataset.classNames[c] ?? String(c)),
    taskNames,
  });
}
