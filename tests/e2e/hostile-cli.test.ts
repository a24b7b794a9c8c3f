/**
 * Hostile input through the real CLI: `mnemo run` exits 2 with one line on stderr (no stack
 * trace) and writes nothing, for a name that would escape output.dir and a replay buffer larger
 * than any machine. (Each case's message is tested in packages/experiment/test/hostile-config.test.ts.)
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const root = resolve(import.meta.dirname, "../..");
const bin = join(root, "packages/cli/bin/mnemo.mjs");

function mnemo(work: string, sets: string[]) {
  return spawnSync(process.execPath, [bin, "run", join(root, "configs/cil-mnist-er.yaml"), "--quiet", "--set", `output.dir=${join(work, "runs")}`, ...sets.flatMap((s) => ["--set", s])], {
    cwd: work,
    env: { ...process.env, MLFLOW_TRACKING_URI: join(work, "mlruns") },
    encoding: "utf8",
    timeout: 120_000,
  });
}

describe("mnemo run on hostile input: exit 2, one line, nothing written", () => {
  it("--set name=../../../escaped", () => {
    const work = mkdtempSync(join(tmpdir(), "mnemo-hostile-cli-"));
    const r = mnemo(work, ["name=../../../escaped"]);
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/^mnemo: --set name: "\.\.\/\.\.\/\.\.\/escaped" cannot name a folder/);
    expect(readdirSync(work)).toEqual([]);
    expect(existsSync(resolve(work, "runs", "../../../escaped"))).toBe(false);
  });

  it("method.memory_size=1e13 (7.8 PB of images): refused before a run directory exists", () => {
    const work = mkdtempSync(join(tmpdir(), "mnemo-hostile-cli-"));
    const r = mnemo(work, ["method.memory_size=1e13"]);
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/^mnemo: --set method\.memory_size: 10000000000000 samples × 784 B = .* exceeds half of this machine's memory/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(join(work, "runs"))).toBe(false);
  });
});
