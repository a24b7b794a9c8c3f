/**
 * Whether one backend starts here: prints {"ok":true,"d":description} or {"ok":false,"r":reason}.
 *   node --import tsx tools/bench/probe-backend.ts webgpu|node-gpu|node|wasm|cpu
 * A file rather than `node -e`: wasm's worker threads inherit the parent's flags, and `--input-type`
 * makes them fail to start.
 */
import { parseBackendChoice, releaseBackend, selectBackend } from "@mnemo/runtime";

const name = process.argv[2] ?? "auto";
try {
  const info = await selectBackend({ backend: parseBackendChoice(name, "probe-backend"), env: {} });
  console.log(JSON.stringify({ ok: true, d: info.description }));
  await releaseBackend();
} catch (err) {
  console.log(JSON.stringify({ ok: false, r: (err as Error).message }));
}
process.exit(0); // wasm worker threads would keep the process alive
