import { MnemoError } from "@mnemo/core";
import { writeReport } from "@mnemo/tracking";
import { option } from "../args.js";
import { parseCommandLine, type CommandIO } from "../io.js";
import { reportSpec } from "../specs.js";

const defaultIO: CommandIO = {
  stdout: (l) => process.stdout.write(l + "\n"),
  stderr: (l) => process.stderr.write(l + "\n"),
};

/** `mnemo report <run-dir>... [--out report.html]`: 0 = written, 1 = unreadable run, 2 = usage error. */
export async function reportCommand(argv: string[], io: CommandIO = defaultIO): Promise<number> {
  const parsed = parseCommandLine(reportSpec, argv, io);
  if (typeof parsed === "number") return parsed;
  const out = option(parsed, "--out") ?? "report.html";
  const dirs = parsed.positionals;
  try {
    const file = writeReport(dirs, out);
    io.stdout(`wrote ${file} (${dirs.length} run${dirs.length === 1 ? "" : "s"})`);
    return 0;
  } catch (error) {
    if (error instanceof MnemoError) {
      io.stderr(error.message);
      return 1;
    }
    throw error;
  }
}
