/**
 * The queue + workers way of running a sweep (BullMQ on Redis, @mnemo/queue); argv and printing:
 *
 *   mnemo sweep <sweep.yaml> --queue redis://host:6379   enqueue the unrecorded trials, wait for the workers
 *   mnemo sweep --status --queue redis://host:6379       the queue: waiting / running / ... per sweep and worker
 *   mnemo worker --queue redis://host:6379               pull trials and run them (any machine, same commit)
 *
 * Redis going away is one clear line and exit code 1, never a hang: the sweep's manifest on disk
 * holds every recorded result, and rerunning the same commands once Redis is back completes the sweep.
 */
import { writeSync } from "node:fs";
import { positiveInt } from "@mnemo/experiment";
import {
  DEFAULT_RETRY,
  enqueueTrials,
  followTrials,
  formatQueueStatus,
  localCodeVersion,
  manifestStore,
  parseQueueUrl,
  openTrialQueue,
  queueStatus,
  sharedManifest,
  startQueueWorker,
  startRedisHint,
  sweepRunner,
  trialJobs,
  watchRedis,
  type CodeVersion,
  type FollowProgress,
  type QueueAddress,
  type RedisUnavailableError,
} from "@mnemo/queue";
import { formatSweepTable, planSweep, prepareSweepDir, startParentRun, writeSweepSummary } from "@mnemo/sweep";
import { flag, formatHelp, option, parseArgs, usageError, type CommandSpec, type ParsedArgs } from "../args.js";
import { sweepSpec, workerSpec } from "../specs.js";

type Print = (line: string) => void;

function seconds(spec: CommandSpec, parsed: ParsedArgs, name: string, fallback: number): number {
  const text = option(parsed, name);
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) throw usageError(spec, `${name} expects a positive number of seconds, got "${text}"`);
  return n;
}

function count(spec: CommandSpec, parsed: ParsedArgs, name: string): number | undefined {
  const text = option(parsed, name);
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!positiveInt().safeParse(n).success && !(name === "--retries" && n === 0)) throw usageError(spec, `${name} expects ${name === "--retries" ? "a whole number (0 or more)" : "a positive integer"}, got "${text}"`);
  return n;
}

function queueAddress(spec: CommandSpec, parsed: ParsedArgs): QueueAddress {
  const url = option(parsed, "--queue");
  if (url === undefined) throw usageError(spec, `--queue redis://host:6379 is needed (${spec.name === "worker" ? "the Redis the sweep was enqueued on" : "--status shows a queue"})`);
  return parseQueueUrl(url);
}

/** Last words when Redis is gone: written synchronously, then exit (BullMQ's reconnecting sockets would keep the process alive). */
function exitLost(err: RedisUnavailableError): never {
  writeSync(2, `mnemo: ${err.message}\n`);
  process.exit(1);
}

const unreachable = (a: QueueAddress, ms: number, cause: string): string => `cannot reach Redis at ${a.url} (${cause}, for ${(ms / 1000).toFixed(1)} s); ${startRedisHint(a)}`;

function warnDirty(code: CodeVersion): void {
  if (code.dirty) process.stderr.write(`mnemo: warning: this checkout has uncommitted changes; workers compare the commit (${code.commit?.slice(0, 12) ?? "none"}) and config schema only, so make sure every machine runs the same files\n`);
}

function progressLine(p: FollowProgress): string {
  const running = p.running.length ? ` (${p.running.map((r) => `${r.id} on ${r.worker}`).join(", ")})` : "";
  return `queue: ${p.recorded}/${p.total} recorded, ${p.running.length} running${running}, ${p.waiting} waiting, ${p.retrying} retrying, ${p.failed} failed`;
}

