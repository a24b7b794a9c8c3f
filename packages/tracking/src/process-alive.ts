import { readFileSync } from "node:fs";

/**
 * Whether a process on this host is still running, for deciding if a lock it left is stale.
 *
 * `kill(pid, 0)` alone is not enough: a killed process whose parent died too stays a zombie until
 * PID 1 reaps it, and the init of many containers (and microVMs) never does, so its pid answers
 * `kill` forever. On Linux the state letter in /proc/<pid>/stat tells a zombie (Z) or a dying
 * task (X) from a live one; elsewhere `kill` is the best there is.
 */
export function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM: it exists and belongs to someone else.
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
  const stat = procStat(pid);
  return stat === undefined || !hasExited(stat.state);
}

/** Whether a /proc state letter is that of a process that exited but is still in the table (Z, X). */
export const hasExited = (state: string): boolean => state === "Z" || state === "X" || state === "x";

/** The fields of /proc/<pid>/stat that process checks read; undefined without procfs or once the pid is gone. */
export function procStat(pid: number): { state: string; ppid: number; pgrp: number } | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // "pid (comm) S ppid pgrp ...": comm may hold spaces and parentheses, so split after the last ")".
  const [state = "", ppid, pgrp] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return { state, ppid: Number(ppid), pgrp: Number(pgrp) };
}
