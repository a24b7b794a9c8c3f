/**
 * Queue + workers against a real redis-server (started here on a free loopback port): a 12-trial
 * Split-MNIST sweep (tiny: 10 steps per task) enqueued with `mnemo sweep --queue`, run by two
 * `mnemo worker` processes.
 *
 *   1. One worker is SIGKILLed mid-trial (after the trial's first checkpoint): the other picks the
 *      trial up once its lock expires and resumes it from that checkpoint (same run directory).
 *   2. Redis is SIGKILLed mid-sweep: the enqueuer and the worker fail with one clear line each
 *      (exit 1, no stack trace, no hang); every result recorded before stays in the manifest.
 *   3. Redis restarted (empty: no persistence), the same commands complete the sweep.
 *
 * At the end every trial is recorded once, finished by exactly one worker ("done" once), and has
 * one run directory (no trial started over); MLflow has one child run per trial under the parent.
 * Skipped only where redis-server is not installed, and never in CI (CI=true fails instead).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { redisSkipReason, startTestRedis, type TestRedis } from "@mnemo/queue/testing";

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

interface Proc {
  child: ChildProcess;
  out: () => string;
  exited: Promise<number | null>;
}

const procs: Proc[] = [];
function mnemo(args: string[]): Proc {
  const child = spawn(process.execPath, [bin, ...args], { cwd: root, env: { ...process.env, MLFLOW_TRACKING_URI: join(work, "mlruns"), MNEMO_DOWNLOAD: "0" }, stdio: ["ignore", "pipe", "pipe"] });
  let text = "";
  child.stdout?.on("data", (d: Buffer) => (text += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (text += d.toString()));
  const exited = new Promise<number | null>((res) => child.on("exit", (code) => res(code)));
  const p = { child, out: () => text, exited };
  procs.push(p);
  return p;
}

const WORKER = ["--until-empty", "--lock-seconds", "6", "--redis-timeout", "3", "--threads", "1", "--quiet"];
const worker = (url: string) => mnemo(["worker", "--queue", url, ...WORKER]);
const enqueue = (url: string) => mnemo(["sweep", sweepFile, "--queue", url, "--redis-timeout", "3", "--retry-delay", "1", "--quiet"]);

interface Entry {
  status: string;
  runDir?: string;
  result?: { acc_task_macro: number };
}
function manifest(): Record<string, Entry> {
  try {
    return (JSON.parse(readFileSync(join(sweepDir, "manifest.json"), "utf8")) as { trials: Record<string, Entry> }).trials;
  } catch {
    return {}; // not written yet, or between two atomic writes
  }
}
const finished = (): string[] => Object.entries(manifest()).flatMap(([id, e]) => (e.status === "finished" && e.result ? [id] : []));

const t0 = Date.now();
/** Scales the waits on a loaded machine (the test itself takes ~1 min on an idle 2-core box). */
const slow = Number(process.env.MNEMO_TEST_SLOWDOWN ?? 1);
/** Waits for `cond`; fails at once when one of `alive` exits first (a refusal, a crash), with every output. */
async function until(what: string, cond: () => boolean, ms: number, alive: Proc[] = []): Promise<void> {
  if (process.env.MNEMO_QUEUE_TRACE) console.log(`${((Date.now() - t0) / 1000).toFixed(1)} s: waiting for ${what}`);
  const deadline = Date.now() + ms * slow;
  while (!cond()) {
    const dead = alive.find((p) => p.child.exitCode !== null || p.child.signalCode !== null);
    if (dead) throw new Error(`a process exited (code ${dead.child.exitCode}) while waiting for ${what}\n${procs.map((p) => p.out()).join("\n---\n")}`);
    if (Date.now() > deadline) throw new Error(`timed out after ${ms / 1000} s waiting for ${what}\n${procs.map((p) => p.out()).join("\n---\n")}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const lines = (text: string, re: RegExp): string[] => text.split("\n").filter((l) => re.test(l));

let redis: TestRedis | undefined;
afterAll(async () => {
  for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill("SIGKILL");
  await redis?.kill();
});

describe.skipIf(skip !== undefined)("mnemo sweep --queue + mnemo worker on a real redis-server", () => {
  it("two workers split 12 trials; a SIGKILLed worker's trial resumes on the other; Redis killed and restarted, the rerun completes", async () => {
    redis = await startTestRedis();
    const url = redis.url;
    const e1 = enqueue(url);
    await until("the trials to be enqueued", () => /12 enqueued/.test(e1.out()), 150_000);
    const a = worker(url);
    const b = worker(url);

    // 1. SIGKILL worker A inside a trial that has a checkpoint on disk.
    let killedTrial = "";
    await until(
      "worker A to checkpoint a trial",
      () => {
        const id = /trial (\w+) start/.exec(lines(a.out(), /^trial \w+ start/).at(-1) ?? "")?.[1];
        const e = id ? manifest()[id] : undefined;
        if (id && e?.status === "running" && e.runDir && existsSync(join(e.runDir, "checkpoint"))) killedTrial = id;
        return killedTrial !== "";
      },
      150_000,
      [a, b, e1],
    );
    a.child.kill("SIGKILL");
    expect(await a.exited).toBe(null);
    await until("the killed worker's trial to be finished by worker B", () => finished().includes(killedTrial), 150_000, [b, e1]);
    expect(lines(b.out(), new RegExp(`trial ${killedTrial} start .* attempt 2`))).toHaveLength(1);

    // 2. Redis goes away mid-sweep: a clear message and exit 1 from both, not a hang.
    const before = finished();
    expect(before.length).toBeLessThan(12);
    await redis.kill();
    const [e1Code, bCode] = await Promise.all([e1.exited, b.exited]);
    for (const [p, code] of [
      [e1, e1Code],
      [b, bCode],
    ] as const) {
      expect(code, p.out()).toBe(1);
      expect(p.out()).toMatch(/mnemo: Redis at redis:\/\/127\.0\.0\.1:\d+ stopped answering \(.+, for \d+\.\d s\)/);
      expect(p.out()).toMatch(/Nothing recorded is lost/);
      expect(p.out()).not.toMatch(/^\s+at /m); // no stack trace
    }
    expect(e1.out()).toMatch(new RegExp(`rerun: npx mnemo sweep ${sweepFile} --queue ${url}`));
    const after = finished();
    for (const id of before) expect(after).toContain(id); // nothing recorded is lost

    // 3. Redis back (empty), the same commands complete the sweep.
    await redis.start();
    const e2 = enqueue(url);
    const c = worker(url);
    const d = worker(url);
    const [e2Code, cCode, dCode] = await Promise.all([e2.exited, c.exited, d.exited]);
    expect(e2Code, e2.out()).toBe(0);
    expect([cCode, dCode]).toEqual([0, 0]);
    expect(e2.out()).toMatch(new RegExp(`${12 - after.length} enqueued, 0 enqueued again, 0 queued already, ${after.length} recorded before`));

    const all = manifest();
    expect(Object.keys(all)).toHaveLength(12);
    expect(finished()).toHaveLength(12);
    const logs = [a, b, c, d].map((p) => p.out()).join("\n");
    for (const id of Object.keys(all)) {
      expect(lines(logs, new RegExp(`^trial ${id} done`)), `trial ${id} finished once`).toHaveLength(1);
      const runs = join(sweepDir, "trials", id, "runs", "queue-e2e");
      expect(readdirSync(runs), `trial ${id}: one run directory (resumed, never started over)`).toHaveLength(1);
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
    expect(new Set(children.map((r) => tag(r, "mlflow.parentRunId"))).size).toBe(1);
    expect(new Set(children.map((r) => tag(r, "mnemo.sweep.trial")))).toEqual(new Set(Object.keys(all)));
    expect(children.every((r) => (tag(r, "mnemo.sweep.workerHost") ?? "").length > 0)).toBe(true);
  }, 400_000 * slow);
});
