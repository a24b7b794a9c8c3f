/**
 * A throwaway `redis-server` on loopback for tests: a free port, a directory of its own, no
 * persistence, killed at the end (and when the test process exits, whatever happened).
 * `redisServerAvailable()` says whether the Debian package is installed; tests skip with a clear
 * message only then, and never in CI (`CI=true`): there the missing server is a failure.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, createConnection } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

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

export interface TestRedisOptions {
  /** Port (default: a free one). */
  port?: number;
  /** The server's working directory (default: a new temp dir, removed when the process exits). */
  dir?: string;
}

export async function startTestRedis(o: TestRedisOptions = {}): Promise<TestRedis> {
  const p = o.port ?? (await freePort());
  const ownDir = o.dir === undefined;
  const dir = o.dir ?? mkdtempSync(join(tmpdir(), "mnemo-redis-"));
  let proc: ChildProcess | undefined;
  const killNow = (): void => {
    if (proc && proc.exitCode === null && proc.signalCode === null) proc.kill("SIGKILL");
  };
  const r: TestRedis = {
    port: p,
    url: `redis://127.0.0.1:${p}`,
    start: async () => {
      proc = spawn("redis-server", ["--port", String(p), "--bind", "127.0.0.1", "--dir", dir, "--save", "", "--appendonly", "no"], { stdio: "ignore" });
      const started = proc;
      const deadline = Date.now() + 15_000;
      while (!(await reachable(p))) {
        if (started.exitCode !== null) throw new Error(`redis-server on port ${p} exited with code ${started.exitCode} (port taken?)`);
        if (Date.now() > deadline) {
          killNow();
          throw new Error(`redis-server on port ${p} did not answer within 15 s`);
        }
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
  process.once("exit", () => {
    killNow();
    if (ownDir) rmSync(dir, { recursive: true, force: true });
  });
  await r.start();
  return r;
}
