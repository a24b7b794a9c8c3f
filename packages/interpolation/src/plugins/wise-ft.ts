/**
 * WiSE-FT across a task stream (Wortsman et al., CVPR 2022; algorithms.md §7.1) as a learner plugin.
 * θ_0 is the model as the task starts (the previous tasks' model, with the head already grown for
 * the new classes), θ_1 the model after training on the task. At the task end every α of the grid
 * is scored on the validation splits (see held-out.ts) and θ_α = (1 − α)·θ_0 + α·θ_1 replaces the
 * trained weights: it is evaluated and the next task starts from it.
 *
 * The first task is left alone by default: its θ_0 is the random initialisation, not a model worth
 * keeping (WiSE-FT's θ_0 is a zero-shot model). Batch-norm statistics are θ_1's.
 */
import { disposeTree, ShapeError, type ParamTree, type Plugin, type PluginState, type TaskEvent } from "@mnemo/core";
import { cloneTree } from "@mnemo/core/tf";
import { wiseFt, WISE_FT_ALPHAS } from "../wise-ft.js";
import { HeldOut, type HeldOutScope } from "./held-out.js";

export interface WiseFtPluginOptions {
  /** Candidate α (weight on the weights after the task). Default 0, 0.1, …, 1 (the paper's sweep). */
  alphas?: readonly number[];
  /** Which validation splits judge α: every task seen so far (default) or the current task only. */
  scope?: HeldOutScope;
  /** Also interpolate after the first task, towards the initialisation. Default false. */
  firstTask?: boolean;
  /** Images per forward pass when scoring. Default 500. */
  batchSize?: number;
}

export interface WiseFtChoice {
  task: number;
  alpha: number;
  /** Validation accuracy (%, task-macro) of the chosen θ_α. */
  accuracy: number;
  /** Validation accuracy of every candidate, in `alphas` order. */
  candidates: number[];
}

export interface WiseFtPlugin extends Plugin {
  readonly alphas: readonly number[];
  /** One entry per task where α was chosen. */
  readonly choices: readonly WiseFtChoice[];
  state(): PluginState;
  loadState(state: PluginState): void;
  dispose(): void;
}

export function wiseFtPlugin(options: WiseFtPluginOptions = {}): WiseFtPlugin {
  const alphas = [...(options.alphas ?? WISE_FT_ALPHAS)];
  if (alphas.length === 0) throw new ShapeError("wise_ft: alphas must list at least one value in [0, 1]");
  for (const a of alphas) if (!(a >= 0 && a <= 1)) throw new ShapeError(`wise_ft: every alpha must be in [0, 1], got ${a}`);
  const heldOut = new HeldOut("wise_ft", options.scope ?? "seen", options.batchSize);
  const choices: WiseFtChoice[] = [];
  let theta0: ParamTree | null = null;

  const drop = (): void => {
    disposeTree(theta0);
    theta0 = null;
  };

  return {
    name: "wise-ft",
    alphas,
    choices,
    onTaskStart({ task, model }: TaskEvent) {
      drop();
      if (task.index > 0 || options.firstTask) theta0 = cloneTree(model.params);
    },
    async onTaskEnd({ task, model, context }: TaskEvent) {
      if (!theta0) return;
      const start = theta0;
      const splits = await heldOut.splits(task, context);
      const candidates: number[] = [];
      let best = -1;
      for (const [k, alpha] of alphas.entries()) {
        const mixed = wiseFt(start, model.params, alpha);
        try {
          candidates.push(await heldOut.accuracy(model, mixed, splits, context));
        } finally {
          disposeTree(mixed);
        }
        // Ties go to the larger α: closer to the weights the task trained.
        if (best < 0 || (candidates[k] as number) > (candidates[best] as number) || (candidates[k] === candidates[best] && alpha > (alphas[best] as number))) best = k;
      }
      const alpha = alphas[best] as number;
      const accuracy = candidates[best] as number;
      const chosen = wiseFt(start, model.params, alpha);
      disposeTree(model.params);
      model.params = chosen;
      drop();
      choices.push({ task: task.index, alpha, accuracy, candidates });
      context.log(`wise_ft: task ${task.index}: alpha ${alpha} (validation accuracy ${accuracy.toFixed(2)}%)`);
    },
    state: () => ({ theta0, choices: choices.map((c) => ({ ...c, candidates: [...c.candidates] })) }),
    loadState(state: PluginState) {
      drop();
      // Takes ownership of the tensors, as SupervisedLearner.loadState does.
      theta0 = (state.theta0 as ParamTree | null) ?? null;
      choices.splice(0, choices.length, ...((state.choices as WiseFtChoice[] | undefined) ?? []));
    },
    dispose: drop,
  };
}
