#!/usr/bin/env node
// The installed CLI runs its built JavaScript (dist/) in this same process, so signals (Ctrl-C,
// kill) reach the run directly. In the repository, `npm run build` (or any nx target that runs
// the CLI) builds it first; `npm run mnemo` runs the TypeScript sources instead.
import { existsSync } from "node:fs";

const main = new URL("../dist/main.js", import.meta.url);
if (!existsSync(main)) {
  process.stderr.write(`mnemo: ${main.pathname} is missing: this checkout of @mnemo/cli is not built. Run \`npm run build\` at the repository root (or \`npm run mnemo -- ...\` to run the sources).\n`);
  process.exit(2);
}
const { main: run } = await import(main.href);
const { reportFailure } = await import(new URL("../dist/failure.js", import.meta.url).href);
run(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.exitCode = reportFailure(err);
  },
);
