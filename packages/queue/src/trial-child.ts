/**
 * The child process that runs one queued trial for `mnemo worker`: the worker's own event loop
 * stays free to renew the job's lock while the trial trains (loading data or a backend can block
 * a process for seconds). Gets the trial over IPC, runs it with runTrial (which records the result
 * in the manifest itself), sends back the result. When the worker goes away (the IPC channel
 * closes: killed, even by SIGKILL) or asks it to stop, the trial stops after the current step with
 * a checkpoint, so that the worker that picks the trial up next resumes it.
 */
import { TrainingInterrupted } from "@mnemo/core";
import { runTrial, type Trial } from "@mnemo/sweep";

/** Worker -> child. */
export type ToChild = { type: "run"; trial: Trial; sweepDir: string; threads?: number; parentRunId?: string; host: string } | { type: "stop" };
/** Child -> worker. */
export type FromChild = { type: "ready" } | { type: "done"; result: Record<string, unknown> } | { type: "interrupted"; message: string } | { type: "error"; message: string; config: boolean };

const send = (m: FromChild): void => {
  if (process.connected) process.send?.(m);
};

const stop = new AbortController();
process.on("disconnect", () => stop.abort());
process.on("SIGINT", () => stop.abort()); // Ctrl-C reaches the whole process group: the worker decides

process.on("message", (raw) => {
  const msg = raw as ToChild;
  if (msg.type === "stop") {
    stop.abort();
    return;
  }
  runTrial(msg.trial, {
    sweepDir: msg.sweepDir,
    threads: msg.threads,
    parentRunId: msg.parentRunId,
    host: msg.host,
    signal: stop.signal,
    handleSignals: false,
    log: (line) => process.stdout.write(line + "\n"),
  })
    .then(
      (result) => {
        send({ type: "done", result: result as unknown as Record<string, unknown> });
        process.exitCode = 0;
      },
      (err: unknown) => {
        const interrupted = err instanceof TrainingInterrupted;
        if (!interrupted) process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
        const code = (err as { code?: unknown }).code;
        send(interrupted ? { type: "interrupted", message: (err as Error).message } : { type: "error", message: (err as Error).message, config: code === "CONFIG" });
        process.exitCode = interrupted ? 130 : 1;
      },
    )
    .finally(() => {
      if (process.connected) process.disconnect();
      // tfjs' wasm helper threads may keep the event loop alive; the trial is recorded, so leave.
      setTimeout(() => process.exit(process.exitCode ?? 0), 1000).unref();
    });
});
send({ type: "ready" });
