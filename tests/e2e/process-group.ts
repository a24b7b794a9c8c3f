/**
 * Whether a killed process group is gone, for the e2e tests that SIGKILL a command and its
 * children. A child orphaned by the kill stays a zombie until PID 1 reaps it (about 1.5 s on the
 * CI microVM, never in a container without an init), and `kill(-pgid, 0)` still finds it; on Linux
 * this reads /proc instead, with the lock check's own parser.
 */
import { readdirSync } from "node:fs";
import { hasExited, procStat } from "../../packages/tracking/src/process-alive.js";

/** Whether a process of group `pgid` still runs (one that exited and awaits reaping does not). */
export function groupRunning(pgid: number): boolean {
  if (process.platform !== "linux") {
    try {
      process.kill(-pgid, 0);
      return true;
    } catch {
      return false;
    }
  }
  return readdirSync("/proc").some((p) => {
    if (!/^\d+$/.test(p)) return false;
    const stat = procStat(Number(p));
    return stat !== undefined && stat.pgrp === pgid && !hasExited(stat.state);
  });
}
