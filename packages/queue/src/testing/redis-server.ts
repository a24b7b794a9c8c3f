/**
 * A throwaway `redis-server` on loopback for tests: a free port, no persistence, killed at the end.
 * `redisServerAvailable()` says whether the Debian package is installed; tests skip with a clear
 * message only then, and never in CI (`CI=true`): there the missing server is a failure.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createServer, createConnection } from "node:net";

export function redisServerAvailable(): boolean {
  return spawnSync("redis-server", ["--version"], { stdio: "ignore" }).status === 0;
}

/** Why the Redis tests do not run here, or undefined when they do. Throws in CI: there they must run. */
export function redisSkipReason(): string | undefined {
  if (redisServerAvailable()) return undefined;
  const reason = "redis-server is not installed (Debian: apt-get install redis-server): the queue tests against a real Redis are skipped";
  if (process.env.CI === "true" || process.env.CI === "1") throw new Error(`${reason}, and CI must run them (.ci/run installs it)`);
  return reason;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.unref();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const address = s.address();
      const port = typeof address === "object" && address ? address.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export interface TestRedis {
  port: number;
  url: string;
  /** Starts the server (again, on the same port: a restarted Redis without persistence is empty). */
  start: () => Promise<void>;
  /** SIGKILLs the server (Redis "going away"). */
  kill: () => Promise<void>;
}

function reachable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = createConnection({ port, host: "127.0.0.1" });
    c.once("connect", () => {
      c.write("PING\r\n");
    });
    c.once("data", (d) => {
      c.destroy();
      resolve(d.toString().startsWith("+PONG"));
    });
    c.once("error", () => resolve(false));
  });
}

export async function startTestRedis(port?: number): Promise<TestRedis> {
  const p = port ?? (await freePort());
  let proc: ChildProcess | undefined;
  const r: TestRedis = {
    port: p,
    url: `redis://127.0.0.1:${p}`,
    start: async () => {
      proc = spawn("redis-server", ["--port", String(p), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdio: "ignore" });
      const deadline = Date.now() + 15_000;
      while (!(await reachable(p))) {
        if (Date.now() > deadline) throw new Error(`redis-server on port ${p} did not answer within 15 s`);
        if (proc.exitCode !== null) throw new Error(`redis-server on port ${p} exited with code ${proc.exitCode}`);
        await new Promise((res) => setTimeout(res, 50));
      }
    },
    kill: async () => {
      const running = proc;
      if (!running || running.exitCode !== null || running.signalCode !== null) return;
      await new Promise<void>((res) => {
        running.once("exit", () => res());
        running.kill("SIGKILL");
      });
    },
  };
  await r.start();
  process.once("exit", () => proc?.kill("SIGKILL"));
  return r;
}
