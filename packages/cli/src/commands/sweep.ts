/**
 * `mnemo sweep <sweep.yaml> [--workers n] [--threads n] [--set k=v ...] [--dir d] [--plan] [--quiet]`:
 * argv and printing on top of @mnemo/sweep (planning, trial ids, manifest, resume, worker pool,
 * summary files). Exit codes: 0 every trial finished, 1 some failed, 2 usage/config error, 130 interrupted.
 */
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { positiveInt } from "@mnemo/experiment";
import { defaultWorkers, formatSweepTable, openManifest, planSweep, runSweep, summarizeSweepDir, SweepProgress, type SweepEvent } from "@mnemo/sweep";
import { flag, formatHelp, option, parseArgs, usageError } from "../args.js";
import { sweepSpec } from "../specs.js";

function count(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!positiveInt().safeParse(n).success) throw usageError(sweepSpec, `${name} expects a positive integer, got "${text}"`);
  return n;
}

export async function sweepCommand(argv: string[], print: (line: string) => void = (l) => process.stdout.write(l + "\n")): Promise<number> {
  const parsed = parseArgs(sweepSpec, argv);
  if (parsed.help) {
    process.stdout.write(formatHelp(sweepSpec));
    return 0;
  }
  const file = parsed.positionals[0] as string;
  const quiet = flag(parsed, "--quiet");
  const threads = count("--threads", option(parsed, "--threads"));
  const workersText = option(parsed, "--workers");
  const workers = workersText === "auto" ? defaultWorkers(threads ?? 1) : count("--workers", workersText);
  const plan = await planSweep(file, { overrides: parsed.options.get("--set") ?? [], dir: option(parsed, "--dir") });
  const manifest = openManifest(plan.dir).read();
  const status = (id: string): string => manifest.trials[id]?.status ?? "pending";
  if (flag(parsed, "--plan")) {
    print(`sweep ${plan.name}: ${plan.points.length} points × ${plan.seeds.length} seeds = ${plan.trials.length} trials, in ${plan.dir}`);
    for (const t of plan.trials) print(`${t.id}  ${status(t.id).padEnd(8)}  seed ${t.seed}  ${JSON.stringify(t.point)}`);
    return 0;
  }
  const cores = availableParallelism();
  if (workers !== undefined && workers * (threads ?? 1) > cores) {
    process.stderr.write(`mnemo: ${workers} workers × ${threads ?? 1} thread(s) exceed this machine's ${cores} cores; trials will slow each other down (try --workers ${defaultWorkers(threads ?? 1, cores)})\n`);
  }

  const progress = new SweepProgress(plan.name);
  const tty = process.stderr.isTTY === true && !quiet;
  let lastDraw = 0;
  const draw = (force: boolean): void => {
    if (quiet) return;
    const now = Date.now();
    if (!force && now - lastDraw < 500) return;
    lastDraw = now;
    if (tty) process.stderr.write(`\r\x1b[K${progress.line()}`);
    else print(progress.line());
  };
  const onEvent = (e: SweepEvent): void => {
    const changed = progress.update(e);
    if (e.type === "plan") {
      if (!quiet) print(`sweep ${plan.name}: ${e.total} trials (${plan.points.length} points × ${plan.seeds.length} seeds) in ${plan.dir}; ${e.finished} finished before, ${e.toRun} to run${workers !== undefined ? `, ${workers} worker(s) × ${e.threads} thread(s)` : ""}`);
      return;
    }
    if (e.type === "failed") {
      if (tty) process.stderr.write("\r\x1b[K");
      process.stderr.write(`mnemo: trial ${e.trial.id} (${JSON.stringify(e.trial.point)} seed ${e.trial.seed}) failed: ${e.error}${workers !== undefined ? ` (worker logs: ${join(plan.dir, "logs")})` : ""}\n`);
    }
    if (changed || tty) draw(changed);
  };
  const stop = new AbortController();
  const onSigint = (): void => stop.abort();
  // In this process, the run's own handler stops the trial at Ctrl-C; with workers, the sweep asks them.
  if (workers !== undefined) {
    process.on("SIGINT", onSigint);
    process.on("SIGTERM", onSigint);
  }
  let outcome;
  try {
    outcome = await runSweep(plan, { workers, threads, onEvent, signal: stop.signal, log: quiet ? undefined : (l) => process.stderr.write(`${tty ? "\r\x1b[K" : ""}${l}\n`) });
  } finally {
    process.off("SIGINT", onSigint);
    process.off("SIGTERM", onSigint);
    if (tty) process.stderr.write("\n");
  }
  const summary = summarizeSweepDir(plan.dir); // runSweep wrote the summary files

  print(`\nsweep ${plan.name}: ${summary.counts.finished}/${summary.counts.planned} trials, mean ± std over seeds; ${summary.note}`);
  print(formatSweepTable(summary));
  print(`-> ${plan.dir} (summary.csv, summary.md, summary.html)`);
  if (outcome.interrupted) {
    print(`interrupted: rerun the same command to continue (finished trials are kept, running ones resume from their checkpoint)`);
    return 130;
  }
  return outcome.failed.length > 0 ? 1 : 0;
}
