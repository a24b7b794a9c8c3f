#!/usr/bin/env node
// One queued trial in a child process of `mnemo worker` (src/trial-child.ts), on the TypeScript
// sources through tsx's loader, as packages/cli/bin/mnemo.mjs runs the CLI.
import { register } from "tsx/esm/api";

register();
await import("../src/trial-child.ts");
