/**
 * A lock left by a killed process must read as stale even when the process is a zombie: in a
 * container whose init never reaps orphans (this CI's microVM is one), a SIGKILLed sweep worker
 * stays a zombie and `kill(pid, 0)` keeps succeeding, which once made `mnemo sweep`'s rerun refuse
 * the killed trial's run ("in use by mnemo run").
 */
import { spawn } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { JOURNAL_LOCK, JournalLock } from "../src/journal.js";
import { processAlive, procStat } from "../src/process-alive.js";
import { tempDir } from "./helpers.js";

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => {
  tmp = tempDir("mnemo-alive-");
});
afterEach(() => tmp.cleanup());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A zombie whose parent never waits: `sh` starts `sleep` in the background and execs into another
 * `sleep`, which never reaps it. The child is killed only once the exec happened (a shell still
 * running could reap it). Resolves with the zombie's pid and a way to end both.
 */
async function zombie(): Promise<{ pid: number; end: () => void }> {
  const parent = spawn("sh", ["-c", "sleep 60 & exec sleep 61"], { stdio: "ignore" });
  const ppid = parent.pid as number;
  const execed = (): boolean => {
    try {
      return readFileSync(`/proc/${ppid}/cmdline`, "utf8") === "sleep\u000061\u0000";
    } catch {
      return false;
    }
  };
  const childOf = (): number | undefined => {
    const p = readdirSync("/proc").find((p) => /^\d+$/.test(p) && procStat(Number(p))?.ppid === ppid);
    return p === undefined ? undefined : Number(p);
  };
  let pid: number | undefined;
  for (let i = 0; i < 1000 && !(execed() && (pid = childOf()) !== undefined); i++) await sleep(10);
  if (pid === undefined) throw new Error("the background sleep never started");
  expect(processAlive(pid)).toBe(true);
  process.kill(pid, "SIGKILL");
  for (let i = 0; i < 500 && procStat(pid)?.state !== "Z"; i++) await sleep(10);
  expect(procStat(pid)?.state, "the killed sleep stays a zombie").toBe("Z");
  return { pid, end: () => parent.kill("SIGKILL") };
}

describe.skipIf(process.platform !== "linux")("processAlive", () => {
  it("is true for this process and false for a pid that does not exist", () => {
    expect(processAlive(process.pid)).toBe(true);
    expect(processAlive(0)).toBe(false);
    expect(processAlive(2 ** 22 + 1)).toBe(false); // above Linux's pid_max limit
  });

  it("calls a killed, unreaped process dead although kill(pid, 0) still finds it", async () => {
    const z = await zombie();
    try {
      expect(procStat(z.pid)?.state).toBe("Z");
      expect(() => process.kill(z.pid, 0)).not.toThrow(); // what the old check went by
      expect(processAlive(z.pid)).toBe(false);
    } finally {
      z.end();
    }
  });

  it("lets a journal lock left by a zombie be broken as stale", async () => {
    const z = await zombie();
    try {
      const runDir = join(tmp.dir, "run");
      mkdirSync(runDir);
      writeFileSync(join(runDir, JOURNAL_LOCK), JSON.stringify({ pid: z.pid, host: hostname(), since: new Date().toISOString(), what: "mnemo run" }));
      const lock = new JournalLock(runDir);
      expect(lock.inspect().state).toBe("stale");
      expect(lock.acquire("mnemo run").brokeStale).toBe(true);
      lock.release();
    } finally {
      z.end();
    }
  });
});