/** `mnemo sweep ... --queue` (enqueue and follow) and `mnemo sweep --status --queue`. */
export async function queueSweepCommand(parsed: ParsedArgs, print: Print): Promise<number> {
  const address = queueAddress(sweepSpec, parsed);
  const timeoutMs = seconds(sweepSpec, parsed, "--redis-timeout", 30) * 1000;
  const file = parsed.positionals[0];
  for (const o of ["--workers", "--threads", "--plan"]) if (flag(parsed, o)) throw usageError(sweepSpec, `${o} does not apply with --queue: each \`mnemo worker\` runs its trials (mnemo worker --threads n)`);
  if (flag(parsed, "--status") && file !== undefined) throw usageError(sweepSpec, "--status shows the whole queue: give no sweep file");
  if (!flag(parsed, "--status") && file === undefined) throw usageError(sweepSpec, "missing <sweep.yaml> (or --status to show the queue)");

  let stage = "status";
  let recordedDir = "";
  let recordedOf = (): string => "";
  const watch = watchRedis(address, timeoutMs, (phase, ms, cause) =>
    phase === "start"
      ? `${unreachable(address, ms, cause)}; nothing was enqueued`
      : `Redis at ${address.url} stopped answering (${cause}, for ${(ms / 1000).toFixed(1)} s) while ${stage}. Nothing recorded is lost: ${recordedOf()} in ${recordedDir}/manifest.json. ` +
        `When Redis is back, rerun: npx mnemo sweep ${file ?? "<sweep.yaml>"} --queue ${address.url} (it enqueues only the unrecorded trials; interrupted ones resume from their checkpoints)`,
  );
  void watch.lost.then(exitLost);
  try {
    await watch.ready;
  } catch (err) {
    exitLost(err as RedisUnavailableError);
  }
  const queue = openTrialQueue(address);
  try {
    if (flag(parsed, "--status")) {
      print(formatQueueStatus(await queueStatus(queue), address.url));
      return 0;
    }
    const quiet = flag(parsed, "--quiet");
    const retry = { retries: count(sweepSpec, parsed, "--retries") ?? DEFAULT_RETRY.retries, backoffMs: seconds(sweepSpec, parsed, "--retry-delay", DEFAULT_RETRY.backoffMs / 1000) * 1000 };
    const plan = await planSweep(file as string, { overrides: parsed.options.get("--set") ?? [], dir: option(parsed, "--dir") });
    prepareSweepDir(plan);
    const store = manifestStore(plan.dir);
    recordedDir = plan.dir;
    recordedOf = () => `${plan.trials.filter((t) => store.get(t.id) !== undefined).length}/${plan.trials.length} trials are recorded`;
    const code = localCodeVersion();
    warnDirty(code);
    const parent = await startParentRun(plan);
    stage = "enqueueing";
    const report = await enqueueTrials(queue, trialJobs(plan, { parentRunId: parent.runId, code }), store, retry);
    print(
      `sweep ${plan.name}: ${plan.trials.length} trials in ${plan.dir}; queue ${address.url}: ${report.added.length} enqueued, ${report.requeued.length} enqueued again, ` +
        `${report.queued.length} queued already, ${report.recorded.length} recorded before (commit ${code.commit?.slice(0, 12) ?? "none"}, up to ${retry.retries} retries)`,
    );
    if (report.recorded.length < plan.trials.length) print(`waiting for workers; start them on any machine with this commit: npx mnemo worker --queue ${address.url}`);
    stage = "waiting for the workers";
    let last = "";
    const followed = await followTrials(
      queue,
      plan.trials.map((t) => t.id),
      store,
      {
        onProgress: (p) => {
          const line = progressLine(p);
          if (!quiet && line !== last) print(line);
          last = line;
        },
      },
    );
    const complete = followed.failed.length === 0 && followed.missing.length === 0;
    await parent.end(complete ? "FINISHED" : "FAILED");
    const summary = writeSweepSummary(plan.dir);
    print(`\nsweep ${plan.name}: ${summary.counts.finished}/${summary.counts.planned} trials, mean ± std over seeds; ${summary.note}`);
    print(formatSweepTable(summary));
    print(`-> ${plan.dir} (summary.csv, summary.md, summary.html)`);
    for (const f of followed.failed) process.stderr.write(`mnemo: trial ${f.id} failed on every try: ${f.reason}\n`);
    if (followed.missing.length) process.stderr.write(`mnemo: ${followed.missing.length} trial(s) vanished from the queue (Redis restarted without persistence?)\n`);
    if (!complete) process.stderr.write(`mnemo: rerun the same command to enqueue the unfinished trials again (recorded ones are kept)\n`);
    return complete ? 0 : 1;
  } finally {
    watch.stop();
    await queue.close().catch(() => {});
  }
}

/** `mnemo worker --queue redis://host:6379`. */
export async function workerCommand(argv: string[], print: Print = (l) => process.stdout.write(l + "\n")): Promise<number> {
  const parsed = parseArgs(workerSpec, argv);
  if (parsed.help) {
    process.stdout.write(formatHelp(workerSpec));
    return 0;
  }
  const address = queueAddress(workerSpec, parsed);
  const timeoutMs = seconds(workerSpec, parsed, "--redis-timeout", 30) * 1000;
  const lockMs = seconds(workerSpec, parsed, "--lock-seconds", 60) * 1000;
  const threads = count(workerSpec, parsed, "--threads");
  const quiet = flag(parsed, "--quiet");
  const code = localCodeVersion();
  let current = (): string => "";
  const watch = watchRedis(address, timeoutMs, (phase, ms, cause) =>
    phase === "start"
      ? unreachable(address, ms, cause)
      : `Redis at ${address.url} stopped answering (${cause}, for ${(ms / 1000).toFixed(1)} s): this worker stopped${current()}. Nothing recorded is lost: finished trials are in their sweep's manifest.json. ` +
        `When Redis is back, start the worker again: npx mnemo worker --queue ${address.url} (and rerun the mnemo sweep --queue command, which enqueues what is not recorded)`,
  );
  try {
    await watch.ready;
  } catch (err) {
    exitLost(err as RedisUnavailableError);
  }
  warnDirty(code);
  const worker = startQueueWorker({
    address,
    code,
    lockMs,
    untilEmpty: flag(parsed, "--until-empty"),
    runner: sweepRunner({ threads, log: quiet ? () => {} : print }),
    openStore: sharedManifest,
    log: print,
  });
  current = () => (worker.busy() > 0 ? "; its running trial was stopped at its last checkpoint" : "");
  print(`worker ${worker.identity.name} on ${address.url} (commit ${code.commit?.slice(0, 12) ?? "none"}, config schema ${code.schema}, lock ${lockMs / 1000} s)`);
  void watch.lost.then(async (err) => {
    // Stop the running trial at its next step (it checkpoints), then say what happened and exit.
    const stopping = worker.stop({ abort: true });
    await Promise.race([stopping, new Promise((r) => setTimeout(r, 5000))]);
    exitLost(err);
  });
  const onSignal = (): void => {
    print("stopping: the running trial checkpoints and goes back to the queue (Ctrl-C again to abort)");
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    process.once("SIGINT", () => process.exit(130));
    void worker.stop({ abort: true });
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  const exit = await worker.done;
  process.off("SIGINT", onSignal);
  process.off("SIGTERM", onSignal);
  watch.stop();
  if (exit.reason === "refused") {
    process.stderr.write(`mnemo: ${exit.message}\n`);
    return 1;
  }
  print(`worker ${worker.identity.name}: ${exit.ran} trial(s) run; ${exit.reason === "empty" ? "the queue is empty" : "stopped"}`);
  return exit.reason === "empty" ? 0 : 130;
}
