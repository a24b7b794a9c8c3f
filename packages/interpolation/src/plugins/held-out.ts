/**
 * The held-out data that WiSE-FT's α and the greedy soup are judged on: the validation splits the
 * stream carves from each task's training images (`stream.validation.fraction`), never test data.
 *
 * In a continual stream the current task's split alone would always favour the weights just
 * trained on it, so by default every task seen so far is scored ("seen"). Earlier tasks' splits
 * are re-read from the stream when needed (not stored in checkpoints); the plugin keeps them in
 * memory as uint8 images. They are only evaluated, never trained on.
 */
import * as tf from "@tensorflow/tfjs";
import { MnemoError, type ExperimentContext, type ImageSet, type ModelHandle, type ParamTree, type Task } from "@mnemo/core";
import { accuracyOn } from "@mnemo/core/tf";

export type HeldOutScope = "seen" | "task";

export class MissingValidationError extends MnemoError {
  constructor(owner: string, task: number) {
    super(
      "NO_VALIDATION_SPLIT",
      `${owner} chooses its weights on the validation split, but task ${task} has none; set stream.validation.fraction (e.g. 0.1) so each task holds out part of its training images`,
    );
    this.name = "MissingValidationError";
  }
}

export class HeldOut {
  private readonly sets = new Map<number, ImageSet>();

  constructor(
    private readonly owner: string,
    private readonly scope: HeldOutScope,
    private readonly batchSize = 500,
  ) {}

  /** The validation splits to judge by after training `task` (the current one and, for "seen", every earlier one). */
  async splits(task: Task, context: ExperimentContext): Promise<ImageSet[]> {
    const wanted = this.scope === "task" ? [task.index] : Array.from({ length: task.index + 1 }, (_, j) => j);
    const out: ImageSet[] = [];
    for (const j of wanted) {
      let set = this.sets.get(j);
      if (!set) {
        const v = j === task.index ? task.validation : (await context.stream.task(j)).validation;
        if (!v || v.count === 0) throw new MissingValidationError(this.owner, j);
        set = v;
        this.sets.set(j, set);
      }
      out.push(set);
    }
    return out;
  }

  /**
   * Task-macro validation accuracy (%) of `params` (with the model's batch-norm state): the mean over
   * the splits of each split's accuracy, i.e. the final-average-accuracy definition on held-out data.
   * Scores are the backbone's logits (a score-replacing plugin such as an NMC head is not consulted).
   */
  async accuracy(model: ModelHandle, params: ParamTree, splits: readonly ImageSet[], context: ExperimentContext): Promise<number> {
    let sum = 0;
    for (const set of splits) {
      sum += await accuracyOn(
        (x) => tf.argMax(model.backbone.apply(params, x, { training: false, state: model.state }).logits, 1) as tf.Tensor1D,
        set,
        context.stream.normalization,
        this.batchSize,
      );
    }
    return sum / splits.length;
  }
}
