/**
 * The child process of the local worker pool: receives one trial over IPC, runs it with runTrial
 * (which records its result in the manifest itself, so a result survives the parent dying) and
 * reports progress and the outcome back. If the parent goes away (the IPC channel closes) or asks
 * it to stop, the trial stops after the current step with a checkpoint, for the next run to resume.
 */
import { TrainingInterrupted } from "@mnemo/core";
import { runTrial } from "./trial.js";
import type { ChildMessage, ParentMessage } from "./pool.js";

const send = (m: ChildMessage): void => {
  if (process.connected) process.send?.(m);
};

const stop = new AbortController();
process.on("disconnect", () => stop.abort());

process.on("message", (raw) => {
  const msg = raw as ParentMessage;
  if (msg.type === "stop") {
    stop.abort();
    return;
  }
  let last = 0;
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
  }).then(
    (result) => {
      send({ type: "done", result });
      process.exitCode = 0;
    },
    (err: unknown) => {
      const interrupted = err instanceof TrainingInterrupted;
      if (!interrupted) process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
      send({ type: interrupted ? "interrupted" : "error", message: (err as Error).message });
      process.exitCode = interrupted ? 130 : 1;
    },
  ).finally(() => {
    if (process.connected) process.disconnect();
    // tfjs' wasm helper threads may keep the event loop alive; the trial is recorded, so leave.
    setTimeout(() => process.exit(process.exitCode ?? 0), 1000).unref();
  });
});
send({ type: "ready" });
