#!/usr/bin/env node
/** mnemo: run, sweep, sync and report continual-learning experiments. */
import { didYouMean } from "@mnemo/core";
import { reportFailure } from "./failure.js";
import { runCommand } from "./commands/run.js";
import { COMMAND_SPECS } from "./specs.js";
import { MNEMO_VERSION } from "./version.js";

/** `mnemo --help`: one line per command, from the same definitions each command parses with. */
function topHelp(): string {
  const width = Math.max(...COMMAND_SPECS.map((c) => c.name.length)) + 2;
  return [
    `mnemo ${MNEMO_VERSION}: continual-learning experiments`,
    "",
    "usage: mnemo <command> [arguments] (after npm ci: npx mnemo ..., or npm run mnemo -- ...)",
    "",
    "commands:",
    ...COMMAND_SPECS.map((c) => `  ${c.name.padEnd(width)} ${c.summary}`),
    "",
    "mnemo <command> --help shows a command's arguments and options; mnemo --version prints the version.",
    "",
  ].join("\n");
}

type Command = (argv: string[]) => Promise<number>;

async function loadCommand(name: string): Promise<Command | undefined> {
  switch (name) {
    case "run":
      return runCommand;
    case "sweep":
      return (await import("./commands/sweep.js")).sweepCommand;
    case "worker":
      return (await import("./commands/worker.js")).workerCommand;
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
    process.stdout.write(topHelp());
    return name ? 0 : 2;
  }
  if (name === "--version" || name === "-v") {
    process.stdout.write(`${MNEMO_VERSION}\n`);
    return 0;
  }
  const command = await loadCommand(name);
  if (!command) {
    const hint = didYouMean(name, COMMAND_SPECS.map((c) => c.name));
    process.stderr.write(`mnemo: unknown command "${name}"${hint}\n\n${topHelp()}`);
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
