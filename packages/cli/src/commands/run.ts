/** `mnemo run <config.yaml> [--set key=value ...] [--quiet]` and `mnemo run --resume <run-dir>`: argv and printing. */
import { join } from "node:path";
import { ConfigError, TrainingInterrupted } from "@mnemo/core";
import { consoleReporter, runFromConfig, type RunFromConfigArgs, type RunOutcome } from "@mnemo/experiment";

export interface RunArgs {
  configFile: string;
  overrides: string[];
  quiet: boolean;
  /** Continue the run in this directory from its checkpoint. */
  resume?: string;
  /** Stop (as Ctrl-C would) after this many optimizer steps: used to test resuming. */
  stopAfterSteps?: number;
  /** Nest the MLflow run under this parent (sweeps). */
  parentRunId?: string;
}

export function parseRunArgs(argv: string[]): RunArgs {
  const overrides: string[] = [];
  let configFile: string | undefined;
  let quiet = false;
  let resume: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === "--resume") {
      resume = argv[++i];
      if (!resume) throw new ConfigError("--resume needs a run directory: mnemo run --resume runs/<name>/<run>", { file: "command line" });
    } else if (a === "--set") {
      const v = argv[++i];
      if (v === undefined) throw new ConfigError("--set needs key.path=value", { file: "--set" });
      overrides.push(v);
    } else if (a.startsWith("--set=")) overrides.push(a.slice("--set=".length));
    else if (a === "--quiet" || a === "-q") quiet = true;
    else if (a.startsWith("-")) throw new ConfigError(`unknown option ${a} (see mnemo run --help)`, { file: "command line" });
    else if (configFile === undefined) configFile = a;
    else throw new ConfigError(`unexpected argument "${a}": give one config file`, { file: "command line" });
  }
  const stopEnv = process.env.MNEMO_STOP_AFTER_STEPS;
  const stopAfterSteps = stopEnv ? Number(stopEnv) : undefined;
  if (resume) {
    if (configFile) throw new ConfigError("--resume continues a run with its own config.yaml; do not give a config file too", { file: "command line" });
    if (overrides.length) throw new ConfigError("--resume keeps the run's config: --set cannot be combined with it", { file: "command line" });
    return { configFile: join(resume, "config.yaml"), overrides, quiet, resume, stopAfterSteps };
  }
  if (!configFile) throw new ConfigError("mnemo run needs a config file: mnemo run configs/cil-mnist.yaml", { file: "command line" });
  return { configFile, overrides, quiet, stopAfterSteps };
}

/** Runs with the console reporter printing to `print` (stdout by default). */
export async function runWithReporter(args: RunArgs, print: (line: string) => void = (l) => process.stdout.write(l + "\n")): Promise<RunOutcome> {
  const options: RunFromConfigArgs = { ...args, log: print, observers: [consoleReporter(print)] };
  return runFromConfig(options);
}

export async function runCommand(argv: string[]): Promise<number> {
  try {
    await runWithReporter(parseRunArgs(argv));
  } catch (err) {
    if (err instanceof TrainingInterrupted) return 130; // the shell's code for Ctrl-C
    throw err;
  }
  return 0;
}
