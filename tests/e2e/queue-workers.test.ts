/**
 * Queue + workers against a real redis-server (started here on a free loopback port, in its own
 * temp dir): a 12-trial Split-MNIST sweep (tiny: 60 images per class, 10 steps per task) enqueued
 * with `mnemo sweep --queue`, run by two `mnemo worker` processes (lock 4 s, so a dead worker's
 * trial is picked up within seconds).
 *
 *   1. Worker A (with its trial's process) is SIGKILLed mid-trial, after the trial's first
 *      checkpoint: worker B picks the trial up once its lock expires and resumes it from that
 *      checkpoint (same run directory).
 *   2. Redis is SIGKILLed mid-sweep: the enqueuer and worker B fail with one clear line each (exit
 *      1, no stack trace) within a deadline; every result recorded before stays in the manifest.
 *   3. Redis restarted (empty: no persistence), the same commands complete the sweep.
 *
 * At the end every trial is recorded once, finished ("done") by exactly one worker, and has one run
 * directory (no trial started over); MLflow has one child run per trial under the parent; no
 * process is left running. Every wait has a deadline and fails with every process's output.
 * Skipped only where redis-server is not installed, and never in CI (CI=true fails instead).
 * MNEMO_QUEUE_TRACE=1 prints the phases with their times; MNEMO_TEST_SLOWDOWN=k stretches the deadlines.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { redisSkipReason, startTestRedis, type TestRedis } from "@mnemo/queue/testing";
import { groupRunning } from "./process-group.js";

const skip = redisSkipReason();
if (skip) console.warn(`queue-workers e2e skipped: ${skip}`);

const root = resolve(import.meta.dirname, "../..");
const bin = join(root, "packages/cli/bin/mnemo.mjs");
const work = mkdtempSync(join(tmpdir(), "mnemo-queue-"));
const sweepDir = join(work, "sweep");
const sweepFile = join(work, "sweep.yaml");
mkdirSync(work, { recursive: true });
writeFileSync(
  join(work, "base.yaml"),
  `name: queue-e2e
seed: 0
stream:
  kind: class-incremental
  dataset: { name: mnist }
  order: dataset
  increment: 2
  limit_per_class: { train: 60, test: 30 }
model: { backbone: mlp, hidden: [16] }
training:
  epochs: 1
  batch_size: 16
  lr: 0.001
  max_steps_per_task: 10
  optimizer: { name: adam }
checkpoint: { every_steps: 5 }
`,
);
writeFileSync(sweepFile, `name: queue-e2e\nbase: base.yaml\nseeds: [0, 1, 2]\ngrid:\n  training.lr: [0.001, 0.002, 0.003, 0.004]\ndir: ${sweepDir}\n`);

const t0 = Date.now();
const elapsed = (): string => `${((Date.now() - t0) / 1000).toFixed(1)} s`;
const trace = (line: string): void => {
  if (process.env.MNEMO_QUEUE_TRACE) console.log(`${elapsed()}: ${line}`);
};
/** Stretches every deadline on a loaded machine (the test takes about a minute on an idle 2-core box). */
const slow = Number(process.env.MNEMO_TEST_SLOWDOWN ?? 1);

interface Proc {
  name: string;
  child: ChildProcess;
  out: () => string;
  exited: Promise<number | null>;
}

const procs: Proc[] = [];
let redis: TestRedis | undefined;

