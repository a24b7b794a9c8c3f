/**
 * A worker process of the local pool (`mnemo sweep --workers N`): runs the trials the parent
 * sends over IPC, one at a time, with runTrial (which records each result in the manifest itself,
 * so a result survives the parent dying), and reports progress and outcomes back. One process
 * serves many trials, so the backend and the dataset files load once per worker. If the parent
 * goes away (the IPC channel closes) or asks it to stop, the running trial stops after the
 * current step with a checkpoint, for the next run of the sweep to resume.
 */
import { TrainingInterrupted } from "@mnemo/core";
import { runTrial } from "./trial.js";
import type { ChildMessage, ParentMessage } from "./pool.js";

const send = (m: ChildMessage): void => {
  if (process.connected) process.send?.(m);
};

let stop = new AbortController();
let busy = false;
const leave = (): void => {
  // tfjs' wasm helper threads may keep the event loop alive; every result is recorded, so exit.
  process.exit(process.exitCode ?? 0);
};
process.on("disconnect", () => {
  stop.abort();
  if (!busy) leave();
});

process.on("message", (raw) => {
  const msg = raw as ParentMessage;
  if (msg.type === "stop") {
    stop.abort();
    return;
  }
  if (msg.type === "exit") {
    if (process.connected) process.disconnect();
    return;
  }
  busy = true;
  if (stop.signal.aborted) stop = new AbortController();
  let last = 0;
  process.stdout.write(`\n== trial ${msg.trial.id} (point ${JSON.stringify(msg.trial.point)}, seed ${msg.trial.seed})\n`);
  runTrial(msg.trial, {
    ...msg.options,
    signal: stop.signal,
    log: (line) => process.stdout.write(line + "\n"),
    onProgress: (p) => {
      const now = Date.now();
      if (p.phase === "train" && now - last < 250) return;
      last = now;
      send({ type: "progress", progress: p });
    },
  })
    .then(
      (result) => send({ type: "done", result }),
      (err: unknown) => {
        const interrupted = err instanceof TrainingInterrupted;
        if (!interrupted) process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
        send({ type: interrupted ? "interrupted" : "error", message: (err as Error).message });
      },
    )
    .finally(() => {
      busy = false;
      if (!process.connected) leave();
    });
});
send({ type: "ready" });
