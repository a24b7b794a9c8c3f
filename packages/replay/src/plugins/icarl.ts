/**
 * iCaRL (Rebuffi et al. 2017) as a plugin: herding exemplar memory with a fixed total (or per-class)
 * budget, distillation from a frozen copy of the previous model, and nearest-mean-of-exemplars
 * classification.
 *
 * - Training set of task t = new data ∪ exemplars (PyCIL concatenates them). The learner iterates over
 *   the new data, so each step appends ⌈B·|E|/|D_t|⌉ exemplars ("proportional"): the same mix per batch
 *   and about |E| exemplars per epoch.
 * - Distillation: PyCIL's KD at T = 2 added to CE (default), or the original sigmoid/BCE loss.
 *   The old model runs in eval mode (PyCIL freezes it), on the same augmented batch.
 * - Task end: herd each new class with the current backbone (features of the un-augmented images), cut
 *   old classes to the new quota (prefix of their herding order), recompute every class mean from the
 *   exemplars with the current backbone, then snapshot the model as the next task's teacher.
 * - Prediction: NMC scores replace the logits once every head class has a mean (before that, e.g. for
 *   validation during the first task, the CNN logits are used).
 */
import * as tf from "@tensorflow/tfjs";
import { disposeTree, ShapeError, type ModelHandle, type ParamTree, type Plugin, type PluginState, type RandomStreams, packRows as packImages } from "@mnemo/core";
import { cloneTree } from "@mnemo/core/tf";
import { NearestMeanClassifier, NMC_PRESETS, type NmcState } from "@mnemo/prototypes";
import { extractFeatures } from "@mnemo/prototypes/extract";
import { HerdingMemory, type HerdingState } from "../herding-memory.js";
import type { HerdingRule } from "../herding.js";
import type { ReplayBatch } from "../layout.js";
import type { MemoryPolicy } from "../policy.js";
import { knowledgeDistillation, icarlBinaryLoss } from "./distillation.js";
import { appendRows, replayImages, type Augment } from "./replay-batch.js";

export type IcarlDistillation = { kind: "kd"; temperature: number } | { kind: "bce" };

export interface IcarlOptions {
  /** This plugin's RNG streams (e.g. `rng.scope("icarl")`). */
  rng: RandomStreams;
  sampleShape: readonly [number, number, number];
  numClasses: number;
  /** K = 2000 fixed-total ("floor": PyCIL; "ceil": the iCaRL original) or a fixed number per class. */
  memory: MemoryPolicy;
  distillation: IcarlDistillation;
  /** "nmc": nearest mean of exemplars (iCaRL); "cnn": the trained head's logits. */
  classifier: "nmc" | "cnn";
  /** "pycil": means of n(φ(x)); "icarl": averaged with n(φ(flip x)) (the Theano code). */
  nmc: "pycil" | "icarl";
  herding: HerdingRule;
  /** Exemplars appended per step: "proportional" (new data ∪ exemplars) or a fixed count. */
  replayBatchSize: "proportional" | number;
  /** Images per forward pass when extracting features at task end. */
  featureBatchSize: number;
  augment?: Augment;
}

export interface IcarlPlugin extends Plugin {
  readonly memory: HerdingMemory;
  readonly classifier: NearestMeanClassifier;
  state(): PluginState;
  loadState(state: PluginState): void;
  /** Releases the teacher's tensors. */
  dispose(): void;
}

interface Teacher {
  params: ParamTree;
  state: ParamTree;
  classes: number;
}

const OLD = "icarlOldLogits";

