#!/usr/bin/env node
/** mnemo: run, sweep, sync and report continual-learning experiments. */
import { reportFailure } from "./failure.js";
import { runCommand } from "./commands/run.js";
import { MNEMO_VERSION } from "./version.js";

const HELP = `mnemo ${MNEMO_VERSION}: continual-learning experiments

usage:
  mnemo run <config.yaml> [--set key.path=value ...] [--quiet]   run an experiment
  mnemo run --resume <run-dir>                                   continue an interrupted run from its checkpoint
  mnemo sweep <sweep.yaml> [--quiet]                             grid x seeds over a base config, mean ± std table
  mnemo schema                                                   print the config schema (JSON Schema, with defaults)
  mnemo sync <run-dir>                                           send a run's unsent tracking data to MLflow
  mnemo report <run-dir>... [--out report.html]                  HTML page comparing runs
  mnemo --version | --help

environment:
  MNEMO_DATA_DIR     where datasets are read from / downloaded to (default ~/.cache/mnemo/datasets)
  MNEMO_BACKEND      auto | node-gpu | node | wasm | cpu (overrides the config's backend:)
  MLFLOW_TRACKING_URI  http(s)://server or a path (default ./mlruns)
`;

type Command = (argv: string[]) => Promise<number>;

async function loadCommand(name: string): Promise<Command | undefined> {
  switch (name) {
    case "run":
      return runCommand;
    case "sweep":
      return (await import("./commands/sweep.js")).sweepCommand;
    case "schema":
      return (await import("./commands/schema.js")).schemaCommand;
    case "sync":
      return (await import("./commands/sync.js")).syncCommand;
    case "report":
      return (await import("./commands/report.js")).reportCommand;
    default:
      return undefined;
  }
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    process.stdout.write(HELP);
    return name ? 0 : 2;
  }
  if (name === "--version" || name === "-v") {
    process.stdout.write(`${MNEMO_VERSION}\n`);
    return 0;
  }
  const command = await loadCommand(name);
  if (!command) {
    process.stderr.write(`mnemo: unknown command "${name}"\n\n${HELP}`);
    return 2;
  }
  return command(rest);
}

// Run directly (`node --import tsx src/main.ts ...`); bin/mnemo.mjs imports main() instead.
if (process.argv[1] !== undefined && /main\.ts$/.test(process.argv[1])) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.exitCode = reportFailure(err);
    },
  );
}
