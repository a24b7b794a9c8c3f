/**
 * Root entries that claim to be light really are: importing `@mnemo/core`, `@mnemo/replay` or
 * `@mnemo/prototypes` in a fresh Node process loads no TensorFlow.js (no `@tensorflow/*`
 * module), no Node builtin (so they load in a browser), and no YAML/zod config machinery,
 * kernels or backend selection; `@mnemo/core/tf` and `@mnemo/runtime` load tfjs but no Node
 * builtin. Each entry is imported alone, through an ESM resolve hook that records every module
 * the import resolves (fixtures/record-loads.mjs).
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "..", "..");
const hook = join(import.meta.dirname, "fixtures", "record-loads.mjs");
const work = mkdtempSync(join(tmpdir(), "mnemo-lean-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The module URLs resolved while importing `entry` (and nothing else) in a fresh process. */
async function loadsOf(entry: string): Promise<string[]> {
  const file = join(work, `${entry.replace(/\W/g, "_")}.txt`);
  const script = `const m = await import(${JSON.stringify(entry)}); if (Object.keys(m).length === 0) throw new Error("empty entry");`;
  const child = spawn(process.execPath, ["--conditions=@mnemo/source", "--import", "tsx", "--import", hook, "--input-type=module", "-e", script], {
    cwd: root,
    env: { ...process.env, MNEMO_RECORD_LOADS: file },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((done) => child.on("close", done));
  expect(code, stderr).toBe(0);
  return readFileSync(file, "utf8").trim().split("\n");
}

const TFJS: [string, RegExp] = ["tfjs (@tensorflow/*)", /\/node_modules\/@tensorflow\//];
const NODE_BUILTIN: [string, RegExp] = ["node: builtins", /^node:/];
const CONFIG_LOADER: [string, RegExp] = ["yaml/zod", /\/node_modules\/(yaml|zod)\//];
const KERNELS: [string, RegExp] = ["@mnemo/kernels", /\/packages\/kernels\/|\/node_modules\/@mnemo\/kernels\//];
const RUNTIME: [string, RegExp] = ["@mnemo/runtime", /\/packages\/runtime\/|\/node_modules\/@mnemo\/runtime\//];

/** Each entry and what importing it must not load. */
const entries: { entry: string; dir: string; forbidden: [string, RegExp][] }[] = [
  { entry: "@mnemo/core", dir: "core", forbidden: [TFJS, NODE_BUILTIN, CONFIG_LOADER, KERNELS, RUNTIME] },
  { entry: "@mnemo/replay", dir: "replay", forbidden: [TFJS, NODE_BUILTIN, CONFIG_LOADER, KERNELS, RUNTIME] },
  { entry: "@mnemo/prototypes", dir: "prototypes", forbidden: [TFJS, NODE_BUILTIN, CONFIG_LOADER, KERNELS, RUNTIME] },
  // These need tfjs, but must still load in a browser page: no Node builtin in their module graph
  // (the runtime reaches the Node-only backends and kernels by run-time checks, never by import).
  { entry: "@mnemo/core/tf", dir: "core", forbidden: [NODE_BUILTIN, CONFIG_LOADER, KERNELS, RUNTIME] },
  { entry: "@mnemo/runtime", dir: "runtime", forbidden: [NODE_BUILTIN, CONFIG_LOADER, KERNELS] },
];

describe("lean entries", () => {
  const loads = Object.fromEntries(entries.map(({ entry }) => [entry, loadsOf(entry)]));

  for (const { entry, dir, forbidden } of entries) {
    it(`${entry} loads no ${forbidden.map(([what]) => what).join(", no ")}`, async () => {
      const urls = [...new Set(await loads[entry]!)];
      // The hook works: the entry's own sources were recorded.
      expect(urls.some((u) => u.includes(`/packages/${dir}/src/`))).toBe(true);
      for (const [what, pattern] of forbidden) {
        expect(urls.filter((u) => pattern.test(u)), `${entry} loaded ${what}`).toEqual([]);
      }
    }, 60_000);
  }

  it("the recording sees what an entry loads: @mnemo/replay/plugins loads tfjs", async () => {
    const urls = await loadsOf("@mnemo/replay/plugins");
    expect(urls.some((u) => TFJS[1].test(u))).toBe(true);
  }, 60_000);
});
