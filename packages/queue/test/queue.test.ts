/**
 * The queue against a real redis-server (started here on a free loopback port), with a fake trial
 * runner: idempotent enqueue, two workers splitting the trials with none run twice, retries with
 * back-off, refusal of other code, a lost Redis reported, not waited on forever.
 */
import { Queue } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  connectionOptions,
  enqueueTrials,
  followTrials,
  parseQueueUrl,
  QUEUE_NAME,
  queueStatus,
  formatQueueStatus,
  startQueueWorker,
  versionMismatch,
  watchRedis,
  type CodeVersion,
  type TrialJobData,
  type TrialResult,
  type TrialStore,
} from "../src/index.js";
import { redisSkipReason, startTestRedis, type TestRedis } from "../src/testing/redis-server.js";

const skip = redisSkipReason();
if (skip) console.warn(`@mnemo/queue tests skipped: ${skip}`);

const code: CodeVersion = { commit: "a".repeat(40), dirty: false, schema: "s1", mnemo: "0.1.0" };

function memoryStore(): TrialStore & { records: Map<string, TrialResult>; writes: number } {
  const records = new Map<string, TrialResult>();
  const store = {
    records,
    writes: 0,
    get: (id: string) => records.get(id),
    record: (id: string, r: TrialResult) => {
      if (records.has(id)) return false;
      records.set(id, r);
      store.writes++;
      return true;
    },
  };
  return store;
}

const job = (sweepDir: string, id: string, c: CodeVersion = code): TrialJobData => ({
  format: 1,
  sweep: { name: "test", dir: sweepDir },
  trial: { id, label: `trial ${id}`, spec: { x: id } },
  code: c,
  enqueuedAt: new Date().toISOString(),
  enqueuedBy: "test",
});

