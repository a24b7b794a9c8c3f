#!/usr/bin/env node
// Runs the TypeScript sources in this same process through tsx's loader (a dependency of
// @mnemo/cli): no build step, and signals (Ctrl-C, kill) reach the run directly.
import { register } from "tsx/esm/api";

register();
const { main } = await import("../src/main.ts");
const { reportFailure } = await import("../src/failure.ts");
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.exitCode = reportFailure(err);
  },
);
