import { MnemoError } from "@mnemo/core";
import { syncRun } from "@mnemo/experiment";

export interface CommandIO {
  stdout: (line: string) => void;
  stderr: (line: string) => void;
}

const defaultIO: CommandIO = {
  stdout: (l) => process.stdout.write(l + "\n"),
  stderr: (l) => process.stderr.write(l + "\n"),
};

const USAGE =
  "usage: mnemo sync <run-dir> [--uri <tracking-uri>]\n" +
  "  Delivers what the run directory's tracking journal holds and its destination (MLflow server or local file store) has not acknowledged.\n" +
  "  A run whose process died is closed: FAILED with a mnemo.failure tag (mnemo run --resume continues it), or FINISHED if it had finished training.";

/** `mnemo sync <run-dir>`: 0 = everything sent, 1 = some left or refused, 2 = usage error. */
export async function syncCommand(argv: string[], io: CommandIO = defaultIO): Promise<number> {
  let uri: string | undefined;
  const dirs: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--help" || a === "-h") {
      io.stdout(USAGE);
      return 0;
    }
    if (a === "--uri") {
      uri = argv[++i];
      if (!uri) {
        io.stderr(`--uri needs a value\n${USAGE}`);
        return 2;
      }
    } else if (a.startsWith("--uri=")) uri = a.slice("--uri=".length);
    else if (a.startsWith("-")) {
      io.stderr(`unknown option ${a}\n${USAGE}`);
      return 2;
    } else dirs.push(a);
  }
  if (dirs.length !== 1) {
    io.stderr(USAGE);
    return 2;
  }
  try {
    const result = await syncRun(dirs[0] as string, { uri });
    if (result.completed) io.stdout(`the run had finished but was killed during its final writes: its artifacts and FINISHED status were journaled from ${dirs[0]}.`);
    if (result.markedFailed) io.stdout(`the run's process had ended without closing it: marked FAILED (continue it with mnemo run --resume ${dirs[0]}).`);
    io.stdout(`sent ${result.sent} pending operation(s)${result.destination ? ` to ${result.destination}` : ""}; ${result.remaining} remaining; ${result.rejected.length} rejected.`);
    for (const r of result.rejected) io.stderr(`rejected ${r.op.type} for run ${r.op.runId}: ${r.error.message}`);
    if (result.remaining > 0) io.stderr(`The MLflow server is still unavailable; run \`mnemo sync ${dirs[0]}\` again later.`);
    return result.remaining === 0 && result.rejected.length === 0 ? 0 : 1;
  } catch (error) {
    if (error instanceof MnemoError) {
      io.stderr(error.message);
      return 1;
    }
    throw error;
  }
}
