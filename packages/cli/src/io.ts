/** Output of the commands that print through an injectable sink (tests capture it). */
import { ConfigError } from "@mnemo/core";
import { formatHelp, parseArgs, type CommandSpec, type ParsedArgs } from "./args.js";

export interface CommandIO {
  stdout: (line: string) => void;
  stderr: (line: string) => void;
}

/** Parsed argv, or the exit code when the command is done already (0 after --help, 2 on a usage error). */
export function parseCommandLine(spec: CommandSpec, argv: readonly string[], io: CommandIO): ParsedArgs | number {
  try {
    const parsed = parseArgs(spec, argv);
    if (parsed.help) {
      io.stdout(formatHelp(spec).trimEnd());
      return 0;
    }
    return parsed;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    io.stderr(err.message);
    return 2;
  }
}
