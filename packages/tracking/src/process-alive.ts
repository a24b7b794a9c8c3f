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
  const state = procState(pid);
  return state !== "Z" && state !== "X" && state !== "x";
}

/** The state letter of /proc/<pid>/stat, or undefined without procfs. */
function procState(pid: number): string | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // "pid (comm) S ...": comm may hold spaces and parentheses, so read after the last ")".
  return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) || undefined;
}
