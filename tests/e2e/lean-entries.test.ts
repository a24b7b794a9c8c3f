/**
 * Root entries that claim to be light really are: importing `@mnemo/core`, `@mnemo/replay` or
 * `@mnemo/prototypes` in a fresh Node process loads no TensorFlow.js (no `@tensorflow/*`
 * module), no Node builtin (so they load in a browser), and no YAML/zod config machinery or
 * kernels. Each entry is imported alone, through an ESM resolve hook that records every module
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

const forbidden: [string, RegExp][] = [
  ["TensorFlow.js", /\/node_modules\/@tensorflow\//],
  ["a Node builtin", /^node:/],
  ["the YAML / zod config loader", /\/node_modules\/(yaml|zod)\//],
  ["the wasm kernels or backend selection", /\/packages\/(kernels|runtime)\/|\/node_modules\/@mnemo\/(kernels|runtime)\//],
];

describe("lean root entries", () => {
  const entries = ["@mnemo/core", "@mnemo/replay", "@mnemo/prototypes"];
  const loads = Object.fromEntries(entries.map((e) => [e, loadsOf(e)]));

  for (const entry of entries) {
    it(`${entry} loads no tfjs, no Node builtin, no config loader`, async () => {
      const urls = await loads[entry]!;
      // The hook works: the entry's own sources were recorded.
      expect(urls.some((u) => u.includes(`/packages/${entry.slice("@mnemo/".length)}/src/`))).toBe(true);
      for (const [what, pattern] of forbidden) {
        expect(urls.filter((u) => pattern.test(u)), `${entry} loaded ${what}`).toEqual([]);
      }
    }, 60_000);
  }
});
