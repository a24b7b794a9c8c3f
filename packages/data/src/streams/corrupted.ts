/**
 * `kind: corruptions`: one domain-incremental task per corruption of the same images, in the
 * benchmark's fixed order (MNIST-C's list; CoTTA's CIFAR-10-C order), optionally repeated.
 * Every domain's images are corrupted from the RNG stream `<stream>/<corruption>/<split>` of the
 * run seed, so the same run seed gives the same bytes; test and validation copies are cached per
 * domain (repeats share them), training copies are recomputed on each load (same bytes again).
 */
import { ConfigError } from "@mnemo/core/errors";
import type { ImageSet } from "@mnemo/core";
import type { SeededRng } from "@mnemo/core/rng";
import type { Dataset } from "../datasets/types.js";
import {
  corruptionNames,
  corruptionParameter,
  defaultSequence,
  getCorruption,
  hasSeverity,
  publishedSeverity,
  UNAVAILABLE_CORRUPTIONS,
  type CorruptionBenchmark,
} from "../corruptions/registry.js";
import type { CorruptionsStreamConfig } from "./schema.js";
import type { TaskPlan, TaskSplit } from "./task-stream.js";

/** Bump when a generator's output changes for the same seed, so old stream hashes are not reused. */
export const CORRUPTIONS_FORMAT = "mnemo-corruptions/1";

export interface CorruptionDomain {
  /** Corruption name ("clean" for the uncorrupted task). */
  name: string;
  /** Severity used (undefined: clean or parameter-free). */
  severity?: number;
}

/** The domains a config names, in stream order, before repeats (resolves presets and severities). */
export function resolveDomains(config: CorruptionsStreamConfig, channels: number): { benchmark: CorruptionBenchmark; domains: CorruptionDomain[] } {
  const preset = typeof config.corruptions === "string" ? config.corruptions : undefined;
  const benchmark: CorruptionBenchmark = config.parameters ?? preset ?? (channels === 1 ? "mnist-c" : "cifar10-c");
  const names = Array.isArray(config.corruptions) ? config.corruptions : defaultSequence(preset ?? benchmark);
  const known = new Set(corruptionNames(benchmark));
  const domains = names.map((name, i) => {
    const path = Array.isArray(config.corruptions) ? `stream.corruptions.${i}` : "stream.corruptions";
    if (!known.has(name)) {
      const why = UNAVAILABLE_CORRUPTIONS[name];
      throw new ConfigError(
        why ? `corruption "${name}" is not generated here: it ${why}` : `unknown ${benchmark} corruption "${name}"; known: ${[...known].join(", ")}`,
        { path },
      );
    }
    if (!hasSeverity(benchmark, name)) return { name };
    const severity = config.severity === "published" ? (publishedSeverity(benchmark, name) ?? 5) : config.severity;
    try {
      corruptionParameter(benchmark, name, severity);
    } catch (err) {
      throw new ConfigError(`${(err as Error).message} (set stream.severity to one it has, or leave it out)`, { path });
    }
    return { name, severity };
  });
  return { benchmark, domains };
}

/**
 * Task plans of a corruptions stream. `base` holds the (limited, validation-carved) pools of all
 * classes; each domain gets a transform that returns its corrupted copy of a gathered split.
 */
export function planCorruptions(
  config: CorruptionsStreamConfig,
  dataset: Dataset,
  base: { classes: number[]; train: Int32Array; validation?: Int32Array; test: Int32Array },
  rng: SeededRng,
): { plans: TaskPlan[]; names: string[]; extra: Record<string, unknown> } {
  const { benchmark, domains } = resolveDomains(config, dataset.shape[2]);
  const shape = dataset.shape;
  const empty = new Int32Array(0);
  const plans: TaskPlan[] = [];
  const names: string[] = [];
  if (config.clean_first) {
    plans.push({ ...base });
    names.push("clean");
  }
  const transforms = domains.map((domain) => {
    const fn = getCorruption(benchmark, domain.name);
    const cache = new Map<TaskSplit, ImageSet>();
    const corruptSet = (set: ImageSet, split: TaskSplit): ImageSet => {
      const cached = cache.get(split);
      if (cached) return cached;
      const stream = rng.derive(`${config.stream}/${domain.name}/${split}`);
      const out: ImageSet = { ...set, images: fn(set.images, shape, { severity: domain.severity, rng: stream }) };
      if (split === "test" || split === "validation") cache.set(split, out);
      return out;
    };
    return corruptSet;
  });
  for (let r = 0; r < config.repeats; r++) {
    domains.forEach((domain, d) => {
      plans.push({
        classes: base.classes,
        train: config.split === "test" ? empty : base.train,
        validation: config.split === "test" ? undefined : base.validation,
        test: base.test,
        transform: transforms[d],
      });
      names.push(config.repeats > 1 ? `${domain.name}#${r + 1}` : domain.name);
    });
  }
  return { plans, names, extra: { corruptions: { format: CORRUPTIONS_FORMAT, benchmark, domains } } };
}