describe.skipIf(skip !== undefined)("@mnemo/queue on a real redis-server", () => {
  let redis: TestRedis;
  let queue: Queue;
  beforeAll(async () => {
    redis = await startTestRedis();
    queue = new Queue(QUEUE_NAME, { connection: connectionOptions(parseQueueUrl(redis.url)) });
  });
  afterAll(async () => {
    await queue?.close();
    await redis?.kill();
  });

  it("two workers split the trials, none run twice, each recorded once; enqueueing again adds nothing", async () => {
    await queue.obliterate({ force: true });
    const store = memoryStore();
    const ids = ["a1", "b2", "c3", "d4", "e5", "f6"];
    const jobs = ids.map((id) => job("/sweeps/split", id));
    const first = await enqueueTrials(queue, jobs, store);
    expect(first.added).toEqual(ids);
    expect((await enqueueTrials(queue, jobs, store)).queued).toEqual(ids); // same ids: nothing new
    const runs: string[] = [];
    const address = parseQueueUrl(redis.url);
    const workers = ["w1", "w2"].map((name) =>
      startQueueWorker({
        address,
        code,
        untilEmpty: true,
        lockMs: 2000,
        identity: { name, host: "test" },
        openStore: () => store,
        log: () => {},
        runner: async (data, ctx) => {
          runs.push(`${data.trial.id}@${ctx.worker.name}`);
          await new Promise((r) => setTimeout(r, 100));
          return { value: data.trial.id };
        },
      }),
    );
    const followed = await followTrials(queue, ids, store, { pollMs: 100 });
    const exits = await Promise.all(workers.map((w) => w.done));
    expect(followed.recorded.sort()).toEqual([...ids].sort());
    expect(runs.map((r) => r.split("@")[0]).sort()).toEqual([...ids].sort());
    expect(new Set(runs.map((r) => r.split("@")[1])).size).toBe(2); // both took some
    expect(exits.map((e) => e.reason)).toEqual(["empty", "empty"]);
    expect(store.writes).toBe(6);
    expect(store.get("c3")).toEqual({ value: "c3" });
    const again = await enqueueTrials(queue, jobs, store);
    expect(again.recorded).toEqual(ids);
    expect(again.added).toEqual([]);
    const status = await queueStatus(queue);
    expect(status.counts.waiting + status.counts.active).toBe(0);
    expect(formatQueueStatus(status, redis.url)).toMatch(/^queue redis:\/\/127\.0\.0\.1:\d+: 0 waiting, 0 running/);
  });

  it("retries a failed trial with back-off and records it once; a failure on every try is reported", async () => {
    await queue.obliterate({ force: true });
    const store = memoryStore();
    const tries = new Map<string, number>();
    await enqueueTrials(queue, [job("/sweeps/retry", "flaky"), job("/sweeps/retry", "broken")], store, { retries: 2, backoffMs: 100 });
    const lines: string[] = [];
    const w = startQueueWorker({
      address: parseQueueUrl(redis.url),
      code,
      untilEmpty: true,
      lockMs: 2000,
      openStore: () => store,
      log: (l) => lines.push(l),
      runner: async (data) => {
        const n = (tries.get(data.trial.id) ?? 0) + 1;
        tries.set(data.trial.id, n);
        if (data.trial.id === "broken" || n === 1) throw new Error(`boom ${n}`);
        return { ok: true };
      },
    });
    const followed = await followTrials(queue, ["flaky", "broken"], store, { pollMs: 100 });
    await w.done;
    expect(tries.get("flaky")).toBe(2);
    expect(tries.get("broken")).toBe(3); // 1 + 2 retries
    expect(followed.recorded).toEqual(["flaky"]);
    expect(followed.failed).toEqual([{ id: "broken", reason: "boom 3" }]);
    expect(lines.some((l) => /trial broken failed: boom 1 \(2 retries left, with back-off\)/.test(l))).toBe(true);
    // Enqueueing again gives the failed trial a fresh set of tries.
    const again = await enqueueTrials(queue, [job("/sweeps/retry", "flaky"), job("/sweeps/retry", "broken")], store, { retries: 0, backoffMs: 100 });
    expect(again).toMatchObject({ recorded: ["flaky"], requeued: ["broken"] });
  });

  const refusals: [string, CodeVersion, string][] = [
    ["another commit", { ...code, commit: "b".repeat(40) }, "it was enqueued from git commit bbbbbbbbbbbb, this worker runs aaaaaaaaaaaa"],
    ["another config schema", { ...code, schema: "s2" }, "it was enqueued with config schema s2, this worker has s1 (the same commit with other registered methods or plugins?)"],
  ];
  it.each(refusals)("a worker refuses a trial from %s, leaves it queued and says why", async (_, other, why) => {
    await queue.obliterate({ force: true });
    const store = memoryStore();
    await enqueueTrials(queue, [job("/sweeps/version", "old", other)], store);
    let ran = 0;
    const w = startQueueWorker({
      address: parseQueueUrl(redis.url),
      code,
      lockMs: 2000,
      untilEmpty: true, // a worker that ran the trial would stop with "empty", not hang
      openStore: () => store,
      log: () => {},
      runner: async () => {
        ran++;
        return {};
      },
    });
    const exit = await w.done;
    expect(ran).toBe(0);
    expect(store.writes).toBe(0);
    expect(exit.reason).toBe("refused");
    expect(exit.message).toBe(
      `refusing trial old (trial old) of sweep test: ${why}: run the worker from the enqueuer's checkout (git checkout <commit> && npm ci), or re-enqueue the sweep from this one`,
    );
    const left = await queue.getJob("old");
    expect(await left?.getState()).toBe("waiting");
    expect(left?.attemptsMade).toBe(0); // a refusal is not a failed try
  });

  it("a lost Redis is reported within the timeout, with what to do", async () => {
    const r2 = await startTestRedis();
    const watch = watchRedis(parseQueueUrl(r2.url), 600, (phase, ms, cause) => `${phase} after ${ms} ms: ${cause}`);
    await watch.ready;
    const t0 = Date.now();
    await r2.kill();
    const err = await watch.lost;
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(err.message).toMatch(/^lost after \d+ ms: (ECONNREFUSED|ECONNRESET|no answer)/);
    expect(err.code).toBe("REDIS");
    const nothing = watchRedis(parseQueueUrl(r2.url), 300, (phase) => `${phase}: unreachable`);
    await expect(nothing.ready).rejects.toThrow("start: unreachable");
  });
});

describe("queue URLs and versions", () => {
  it("parses redis:// URLs and refuses others with the form to write", () => {
    expect(parseQueueUrl("redis://10.0.0.5:6390/2")).toMatchObject({ host: "10.0.0.5", port: 6390, db: 2, url: "redis://10.0.0.5:6390/2" });
    expect(parseQueueUrl("redis://localhost")).toMatchObject({ port: 6379, db: 0 });
    expect(() => parseQueueUrl("http://x:1")).toThrow('--queue: "http://x:1": only redis:// URLs are supported');
    expect(() => parseQueueUrl("6379")).toThrow("is not a Redis URL; write redis://host:6379");
  });
  it("compares commits, and the config schema", () => {
    expect(versionMismatch(code, code)).toBeUndefined();
    expect(versionMismatch({ ...code, schema: "s2" }, code)).toMatch(/^it was enqueued with config schema s2, this worker has s1/);
    expect(versionMismatch({ ...code, commit: null }, { ...code, commit: null })).toBeUndefined();
    expect(versionMismatch({ ...code, commit: null, mnemo: "0.0.9" }, { ...code, commit: null })).toMatch(/^it was enqueued by mnemo 0.0.9/);
  });
});
