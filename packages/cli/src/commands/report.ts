import { MnemoError } from "@mnemo/core";
import { writeReport } from "@mnemo/tracking";
import type { CommandIO } from "./sync.js";

const defaultIO: CommandIO = {
  stdout: (l) => process.stdout.write(l + "\n"),
  stderr: (l) => process.stderr.write(l + "\n"),
};

const USAGE = "usage: mnemo report <run-dir>... [--out report.html]\n  Writes an HTML page comparing the runs (final metrics, accuracy heatmaps and curves).";

/** `mnemo report <run-dir>... [--out report.html]`: 0 = written, 1 = unreadable run, 2 = usage error. */
export async function reportCommand(argv: string[], io: CommandIO = defaultIO): Promise<number> {
  let out = "report.html";
  const dirs: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--help" || a === "-h") {
      io.stdout(USAGE);
      return 0;
    }
    if (a === "--out" || a === "-o") {
      const v = argv[++i];
      if (!v) {
        io.stderr(`${a} needs a file name\n${USAGE}`);
        return 2;
      }
      out = v;
    } else if (a.startsWith("--out=")) out = a.slice("--out=".length);
    else if (a.startsWith("-")) {
      io.stderr(`unknown option ${a}\n${USAGE}`);
      return 2;
    } else dirs.push(a);
  }
  if (dirs.length === 0) {
    io.stderr(USAGE);
    return 2;
  }
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
