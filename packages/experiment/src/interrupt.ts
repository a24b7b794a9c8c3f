/**
 * Ctrl-C handling: the first SIGINT asks the learner to stop after the current step (the run then
 * saves a checkpoint and exits 130); a second one aborts at once without saving.
 */
import type { Learner } from "@mnemo/core";

export interface InterruptHandle {
  requested: () => boolean;
  dispose: () => void;
}

export function installInterruptHandler(log: (line: string) => void, alsoStopWhen?: () => boolean): InterruptHandle {
  let count = 0;
  const onSignal = (): void => {
    count++;
    if (count === 1) {
      log("\nstopping after this step to save a checkpoint (Ctrl-C again to abort without saving)");
    } else {
      process.exit(130);
    }
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  return {
    requested: () => count > 0 || (alsoStopWhen?.() ?? false),
    dispose: () => {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    },
  };
}

/** Learners that support stopping between steps expose `setShouldStop`. */
export function setStopCheck(learner: Learner, check: () => boolean): void {
  const l = learner as Learner & { setShouldStop?: (check: () => boolean) => void };
  l.setShouldStop?.(check);
}
