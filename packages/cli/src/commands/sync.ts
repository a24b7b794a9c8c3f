import { MNEMO_COMMAND, MnemoError } from "@mnemo/core";
import { syncRun } from "@mnemo/experiment";
import { option } from "../args.js";
import { parseCommandLine, type CommandIO } from "../io.js";
import { syncSpec } from "../specs.js";

export type { CommandIO } from "../io.js";

const defaultIO: CommandIO = {
  stdout: (l) => process.stdout.write(l + "\n"),
  stderr: (l) => process.stderr.write(l + "\n"),
};

/** `mnemo sync <run-dir>`: 0 = everything sent, 1 = some left or refused, 2 = usage error. */
export async function syncCommand(argv: string[], io: CommandIO = defaultIO): Promise<number> {
  const parsed = parseCommandLine(syncSpec, argv, io);
  if (typeof parsed === "number") return parsed;
  const uri = option(parsed, "--uri");
  const dirs = parsed.positionals;
  try {
    const result = await syncRun(dirs[0] as string, { uri });
    if (result.completed) io.stdout(`the run had finished but was killed during its final writes: its artifacts and FINISHED status were journaled from ${dirs[0]}.`);
    if (result.markedFailed) io.stdout(`the run's process had ended without closing it: marked FAILED (continue it with ${MNEMO_COMMAND} run --resume ${dirs[0]}).`);
    io.stdout(`sent ${result.sent} pending operation(s)${result.destination ? ` to ${result.destination}` : ""}; ${result.remaining} remaining; ${result.rejected.length} rejected.`);
    for (const r of result.rejected) io.stderr(`rejected ${r.op.type} for run ${r.op.runId}: ${r.error.message}`);
    if (result.remaining > 0) io.stderr(`The MLflow server is still unavailable; run \`${MNEMO_COMMAND} sync ${dirs[0]}\` again later.`);
    return result.remaining === 0 && result.rejected.length === 0 ? 0 : 1;
  } catch (error) {
    if (error instanceof MnemoError) {
      io.stderr(error.message);
      return 1;
    }
    throw error;
  }
}
