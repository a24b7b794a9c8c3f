/** `mnemo sweep --status --queue ...`: the queue's counts, per sweep and per worker. */
import type { Job, Queue } from "bullmq";
import type { TrialJobData } from "./types.js";

export interface WorkerStatus {
  worker: string;
  /** Connected to Redis now (BullMQ's worker list). */
  connected: boolean;
  running: string[];
  completed: number;
  failed: number;
}

export interface QueueStatus {
  counts: { waiting: number; active: number; delayed: number; completed: number; failed: number };
  sweeps: { name: string; dir: string; waiting: number; active: number; delayed: number; completed: number; failed: number }[];
  workers: WorkerStatus[];
}

type Bucket = "waiting" | "active" | "delayed" | "completed" | "failed";

export async function queueStatus(queue: Queue): Promise<QueueStatus> {
  const c = await queue.getJobCounts("wait", "prioritized", "active", "delayed", "completed", "failed");
  const counts = { waiting: (c.wait ?? 0) + (c.prioritized ?? 0), active: c.active ?? 0, delayed: c.delayed ?? 0, completed: c.completed ?? 0, failed: c.failed ?? 0 };
  const byState: [Bucket, Job[]][] = [
    ["waiting", await queue.getJobs(["wait", "prioritized"])],
    ["active", await queue.getJobs(["active"])],
    ["delayed", await queue.getJobs(["delayed"])],
    ["completed", await queue.getJobs(["completed"])],
    ["failed", await queue.getJobs(["failed"])],
  ];
  const sweeps = new Map<string, QueueStatus["sweeps"][number]>();
  const workers = new Map<string, WorkerStatus>();
  const worker = (name: string): WorkerStatus => {
    let w = workers.get(name);
    if (!w) workers.set(name, (w = { worker: name, connected: false, running: [], completed: 0, failed: 0 }));
    return w;
  };
  for (const info of await queue.getWorkers()) {
    const name = info.name ?? "";
    if (name) worker(name).connected = true;
  }
  for (const [bucket, jobs] of byState) {
    for (const job of jobs) {
      if (!job) continue;
      const data = job.data as TrialJobData;
      const key = data.sweep?.dir ?? "?";
      let s = sweeps.get(key);
      if (!s) sweeps.set(key, (s = { name: data.sweep?.name ?? "?", dir: key, waiting: 0, active: 0, delayed: 0, completed: 0, failed: 0 }));
      s[bucket]++;
      if (!job.processedBy) continue;
      if (bucket === "active") worker(job.processedBy).running.push(`${data.trial.id} (${data.trial.label})`);
      else if (bucket === "completed") worker(job.processedBy).completed++;
      else if (bucket === "failed") worker(job.processedBy).failed++;
    }
  }
  return { counts, sweeps: [...sweeps.values()], workers: [...workers.values()].sort((a, b) => a.worker.localeCompare(b.worker)) };
}

export function formatQueueStatus(s: QueueStatus, url: string): string {
  const { waiting, active, delayed, completed, failed } = s.counts;
  const lines = [`queue ${url}: ${waiting} waiting, ${active} running, ${delayed} retrying (back-off), ${completed} completed, ${failed} failed`];
  for (const sw of s.sweeps) lines.push(`  sweep ${sw.name} (${sw.dir}): ${sw.waiting} waiting, ${sw.active} running, ${sw.delayed} retrying, ${sw.completed} completed, ${sw.failed} failed`);
  if (s.workers.length === 0) lines.push("workers: none (start one: npx mnemo worker --queue " + url + ")");
  else {
    lines.push("workers:");
    for (const w of s.workers) {
      const run = w.running.length ? `running ${w.running.join(", ")}` : "idle";
      lines.push(`  ${w.worker}${w.connected ? "" : " (gone)"}: ${run}; ${w.completed} completed, ${w.failed} failed`);
    }
  }
  return lines.join("\n");
}