/** A `mnemo` process in a process group of its own, so that it and its trial processes can be killed together. */
function mnemo(name: string, args: string[]): Proc {
  const child = spawn(process.execPath, [bin, ...args], {
    cwd: root,
    detached: true,
    env: { ...process.env, MLFLOW_TRACKING_URI: join(work, "mlruns"), MNEMO_DOWNLOAD: "0" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let text = "";
  child.stdout?.on("data", (d: Buffer) => (text += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (text += d.toString()));
  const exited = new Promise<number | null>((res) => child.on("exit", (code) => res(code)));
  const p = { name, child, out: () => text, exited };
  procs.push(p);
  trace(`started ${name} (pid ${child.pid}): mnemo ${args.join(" ")}`);
  return p;
}

const state = (p: Proc): string => (p.child.exitCode !== null ? `exit code ${p.child.exitCode}` : p.child.signalCode !== null ? `killed by ${p.child.signalCode}` : "still running");
/** Every process's output (the last 6000 characters each), for a failure message. */
function report(): string {
  return procs.map((p) => `--- ${p.name} (pid ${p.child.pid}, ${state(p)}) ---\n${p.out().slice(-6000)}`).join("\n") + `\n--- sweep directory: ${sweepDir} ---`;
}

/** Waits for `cond`; fails when `ms` pass, or at once when one of `alive` exits first (a refusal, a crash), with every output. */
async function until(what: string, cond: () => boolean, ms: number, alive: Proc[] = []): Promise<void> {
  trace(`waiting for ${what}`);
  const deadline = Date.now() + ms * slow;
  while (!cond()) {
    const dead = alive.find((p) => p.child.exitCode !== null || p.child.signalCode !== null);
    if (dead) throw new Error(`${dead.name} exited (${state(dead)}) at ${elapsed()} while waiting for ${what}\n${report()}`);
    if (Date.now() > deadline) throw new Error(`timed out after ${(ms * slow) / 1000} s waiting for ${what}\n${report()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The exit codes of `ps`, once all have exited; fails after `ms` with every output. */
async function exits(what: string, ps: Proc[], ms: number): Promise<(number | null)[]> {
  trace(`waiting for ${what}`);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, rej) => {
    timer = setTimeout(() => rej(new Error(`timed out after ${(ms * slow) / 1000} s waiting for ${what} (${ps.map((p) => `${p.name}: ${state(p)}`).join(", ")})\n${report()}`)), ms * slow);
  });
  try {
    return await Promise.race([Promise.all(ps.map((p) => p.exited)), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Whether any process of `p`'s group (the mnemo process, its trial processes) still runs. */
const groupAlive = (p: Proc): boolean => groupRunning(p.child.pid as number);
function killGroup(p: Proc): void {
  try {
    process.kill(-(p.child.pid as number), "SIGKILL");
  } catch {
    // gone already
  }
}

interface Entry {
  status: string;
  runDir?: string;
  result?: { acc_task_macro: number };
}
function manifest(): Record<string, Entry> {
  try {
    return (JSON.parse(readFileSync(join(sweepDir, "manifest.json"), "utf8")) as { trials: Record<string, Entry> }).trials;
  } catch {
    return {}; // not written yet
  }
}
const finished = (): string[] => Object.entries(manifest()).flatMap(([id, e]) => (e.status === "finished" && e.result ? [id] : []));
const lines = (text: string, re: RegExp): string[] => text.split("\n").filter((l) => re.test(l));

const WORKER = ["--until-empty", "--lock-seconds", "4", "--redis-timeout", "3", "--threads", "1"];
const worker = (name: string, url: string) => mnemo(name, ["worker", "--queue", url, ...WORKER]);
const enqueue = (name: string, url: string) => mnemo(name, ["sweep", sweepFile, "--queue", url, "--redis-timeout", "3", "--retry-delay", "1", "--quiet"]);
const enqueued = /\d+ enqueued, \d+ enqueued again/;

let passed = false;
const cleanup = (): void => {
  for (const p of procs) killGroup(p);
  void redis?.kill();
};
process.once("exit", cleanup);
afterAll(async () => {
  cleanup();
  await redis?.kill();
  if (passed) rmSync(work, { recursive: true, force: true });
  else console.error(`queue-workers e2e: kept ${work} for a look`);
});

describe.skipIf(skip !== undefined)("mnemo sweep --queue + mnemo worker on a real redis-server", () => {
  it("two workers split 12 trials; a SIGKILLed worker's trial resumes on the other; Redis killed and restarted, the rerun completes", async () => {
    redis = await startTestRedis({ dir: work });
    const url = redis.url;
    const e1 = enqueue("enqueuer 1", url);
    await until("the 12 trials to be enqueued", () => /12 enqueued/.test(e1.out()), 60_000, [e1]);
    const a = worker("worker A", url);
    const b = worker("worker B", url);

    // 1. SIGKILL worker A and its trial's process inside a trial that has a checkpoint on disk.
    let killedTrial = "";
    await until(
      "worker A to checkpoint a trial",
      () => {
        const id = /trial (\w+) start/.exec(lines(a.out(), /^trial \w+ start/).at(-1) ?? "")?.[1];
        const e = id ? manifest()[id] : undefined;
        if (id && e?.status === "running" && e.runDir && existsSync(join(e.runDir, "checkpoint"))) killedTrial = id;
        return killedTrial !== "";
      },
      60_000,
      [a, b, e1],
    );
    killGroup(a);
    expect(await exits("worker A to die", [a], 10_000)).toEqual([null]);
    trace(`killed worker A in trial ${killedTrial}`);
    await until(`worker B to finish the killed worker's trial ${killedTrial}`, () => finished().includes(killedTrial), 60_000, [b, e1]);
    expect(lines(b.out(), new RegExp(`^trial ${killedTrial} start .* attempt 2`)), report()).toHaveLength(1);

    // 2. Redis goes away mid-sweep: a clear message and exit 1 from both, within the deadline.
    const before = finished();
    expect(before.length, `trials left for the Redis phase\n${report()}`).toBeLessThan(12);
    await redis.kill();
    const lostAt = Date.now();
    trace(`killed Redis with ${before.length}/12 recorded`);
    const codes = await exits("the enqueuer and worker B to give up on the lost Redis", [e1, b], 20_000);
    const gaveUpS = (Date.now() - lostAt) / 1000;
    trace(`both gave up ${gaveUpS.toFixed(1)} s after Redis went away`);
    expect(gaveUpS, "--redis-timeout 3 + at most 5 s for the running trial to checkpoint").toBeLessThan(15 * slow);
    expect(codes, report()).toEqual([1, 1]);
    for (const p of [e1, b]) {
      expect(p.out()).toMatch(/mnemo: Redis at redis:\/\/127\.0\.0\.1:\d+ stopped answering \(.+, for \d+\.\d s\)/);
      expect(p.out()).toMatch(/Nothing recorded is lost/);
      expect(p.out(), "no stack trace").not.toMatch(/^\s+at /m);
    }
    expect(e1.out()).toMatch(new RegExp(`rerun: npx mnemo sweep ${sweepFile} --queue ${url}`));
    expect(b.out()).toMatch(new RegExp(`start the worker again: npx mnemo worker --queue ${url}`));
    const after = finished();
    for (const id of before) expect(after, "nothing recorded is lost").toContain(id);

    // 3. Redis back (empty), the same commands complete the sweep (workers once the trials are queued:
    //    a worker --until-empty that finds nothing queued exits at once).
    await redis.start();
    const e2 = enqueue("enqueuer 2", url);
    await until("the unrecorded trials to be enqueued again", () => enqueued.test(e2.out()), 60_000, [e2]);
    expect(e2.out()).toMatch(new RegExp(`${12 - after.length} enqueued, 0 enqueued again, 0 queued already, ${after.length} recorded before`));
    const c = worker("worker C", url);
    const d = worker("worker D", url);
    const [e2Code, cCode, dCode] = await exits("the rerun to complete the sweep", [e2, c, d], 180_000);
    expect(e2Code, report()).toBe(0);
    expect([cCode, dCode], report()).toEqual([0, 0]);

    const all = manifest();
    expect(Object.keys(all)).toHaveLength(12);
    expect(finished()).toHaveLength(12);
    const logs = [a, b, c, d].map((p) => p.out()).join("\n");
    for (const id of Object.keys(all)) {
      expect(lines(logs, new RegExp(`^trial ${id} done`)), `trial ${id} finished once\n${report()}`).toHaveLength(1);
      // Started once, unless its worker was killed or Redis went away while it ran.
      if (id !== killedTrial && before.includes(id)) expect(lines(logs, new RegExp(`^trial ${id} start`)), `trial ${id} started once`).toHaveLength(1);
      const runs = join(sweepDir, "trials", id, "runs", "queue-e2e");
      expect(readdirSync(runs), `trial ${id}: one run directory (resumed, never started over)`).toHaveLength(1);
      expect(all[id]?.runDir).toBe(join(runs, readdirSync(runs)[0] as string));
    }
    expect(JSON.parse(readFileSync(join(sweepDir, "summary.json"), "utf8"))).toBeTruthy();

    // MLflow: one child run per trial, all under the sweep's one parent run, tagged with the worker host.
    const mlruns = join(work, "mlruns");
    const runDirs = readdirSync(mlruns)
      .filter((x) => /^\d+$/.test(x))
      .flatMap((exp) => readdirSync(join(mlruns, exp)).map((r) => join(mlruns, exp, r)))
      .filter((r) => existsSync(join(r, "tags")));
    const tag = (r: string, k: string): string | undefined => (existsSync(join(r, "tags", k)) ? readFileSync(join(r, "tags", k), "utf8") : undefined);
    const children = runDirs.filter((r) => tag(r, "mlflow.parentRunId") !== undefined);
    expect(children).toHaveLength(12);
    const parents = new Set(children.map((r) => tag(r, "mlflow.parentRunId")));
    expect(parents.size).toBe(1);
    expect(runDirs.some((r) => r.endsWith(`/${[...parents][0]}`))).toBe(true);
    expect(new Set(children.map((r) => tag(r, "mnemo.sweep.trial")))).toEqual(new Set(Object.keys(all)));
    expect(children.every((r) => (tag(r, "mnemo.sweep.workerHost") ?? "").length > 0)).toBe(true);

    // Nothing left running: every mnemo process and its trial processes are gone.
    await until("every worker's trial processes to exit", () => !procs.some(groupAlive), 10_000);
    trace("done");
    passed = true;
  }, 330_000 * slow);
});
