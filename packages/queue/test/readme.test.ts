/** The README's API example, against a throwaway redis-server (skipped only where none is installed, never in CI). */
import { expect, it } from "vitest";
import { enqueueTrials, followTrials, openTrialQueue, parseQueueUrl, startQueueWorker, type CodeVersion, type TrialResult, type TrialStore } from "../src/index.js";
import { redisSkipReason, startTestRedis } from "../src/testing/redis-server.js";

const skip = redisSkipReason();

it.skipIf(skip !== undefined)("README example", async () => {
  const redis = await startTestRedis();
  try {
    const address = parseQueueUrl(redis.url);
    const code: CodeVersion = { commit: "3a4b5c6d", dirty: false, schema: "s1", mnemo: "0.1.0" };
    const records = new Map<string, TrialResult>();
    const store: TrialStore = {
      get: (id) => records.get(id),
      record: (id, r) => {
        if (records.has(id)) return false; // exactly once
        records.set(id, r);
        return true;
      },
    };
    const job = (id: string) => ({ format: 1 as const, sweep: { name: "demo", dir: "/tmp/demo" }, trial: { id, label: `x=${id}`, spec: { x: Number(id.slice(1)) } }, code, enqueuedAt: new Date().toISOString(), enqueuedBy: "me" });

    const queue = openTrialQueue(address);
    const report = await enqueueTrials(queue, ["x1", "x2", "x3"].map(job), store, { retries: 1, backoffMs: 1000 });
    const worker = startQueueWorker({
      address,
      code,
      untilEmpty: true,
      openStore: () => store,
      log: () => {},
      runner: async (data) => ({ squared: (data.trial.spec as { x: number }).x ** 2 }),
    });
    const followed = await followTrials(queue, ["x1", "x2", "x3"], store, { pollMs: 100 });
    await worker.done;
    await queue.close();
    expect([report.added.length, followed.recorded.length, records.get("x3")]).toEqual([3, 3, { squared: 9 }]);
  } finally {
    await redis.kill();
  }
});
