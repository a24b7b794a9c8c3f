/**
 * Model soups over one task's training trajectory (Wortsman et al., ICML 2022; algorithms.md §7.2)
 * as a learner plugin. The ingredients are the task's checkpoints: the weights at every epoch end,
 * or every `everySteps` optimizer steps, plus the weights the task ends with. At the task end the
 * soup replaces the trained weights (it is evaluated and the next task starts from it):
 *
 * - "uniform": the mean of all ingredients;
 * - "greedy": ingredients ranked by validation accuracy, each joins only if it strictly improves
 *   the soup's validation accuracy (held-out.ts: validation splits, never test data).
 *
 * Batch-norm statistics are those of the final weights.
 */
import { disposeTree, ShapeError, treesEqual, type BatchEvent, type ParamTree, type Plugin, type PluginState, type TaskEvent } from "@mnemo/core";
import { cloneTree } from "@mnemo/core/tf";
import { greedySoup, uniformSoup, type GreedySoupStep } from "../soups.js";
import { HeldOut, type HeldOutScope } from "./held-out.js";

export type SoupRecipe = "uniform" | "greedy";

export interface SoupPluginOptions {
  recipe: SoupRecipe;
  /** Take a checkpoint every N optimizer steps of a task; default: at every epoch end. */
  everySteps?: number;
  /** Keep at most this many checkpoints per task (the most recent); default: all. */
  maxIngredients?: number;
  /** Greedy only: which validation splits judge the soup (default every task seen so far). */
  scope?: HeldOutScope;
  /** Images per forward pass when scoring. Default 500. */
  batchSize?: number;
}

export interface SoupReport {
  task: number;
  recipe: SoupRecipe;
  ingredients: string[];
  /** Ingredients in the soup (all of them for "uniform"). */
  members: string[];
  /** Greedy: validation accuracy (%, task-macro) of the soup; null for "uniform". */
  accuracy: number | null;
  steps: GreedySoupStep[];
}

export interface SoupPlugin extends Plugin {
  readonly recipe: SoupRecipe;
  readonly reports: readonly SoupReport[];
  state(): PluginState;
  loadState(state: PluginState): void;
  dispose(): void;
}

interface Checkpoint {
  name: string;
  params: ParamTree;
}

export function soupPlugin(options: SoupPluginOptions): SoupPlugin {
  const { recipe, everySteps, maxIngredients } = options;
  if (recipe !== "uniform" && recipe !== "greedy") throw new ShapeError(`soup: recipe must be "uniform" or "greedy", got ${JSON.stringify(recipe)}`);
  if (everySteps !== undefined && !(Number.isInteger(everySteps) && everySteps > 0)) throw new ShapeError(`soup: everySteps must be a positive integer, got ${everySteps}`);
  if (maxIngredients !== undefined && !(Number.isInteger(maxIngredients) && maxIngredients > 0)) {
    throw new ShapeError(`soup: maxIngredients must be a positive integer, got ${maxIngredients}`);
  }
  const heldOut = new HeldOut("soup (greedy)", options.scope ?? "seen", options.batchSize);
  const reports: SoupReport[] = [];
  let checkpoints: Checkpoint[] = [];
  /** Optimizer steps of the current task so far, and the stream batch size (to find epoch ends). */
  let step = 0;
  let batchSize = 0;

  const clear = (): void => {
    for (const c of checkpoints) disposeTree(c.params);
    checkpoints = [];
  };
  const take = (name: string, params: ParamTree): void => {
    checkpoints.push({ name, params: cloneTree(params) });
    if (maxIngredients !== undefined && checkpoints.length > maxIngredients) disposeTree(checkpoints.shift()?.params);
  };

  return {
    name: "soup",
    recipe,
    reports,
    onTaskStart() {
      clear();
      step = 0;
      batchSize = 0;
    },
    onStepEnd({ task, batch, iteration, epoch, model }: BatchEvent) {
      step++;
      if (iteration === 0) batchSize = batch.streamCount;
      const epochEnd = batchSize > 0 && iteration + 1 === Math.ceil(task.train.count / batchSize);
      if (everySteps !== undefined ? step % everySteps === 0 : epochEnd) take(everySteps !== undefined ? `step${step}` : `epoch${epoch + 1}`, model.params);
    },
    async onTaskEnd({ task, model, context }: TaskEvent) {
      const last = checkpoints[checkpoints.length - 1];
      // The final weights join unless they are the last checkpoint already.
      if (!last || !(await treesEqual(last.params, model.params))) take("final", model.params);
      const names = checkpoints.map((c) => c.name);
      let soup: ParamTree;
      let report: SoupReport;
      if (recipe === "uniform") {
        soup = uniformSoup(checkpoints.map((c) => c.params));
        report = { task: task.index, recipe, ingredients: names, members: names, accuracy: null, steps: [] };
      } else {
        const splits = await heldOut.splits(task, context);
        const result = await greedySoup(checkpoints, (params) => heldOut.accuracy(model, params, splits, context));
        soup = result.params;
        report = { task: task.index, recipe, ingredients: names, members: result.members, accuracy: result.accuracy, steps: result.steps };
      }
      disposeTree(model.params);
      model.params = soup;
      clear();
      reports.push(report);
      context.log(`soup: task ${task.index}: ${recipe} soup of ${report.members.length}/${names.length} checkpoints (${report.members.join(", ")})`);
    },
    state: () => ({
      step,
      batchSize,
      checkpoints: checkpoints.map((c) => ({ name: c.name, params: c.params })),
      reports: reports.map((r) => JSON.parse(JSON.stringify(r)) as SoupReport),
    }),
    loadState(state: PluginState) {
      clear();
      step = state.step as number;
      batchSize = state.batchSize as number;
      // Takes ownership of the tensors, as SupervisedLearner.loadState does.
      checkpoints = ((state.checkpoints as Checkpoint[] | undefined) ?? []).map((c) => ({ name: c.name, params: c.params }));
      reports.splice(0, reports.length, ...((state.reports as SoupReport[] | undefined) ?? []));
    },
    dispose: clear,
  };
}
