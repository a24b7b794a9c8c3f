/**
 * A nearest-class-mean head for any gradient learner (the config's `plugins: [{ name: nmc }]` on
 * finetune, ER, DER++, joint): at every task end the class means are rebuilt with the backbone as
 * it is then, and at evaluation the nearest-prototype scores replace the logits (algorithms.md §4).
 *
 * - The current task's classes get their means from all of the task's training images.
 * - Earlier classes get theirs from the method's stored samples when it has any (`useExemplars`:
 *   ER's and DER++'s buffer), re-embedded with the current backbone as iCaRL/PyCIL do. Without
 *   stored samples (finetune) an old class keeps the mean computed when it was trained: the
 *   backbone has moved since, which is exactly what an NMC head on plain fine-tuning measures.
 * - Means are computed at the first evaluation after the task (not in `onTaskEnd`), so they come
 *   from the weights that are evaluated, whatever another plugin swapped in (slow weights).
 * - During a task (e.g. `training.select_best` validation) the logits are used: the head's means
 *   do not cover the task being trained yet.
 *
 * Presets (`NMC_PRESETS`): `icarl` (normalised features, re-normalised means, squared Euclidean;
 * flip-averaged features of every image and query), `pycil` (the same without flips),
 * `simple_baseline` (Janson et al.: mean of normalised features, not re-normalised, Euclidean).
 * Images are embedded with the evaluation transform (no augmentation).
 */
import * as tf from "@tensorflow/tfjs";
import { CheckpointError, ShapeError, type ImageSet, type ModelHandle, type Normalization, type Plugin, type PluginState, type PredictEvent, type TaskEvent } from "@mnemo/core";
import { NearestMeanClassifier, NMC_PRESETS, type NmcState } from "../nmc.js";
import { subsetRows } from "../image-rows.js";
import { embedSetSync } from "../learner/embed.js";

export type NmcPresetName = "icarl" | "pycil" | "simple_baseline";

export const NMC_PRESET_NAMES: readonly NmcPresetName[] = ["icarl", "pycil", "simple_baseline"];

/** The stored samples of a method (raw uint8 images and labels), read when means are rebuilt; null when empty. */
export type ExemplarSource = () => ImageSet | null;

export interface NmcHeadOptions {
  preset: NmcPresetName;
  /** Images per forward pass when computing means. Default 256. */
  featureBatchSize?: number;
  exemplars?: ExemplarSource;
}

export interface NmcHeadPlugin extends Plugin {
  readonly preset: NmcPresetName;
  readonly classifier: NearestMeanClassifier;
  /** Rebuild earlier classes' means from these stored samples at every task end. */
  useExemplars(source: ExemplarSource): void;
  /** Whether earlier classes' means come from stored samples. */
  readonly hasExemplars: boolean;
  state(): PluginState;
  loadState(state: PluginState): void;
}

/** What the next evaluation must embed: the task's training images and, if any, stored samples of other classes. */
interface Pending {
  model: ModelHandle;
  normalization: Normalization | undefined;
  train: ImageSet;
  exemplars: ImageSet | null;
}

export function nmcHead(options: NmcHeadOptions): NmcHeadPlugin {
  const { preset } = options;
  if (!NMC_PRESET_NAMES.includes(preset)) throw new ShapeError(`nmc: preset must be one of ${NMC_PRESET_NAMES.join(", ")}, got ${JSON.stringify(preset)}`);
  const batchSize = options.featureBatchSize ?? 256;
  if (!(Number.isInteger(batchSize) && batchSize > 0)) throw new ShapeError(`nmc: featureBatchSize must be a positive integer, got ${batchSize}`);
  const flip = preset === "icarl";
  let classifier = new NearestMeanClassifier(preset === "simple_baseline" ? NMC_PRESETS.simpleBaseline : NMC_PRESETS[preset]);
  let source = options.exemplars;
  /** True once the means cover the last trained task (false while a task trains). */
  let ready = false;
  let pending: Pending | null = null;

  const addMeans = (p: Pending, set: ImageSet): void => {
    if (set.count === 0) return;
    const features = embedSetSync(p.model, set, p.normalization, batchSize);
    const flipped = flip ? embedSetSync(p.model, set, p.normalization, batchSize, true) : undefined;
    classifier.update(features, set.labels, flipped ? { flipped } : {});
  };

  /** Rebuilds the means of every class in the task's data or in the stored samples, with the weights the model has now. */
  const refresh = (p: Pending): void => {
    const current = new Set(p.train.labels);
    const old = p.exemplars ? subsetRows(p.exemplars, (y) => !current.has(y)) : null;
    const renewed = new Set([...current, ...(old ? old.labels : [])]);
    for (const c of renewed) if (classifier.classes().includes(c)) classifier.removeClass(c);
    addMeans(p, p.train);
    if (old) addMeans(p, old);
  };

  return {
    name: "nmc",
    preset,
    get classifier() {
      return classifier;
    },
    get hasExemplars() {
      return source !== undefined;
    },
    useExemplars(next: ExemplarSource) {
      source = next;
    },
    onTaskStart() {
      ready = false;
      pending = null;
    },
    onTaskEnd({ task, model, context }: TaskEvent) {
      const stored = source?.() ?? null;
      pending = { model, normalization: context.stream.normalization, train: task.train, exemplars: stored && stored.count > 0 ? stored : null };
      ready = true;
    },
    scores({ model, x, features, logits }: PredictEvent) {
      if (!ready) return;
      if (pending) {
        const p = { ...pending, model };
        pending = null;
        refresh(p);
      }
      if (classifier.classes().length === 0) return;
      const [n, d] = features.shape;
      const query = { data: features.dataSync() as Float32Array, rows: n, cols: d };
      const flipped = flip ? { data: tf.tidy(() => model.backbone.apply(model.params, tf.reverse(x, 2), { training: false, state: model.state }).features.dataSync() as Float32Array), rows: n, cols: d } : undefined;
      const { classes, scores } = classifier.scores(query, flipped ? { flipped } : {});
      const width = logits.shape[1];
      // Classes without a mean (not trained yet) can never win.
      const out = new Float32Array(n * width).fill(-3.4e38);
      for (let i = 0; i < n; i++) classes.forEach((c, k) => c < width && (out[i * width + c] = scores.get(i, k)));
      return tf.tensor2d(out, [n, width]);
    },
    state() {
      // A checkpoint between a task end and its evaluation: build the means now, from the trained weights.
      if (pending) {
        const p = pending;
        pending = null;
        refresh(p);
      }
      return { preset, ready, classifier: classifier.state() };
    },
    loadState(state: PluginState) {
      if (state.preset !== preset) throw new CheckpointError(`nmc: the checkpoint was made with preset "${String(state.preset)}", this run uses "${preset}"`);
      classifier = NearestMeanClassifier.fromState(state.classifier as NmcState);
      ready = state.ready as boolean;
      pending = null;
    },
  };
}
