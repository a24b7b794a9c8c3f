/** `mnemo run <config.yaml> [--set key=value ...] [--quiet]` and `mnemo run --resume <run-dir>`: argv and printing. */
import { TrainingInterrupted } from "@mnemo/core";
import { consoleReporter, resumeConfigFile, runFromConfig, type RunFromConfigArgs, type RunOutcome } from "@mnemo/experiment";
import { flag, formatHelp, option, parseArgs, usageError } from "../args.js";
import { runSpec } from "../specs.js";

export interface RunArgs {
  configFile: string;
  overrides: string[];
  quiet: boolean;
  /** Continue the run in this directory from its checkpoint. */
  resume?: string;
  /** Never download a missing dataset (`--offline`). */
  download?: false;
  /** Stop (as Ctrl-C would) after this many optimizer steps: used to test resuming. */
  stopAfterSteps?: number;
  /** Stop after this many domains of the adaptation phase (MNEMO_STOP_AFTER_ADAPTATION_DOMAINS): used to test resuming. */
  stopAfterAdaptationDomains?: number;
  /** Nest the MLflow run under this parent (sweeps). */
  parentRunId?: string;
}

/**
 * `--set k v` (a space instead of `=`) reads as "--set k" and a stray argument; say what was meant
 * before the parser reports the stray argument as a second config file.
 */
function checkSetSpacing(argv: readonly string[]): void {
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] !== "--set") continue;
    const key = argv[i + 1];
    const value = argv[i + 2];
    if (key === undefined || key.includes("=")) continue;
    if (value !== undefined && !value.startsWith("-")) {
      throw usageError(runSpec, `--set ${key} ${value}: write key=value as one argument: --set ${key}=${value}`);
    }
  }
}

/** argv -> RunArgs, or `undefined` when --help was asked for (the help is printed). */
export function parseRunArgs(argv: string[], print: (text: string) => void = (t) => process.stdout.write(t)): RunArgs | undefined {
  const wantsHelp = argv.some((a) => a === "--help" || a === "-h");
  if (!wantsHelp) checkSetSpacing(argv);
  const parsed = parseArgs(runSpec, argv);
  if (parsed.help) {
    print(formatHelp(runSpec));
    return undefined;
  }
  const overrides = parsed.options.get("--set") ?? [];
  const configFile = parsed.positionals[0];
  const quiet = flag(parsed, "--quiet");
  const resume = option(parsed, "--resume");
  const download = flag(parsed, "--offline") ? false : undefined;
  const stopEnv = process.env.MNEMO_STOP_AFTER_STEPS;
  const stopAfterSteps = stopEnv ? Number(stopEnv) : undefined;
  // Test hook, like MNEMO_STOP_AFTER_STEPS: stop after this many domains of the adaptation phase.
  const stopAdaptEnv = process.env.MNEMO_STOP_AFTER_ADAPTATION_DOMAINS;
  const stopAfterAdaptationDomains = stopAdaptEnv ? Number(stopAdaptEnv) : undefined;
  if (resume !== undefined) {
    if (configFile) throw usageError(runSpec, "--resume continues a run with its own config.yaml; do not give a config file too");
    if (overrides.length) throw usageError(runSpec, "--resume keeps the run's config: --set cannot be combined with it");
    return { configFile: resumeConfigFile(resume), overrides, quiet, resume, download, stopAfterSteps, stopAfterAdaptationDomains };
  }
  if (!configFile) throw usageError(runSpec, "mnemo run needs a config file, e.g. mnemo run configs/cil-mnist.yaml");
  return { configFile, overrides, quiet, download, stopAfterSteps, stopAfterAdaptationDomains };
}

/** Runs with the console reporter printing to `print` (stdout by default). */
export async function runWithReporter(args: RunArgs, print: (line: string) => void = (l) => process.stdout.write(l + "\n")): Promise<RunOutcome> {
  const options: RunFromConfigArgs = { ...args, log: print, observers: [consoleReporter(print)] };
  return runFromConfig(options);
}

export async function runCommand(argv: string[]): Promise<number> {
  const args = parseRunArgs(argv);
  if (!args) return 0;
  try {
    await runWithReporter(args);
  } catch (err) {
    if (err instanceof TrainingInterrupted) return 130; // the shell's code for Ctrl-C
    throw err;
  }
  return 0;
}
