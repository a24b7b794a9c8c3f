import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { MnemoError } from "@mnemo/core";
import { PLAN_FILE, sweepSummaryHtml, writeSweepSummary } from "@mnemo/sweep";
import { writeReport } from "@mnemo/tracking";
import { option } from "../args.js";
import { parseCommandLine, type CommandIO } from "../io.js";
import { reportSpec } from "../specs.js";

const defaultIO: CommandIO = {
  stdout: (l) => process.stdout.write(l + "\n"),
  stderr: (l) => process.stderr.write(l + "\n"),
};

/**
 * `mnemo report <run-dir>... [--out report.html]`: 0 = written, 1 = unreadable run, 2 = usage error.
 * One sweep directory of `mnemo sweep` (it has plan.json) gets the sweep's page: the summary table
 * (mean ± std per point, ranked on validation) and the metrics against each numeric axis.
 */
export async function reportCommand(argv: string[], io: CommandIO = defaultIO): Promise<number> {
  const parsed = parseCommandLine(reportSpec, argv, io);
  if (typeof parsed === "number") return parsed;
  const out = option(parsed, "--out") ?? "report.html";
  const dirs = parsed.positionals;
  try {
    const sweepDir = dirs.length === 1 && existsSync(join(dirs[0] as string, PLAN_FILE)) ? (dirs[0] as string) : undefined;
    if (sweepDir) {
      const summary = writeSweepSummary(sweepDir);
      writeFileSync(out, sweepSummaryHtml(summary));
      io.stdout(`wrote ${out} (sweep ${summary.name}: ${summary.counts.finished}/${summary.counts.planned} trials, ${summary.points.length} points)`);
      return 0;
    }
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
