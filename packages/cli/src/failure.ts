import { MnemoError } from "@mnemo/core";

/** Prints a failure and returns the exit code: expected failures are one actionable line, no stack. */
export function reportFailure(err: unknown): number {
  if (err instanceof MnemoError) {
    process.stderr.write(`mnemo: ${err.message}\n`);
    return err.code === "CONFIG" ? 2 : 1;
  }
  process.stderr.write(`mnemo: unexpected error: ${(err as Error).stack ?? String(err)}\n`);
  return 1;
}
