/**
 * Run-level checkpoints: the learner's state plus everything the runner needs to continue
 * (accuracy rows so far, timings, RNG streams, global step), in `<runDir>/checkpoint/`.
 */
import { createHash } from "node:crypto";
import { join } from "node:path";
import type { ExperimentResult, Learner, RandomStreamState, SeededRng } from "@mnemo/core";
import { CheckpointError } from "@mnemo/core";
import { readCheckpoint, type StateValue, writeCheckpoint, type CheckpointIdentity } from "@mnemo/models";
import { MNEMO_VERSION } from "./version.js";

export const CHECKPOINT_DIR = "checkpoint";

export interface RunnerState {
  /** The first task still to train (equal to the interrupted task for a mid-task checkpoint). */
  nextTask: number;
  step: number;
  result: ExperimentResult;
  extraMetrics: Record<string, number>[];
  rng: Record<string, RandomStreamState>;
}

/**
 * Top-level config sections that change where, how often and from where a run reads and writes,
 * never its results: output, checkpoint, and data (how dataset files are fetched, so a run
 * resumed offline, or one written before the key existed, keeps its hash).
 */
const RESULT_NEUTRAL_KEYS = new Set(["output", "checkpoint", "data"]);

/** sha256 of the resolved config in canonical form (sorted keys), minus the result-neutral sections. */
export function configHash(config: object): string {
  const canonical = (v: unknown, top: boolean): unknown => {
    if (Array.isArray(v)) return v.map((x) => canonical(x, false));
    if (v && typeof v === "object") {
      return Object.fromEntries(
        Object.keys(v)
          .filter((k) => !(top && RESULT_NEUTRAL_KEYS.has(k)))
          .sort()
          .map((k) => [k, canonical((v as Record<string, unknown>)[k], false)]),
      );
    }
    return v;
  };
  return createHash("sha256").update(JSON.stringify(canonical(config, true))).digest("hex");
}

export async function saveRunCheckpoint(
  runDir: string,
  identity: CheckpointIdentity,
  learner: Learner,
  runner: RunnerState,
  position: Record<string, number | boolean>,
): Promise<CheckpointCost> {
  const t0 = performance.now();
  if (!learner.saveState) throw new CheckpointError(`learner "${learner.name}" cannot save its state, so this run cannot be checkpointed`);
  const learnerState = (await learner.saveState()) as StateValue;
  const state: StateValue = {
    learner: learnerState,
    runner: {
      nextTask: runner.nextTask,
      step: runner.step,
      result: runner.result as unknown as StateValue,
      extraMetrics: runner.extraMetrics as unknown as StateValue,
      rng: runner.rng as unknown as StateValue,
    },
  };
  const { bytes } = writeCheckpoint(join(runDir, CHECKPOINT_DIR), identity, position, state, MNEMO_VERSION);
  return { ms: performance.now() - t0, bytes };
}

/** What one checkpoint cost: wall time (state capture, encoding, fsync'd write) and size on disk. */
export interface CheckpointCost {
  ms: number;
  bytes: number;
}

export async function loadRunCheckpoint(runDir: string, identity: CheckpointIdentity, learner: Learner, rng: SeededRng): Promise<RunnerState> {
  const { state } = readCheckpoint(join(runDir, CHECKPOINT_DIR), identity);
  const s = state as unknown as { learner: Record<string, unknown>; runner: RunnerState };
  if (!learner.loadState) throw new CheckpointError(`learner "${learner.name}" cannot load a saved state`);
  await learner.loadState(s.learner);
  rng.restore(s.runner.rng);
  return s.runner;
}
