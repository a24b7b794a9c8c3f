#!/usr/bin/env node
// One trial in a child process of `mnemo sweep --workers N` (src/child.ts), on the TypeScript
// sources through tsx's loader, as packages/cli/bin/mnemo.mjs runs the CLI.
import { register } from "tsx/esm/api";

register();
await import("../src/child.ts");
