/**
 * The evaluation-time adaptation phase of a run (`adaptation:`): after training, every adapter
 * starts from the trained (source) model and runs online over the shifted domains (reference
 * §2.1: each batch predicted before adapting on it, no reset between domains, `repeat` passes;
 * an adapter with `reset: domain` goes back to the source model at every domain boundary instead).
 * Only images reach the adapters; the labels stay with the scorer. After each domain the phase
 * logs the domain's error, and checkpoints the adapter state, the scores and the RNG streams in
 * `<runDir>/checkpoint-adaptation/`, so `--resume` continues at the next domain bit-identically.
 */
import { existsSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { adaptOnline, createAdapter, DomainScorer, withoutLabels, type AdapterConfig } from "@mnemo/adaptation";
import { type ConfigError, onlineErrorSummary, TrainingInterrupted, type OnlineErrorSummary, type ParamTree, type TaskStream, type Tracker, TTA_METRIC_DEFINITIONS, type Learner, type SeededRng } from "@mnemo/core";
import { readCheckpoint, type StateValue, writeCheckpoint, type CheckpointIdentity } from "@mnemo/models";
import { accuracyOverlaySvg, errorHeatmapSvg } from "@mnemo/tracking";
import { optimizerConfig } from "./assemble.js";
import type { ExperimentConfig } from "./config-schema.js";
import { writeJson } from "./run-dir.js";
import { MNEMO_VERSION } from "./version.js";

export const ADAPTATION_CHECKPOINT_DIR = "checkpoint-adaptation";
export const ADAPTATION_FILE = "adaptation.json";

type AdaptationConfig = NonNullable<ExperimentConfig["adaptation"]>;
type AdapterSection = AdaptationConfig["adapters"][number];

/** A stop (Ctrl-C, or `stopAfterDomains`) during adaptation; the last domain boundary's checkpoint stays. */
export class AdaptationInterrupted extends TrainingInterrupted {
  readonly cell: number;
  constructor(taskIndex: number, cell: number) {
    super(taskIndex);
    this.cell = cell;
    this.message = `adaptation interrupted in domain step ${cell}`;
  }
}

export interface AdapterResult {
  /** Unique label: the adapter's name, with its index when a name repeats. */
  label: string;
  name: string;
  /** `domain`: back to the source model at every domain boundary (an oracle); `never`: continual. */
  reset: "never" | "domain";
  correct: number[];
  total: number[];
  summary: OnlineErrorSummary;
}

export interface AdaptationResult {
  /** One label per (pass, domain) cell, in online order. */
  cells: string[];
  domains: string[];
  passes: number;
  batchSize: number;
  imagesPerDomain: number[];
  adapters: AdapterResult[];
}

/** The adapter config the package takes, from a validated `adaptation.adapters[i]`. */
export function adapterConfig(section: AdapterSection): AdapterConfig {
  switch (section.name) {
    case "source":
    case "bn":
      return { name: section.name };
    case "tent":
      return { name: "tent", lr: section.lr, optimizer: optimizerConfig(section.optimizer) };
    case "cotta":
      return {
        name: "cotta",
        lr: section.lr,
        optimizer: optimizerConfig(section.optimizer),
        alpha: section.alpha,
        restore: section.restore,
        threshold: section.threshold,
        augmentations: section.augmentations,
        flip: section.flip,
      };
  }
}

/** `domain` when the adapter goes back to the source model at every domain boundary (source and bn have nothing to reset). */
function adapterReset(section: AdapterSection): AdapterResult["reset"] {
  return "reset" in section ? section.reset : "never";
}

/** An adapter's name, with `-reset` when it goes back to the source model at every domain boundary. */
function adapterKind(section: AdapterSection): string {
  return adapterReset(section) === "domain" ? `${section.name}-reset` : section.name;
}

export function adapterLabels(sections: readonly AdapterSection[]): string[] {
  const kinds = sections.map(adapterKind);
  return kinds.map((k, i) => (kinds.filter((o) => o === k).length > 1 ? `${k}${i}` : k));
}

/** Names of the stream's domains (a stream may name its tasks), else domain0, domain1, ... */
export function domainNames(stream: TaskStream): string[] {
  const named = (stream as { taskNames?: readonly string[] }).taskNames;
  return Array.from({ length: stream.numTasks }, (_, d) => named?.[d] ?? `domain${d}`);
}

/** The trained model of a learner that has one (`learner.model`: params and BN state). */
export function learnerModel(learner: Learner): { params: ParamTree; state: ParamTree } | undefined {
  try {
    const m = (learner as { model?: { params?: ParamTree; state?: ParamTree } }).model;
    return m?.params ? { params: m.params, state: m.state ?? {} } : undefined;
  } catch {
    return undefined;
  }
}

export interface AdaptationPhaseArgs {
  config: ExperimentConfig;
  source: { backbone: Parameters<typeof createAdapter>[1]["backbone"]; params: ParamTree; state: ParamTree; normalization?: TaskStream["normalization"] };
  stream: TaskStream;
  rng: SeededRng;
  dir: string;
  identity: CheckpointIdentity;
  tracker: Tracker;
  /** Task index reported by an interruption (the last trained task). */
  lastTask: number;
  log: (line: string) => void;
  resuming: boolean;
  shouldStop?: () => boolean;
  /** Stop after this many (adapter, domain) steps in this process (resume tests). */
  stopAfterDomains?: number;
  errorAt: (path: string, problem: string) => ConfigError;
}

interface Progress {
  adapter: number;
  cell: number;
  correct: number[][];
  total: number[][];
}

/** Runs (or continues) the adaptation phase; returns every adapter's per-domain errors. */
export async function runAdaptationPhase(args: AdaptationPhaseArgs): Promise<AdaptationResult> {
  const a = args.config.adaptation as AdaptationConfig;
  const labels = adapterLabels(a.adapters);
  const domains = domainNames(args.stream);
  const D = domains.length;
  const cells = Array.from({ length: D * a.repeat }, (_, k) => (a.repeat > 1 ? `${domains[k % D]}#${Math.floor(k / D) + 1}` : (domains[k] as string)));
  const ckptDir = join(args.dir, ADAPTATION_CHECKPOINT_DIR);
  let progress: Progress = { adapter: 0, cell: 0, correct: a.adapters.map(() => []), total: a.adapters.map(() => []) };
  let savedAdapter: StateValue = null;
  if (args.resuming && (existsSync(join(ckptDir, "manifest.json")) || existsSync(join(`${ckptDir}.old`, "manifest.json")))) {
    const { state } = readCheckpoint(ckptDir, args.identity);
    const s = state as unknown as { progress: Progress; adapter: StateValue; rng: Parameters<SeededRng["restore"]>[0] };
    progress = s.progress;
    savedAdapter = s.adapter;
    args.rng.restore(s.rng);
    args.log(`adaptation: resuming at ${labels[progress.adapter] ?? "the end"}, domain step ${progress.cell} of ${cells.length}, from ${ckptDir}`);
  }
  const imagesPerDomain: number[] = [];
  let stepsHere = 0;
  for (let i = progress.adapter; i < a.adapters.length; i++) {
    const label = labels[i] as string;
    const section = a.adapters[i] as AdapterSection;
    const resetsAtDomains = adapterReset(section) === "domain";
    const firstCell = i === progress.adapter ? progress.cell : 0;
    let adapter = createAdapterAt(section, args, label, i);
    try {
      // A resetting adapter's checkpoint holds no state: it starts the next domain from the source anyway.
      if (firstCell > 0 && savedAdapter !== null) adapter.loadState(savedAdapter);
      for (let k = firstCell; k < cells.length; k++) {
        if (resetsAtDomains && k > firstCell) {
          // Every cell is a new domain: start again from the source weights and a fresh optimiser.
          adapter.dispose();
          adapter = createAdapterAt(section, args, label, i);
        }
        const d = k % D;
        const test = await args.stream.testSet(d);
        const target = withoutLabels(test, a.limit_per_domain);
        imagesPerDomain[d] = target.count;
        const scorer = new DomainScorer(test.labels);
        let stopped = false;
        adaptOnline(adapter, target, {
          batchSize: a.batch_size,
          onPredictions: (start, predicted) => scorer.score(start, predicted),
          shouldStop: () => (stopped = args.shouldStop?.() ?? false),
        });
        if (stopped) throw new AdaptationInterrupted(args.lastTask, k);
        (progress.correct[i] as number[])[k] = scorer.correct;
        (progress.total[i] as number[])[k] = scorer.total;
        args.tracker.logMetrics({ [`tta_${label}_error`]: scorer.error }, k);
        args.log(`adaptation ${label.padEnd(6)} ${cells[k]}: error ${scorer.error.toFixed(2)}% (${scorer.total} images)`);
        const last = k === cells.length - 1;
        progress = { ...progress, adapter: last ? i + 1 : i, cell: last ? 0 : k + 1 };
        saveProgress(ckptDir, args, progress, last || resetsAtDomains ? null : adapter.state());
        stepsHere++;
        if (args.stopAfterDomains !== undefined && stepsHere >= args.stopAfterDomains && !(last && i === a.adapters.length - 1)) {
          throw new AdaptationInterrupted(args.lastTask, k + 1);
        }
      }
    } finally {
      adapter.dispose();
    }
    const summary = onlineErrorSummary(progress.correct[i] as number[], progress.total[i] as number[], D);
    const metrics: Record<string, number> = { [`tta_${label}_mean_error`]: summary.meanError };
    if (a.repeat > 1) summary.passMeanErrors.forEach((e, p) => (metrics[`tta_${label}_pass${p + 1}_mean_error`] = e));
    args.tracker.logMetrics(metrics, cells.length - 1);
  }
  const adapters = a.adapters.map((s, i) => ({
    label: labels[i] as string,
    name: s.name,
    reset: adapterReset(s),
    correct: progress.correct[i] as number[],
    total: progress.total[i] as number[],
    summary: onlineErrorSummary(progress.correct[i] as number[], progress.total[i] as number[], D),
  }));
  for (let d = 0; d < D; d++) imagesPerDomain[d] ??= Math.round((adapters[0]?.total[d] ?? 0));
  return { cells, domains, passes: a.repeat, batchSize: a.batch_size, imagesPerDomain, adapters };
}

function createAdapterAt(section: AdapterSection, args: AdaptationPhaseArgs, label: string, index: number) {
  try {
    return createAdapter(adapterConfig(section), args.source, args.rng.scope(`tta/${label}`));
  } catch (err) {
    throw args.errorAt(`adaptation.adapters.${index}.name`, (err as Error).message);
  }
}

function saveProgress(dir: string, args: AdaptationPhaseArgs, progress: Progress, adapter: StateValue): void {
  (args.tracker as { syncJournal?: () => void }).syncJournal?.();
  const state: StateValue = { progress: progress as unknown as StateValue, adapter, rng: args.rng.snapshot() as unknown as StateValue };
  writeCheckpoint(dir, args.identity, { adapter: progress.adapter, cell: progress.cell }, state, MNEMO_VERSION);
}

/** adaptation.json, adaptation_errors.csv and the plots; metrics.json gets `adaptationReport`. */
export function writeAdaptationOutputs(dir: string, result: AdaptationResult): void {
  writeJson(dir, ADAPTATION_FILE, adaptationReport(result));
  const header = ["adapter", ...result.cells, "mean"].join(",");
  const rows = result.adapters.map((r) => [r.label, ...r.summary.errors.map((e) => e.toFixed(4)), r.summary.meanError.toFixed(4)].join(","));
  writeFileSync(join(dir, "adaptation_errors.csv"), [header, ...rows].join("\n") + "\n");
  mkdirSync(join(dir, "plots"), { recursive: true });
  writeFileSync(
    join(dir, "plots", "adaptation_error_heatmap.svg"),
    errorHeatmapSvg(
      result.adapters.map((r) => ({ label: r.label, values: r.summary.errors })),
      { columns: result.cells, title: "Online error (%) per domain, each batch predicted before adapting" },
    ),
  );
  writeFileSync(
    join(dir, "plots", "adaptation_error_curves.svg"),
    accuracyOverlaySvg(
      result.adapters.map((r) => ({ label: r.label, mean: r.summary.errors })),
      { id: "adaptation-error-curves", title: "Online error (%) along the stream", yLabel: "error (%)" },
    ),
  );
}

/** The `adaptation` section of metrics.json (also adaptation.json). */
export function adaptationReport(result: AdaptationResult): Record<string, unknown> {
  return {
    protocol: { batch_size: result.batchSize, passes: result.passes, images_per_domain: result.imagesPerDomain, online: "each batch predicted before adapting on it; no reset between domains, except for an adapter with reset: domain" },
    domains: result.domains,
    cells: result.cells,
    adapters: Object.fromEntries(
      result.adapters.map((r) => [
        r.label,
        { name: r.name, reset: r.reset, error: r.summary.errors, mean_error: r.summary.meanError, ...(result.passes > 1 ? { pass_mean_error: r.summary.passMeanErrors } : {}), correct: r.correct, total: r.total },
      ]),
    ),
    definitions: TTA_METRIC_DEFINITIONS,
  };
}

/** Removes the adaptation checkpoint of a finished run (like checkpoint/). */
export function removeAdaptationCheckpoint(dir: string): void {
  rmSync(join(dir, ADAPTATION_CHECKPOINT_DIR), { recursive: true, force: true });
}