export function icarl(options: IcarlOptions): IcarlPlugin {
  const { sampleShape } = options;
  if (options.distillation.kind === "kd" && !(options.distillation.temperature > 0)) {
    throw new ShapeError(`iCaRL: distillation temperature must be > 0, got ${options.distillation.temperature}`);
  }
  const memory = new HerdingMemory({
    sampleShape,
    numClasses: options.numClasses,
    policy: options.memory,
    herding: { rule: options.herding },
    seed: options.rng.stream("buffer"),
  });
  const nmc = new NearestMeanClassifier(NMC_PRESETS[options.nmc]);
  const flip = options.nmc === "icarl";
  const replay: ReplayBatch = memory.createBatch(memory.capacity);
  let teacher: Teacher | null = null;

  const dropTeacher = (): void => {
    if (teacher) {
      disposeTree(teacher.params);
      disposeTree(teacher.state);
    }
    teacher = null;
  };

  const features = (model: ModelHandle, x: tf.Tensor): tf.Tensor2D =>
    model.backbone.apply(model.params, x, { training: false, state: model.state }).features;

  async function embed(model: ModelHandle, images: Uint8Array, count: number, mirrored: boolean, norm?: { mean: readonly number[]; std: readonly number[] }) {
    const preprocess = (x: tf.Tensor4D): tf.Tensor4D => {
      let y = tf.div(x, 255) as tf.Tensor4D;
      if (norm) y = tf.div(tf.sub(y, tf.tensor1d(norm.mean as number[])), tf.tensor1d(norm.std as number[]));
      return mirrored ? tf.reverse(y, 2) : y;
    };
    return extractFeatures((x) => features(model, x), { images, count, shape: [...sampleShape] }, { batchSize: options.featureBatchSize, preprocess });
  }

  return {
    name: "icarl",
    memory,
    classifier: nmc,

    onBatch({ batch, task, context, model }) {
      const stored = memory.size;
      let out = batch;
      if (stored > 0) {
        const want =
          options.replayBatchSize === "proportional" ? Math.ceil((batch.streamCount * stored) / Math.max(1, task.train.count)) : options.replayBatchSize;
        const n = memory.sample(Math.min(want, stored), replay);
        const x = replayImages(replay.images, n, sampleShape, context.stream.normalization, options.augment);
        const y = tf.tensor1d(replay.labels.subarray(0, n), "int32");
        out = appendRows(batch, x, y);
        tf.dispose([x, y]);
      }
      if (teacher) {
        const t = teacher;
        const old = tf.tidy(() => model.backbone.apply(t.params, out.x, { training: false, state: t.state }).logits);
        out = out === batch ? { ...batch, extras: { ...batch.extras, [OLD]: old } } : { ...out, extras: { ...out.extras, [OLD]: old } };
      }
      return out === batch ? undefined : out;
    },

    lossTerms({ batch, logits }) {
      const old = batch.extras?.[OLD] as tf.Tensor2D | undefined;
      if (options.distillation.kind === "bce") return icarlBinaryLoss(logits, batch.y, old);
      if (!old) return;
      return knowledgeDistillation(logits, old, options.distillation.temperature);
    },

    async onTaskEnd({ task, model, context }) {
      const norm = context.stream.normalization;
      const set = task.train;
      for (const c of task.classes) {
        if (memory.exemplarSlots(c).length > 0) continue; // a class is herded once, when it first arrives
        const rows: number[] = [];
        for (let i = 0; i < set.count; i++) if (set.labels[i] === c) rows.push(i);
        if (rows.length === 0) continue;
        const images = packImages(set, rows);
        const f = await embed(model, images, rows.length, false, norm);
        const d = f.cols;
        memory.addClass(c, { images, features: rows.map((_, i) => f.data.subarray(i * d, (i + 1) * d)) });
      }
      // Every mean from the exemplars, with the backbone as it is now (PyCIL recomputes old classes too).
      const slots = memory.slots();
      const images = new Uint8Array(slots.length * memory.sampleBytes);
      const labels = new Int32Array(slots.length);
      slots.forEach((s, i) => {
        images.set(memory.imageAt(s), i * memory.sampleBytes);
        labels[i] = memory.labelAt(s);
      });
      if (slots.length > 0) {
        const f = await embed(model, images, slots.length, false, norm);
        const flipped = flip ? await embed(model, images, slots.length, true, norm) : undefined;
        nmc.fit(f, labels, flipped ? { flipped } : {});
      }
      dropTeacher();
      teacher = { params: cloneTree(model.params), state: cloneTree(model.state), classes: model.numClasses };
    },

    scores({ model, x, features: f }) {
      if (options.classifier !== "nmc") return;
      const classes = nmc.classes();
      if (classes.length < model.numClasses) return;
      const [n, d] = f.shape;
      const dense = { data: f.dataSync() as Float32Array, rows: n, cols: d };
      const flipped = flip ? tf.tidy(() => features(model, tf.reverse(x, 2)).dataSync() as Float32Array) : undefined;
      const { classes: labels, scores } = nmc.scores(dense, flipped ? { flipped: { data: flipped, rows: n, cols: d } } : {});
      const width = model.numClasses;
      const out = new Float32Array(n * width).fill(-3.4e38);
      for (let i = 0; i < n; i++) labels.forEach((c, k) => (out[i * width + c] = scores.get(i, k)));
      return tf.tensor2d(out, [n, width]);
    },

    state: () => ({
      memory: memory.state(),
      nmc: nmc.state(),
      teacher: teacher ? { params: teacher.params, state: teacher.state, classes: teacher.classes } : null,
    }),

    loadState(state) {
      memory.load(state.memory as HerdingState);
      nmc.load(state.nmc as NmcState);
      dropTeacher();
      const t = state.teacher as Teacher | null;
      // Own copies: the caller keeps (and may dispose) the tensors it passed in.
      teacher = t ? { params: cloneTree(t.params), state: cloneTree(t.state), classes: t.classes } : null;
    },

    dispose: dropTeacher,
  };
}
