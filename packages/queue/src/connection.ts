/**
 * `redis://[user:password@]host[:port][/db]` -> BullMQ connection options, and the one error a
 * lost Redis turns into: a clear message (what happened, that nothing recorded is lost, what to
 * rerun), never a hang or a stack trace.
 */
import { hostname } from "node:os";
import { ConfigError, MnemoError } from "@mnemo/core";
import { Queue, type RedisOptions } from "bullmq";
import { Redis } from "ioredis";

/** The BullMQ queue every sweep's trials go to (a job's data names its sweep). */
export const QUEUE_NAME = "mnemo-trials";

export interface QueueAddress {
  url: string;
  host: string;
  port: number;
  db: number;
  username?: string;
  password?: string;
}

/** Parses `--queue redis://host:6379[/db]`; anything else is a usage error naming the form. */
export function parseQueueUrl(url: string, option = "--queue"): QueueAddress {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new ConfigError(`"${url}" is not a Redis URL; write redis://host:6379 (e.g. redis://127.0.0.1:6379)`, { file: option });
  }
  if (u.protocol !== "redis:") throw new ConfigError(`"${url}": only redis:// URLs are supported (e.g. redis://127.0.0.1:6379)`, { file: option });
  if (!u.hostname) throw new ConfigError(`"${url}" names no host; write redis://host:6379`, { file: option });
  const port = u.port ? Number(u.port) : 6379;
  const dbText = u.pathname.replace(/^\//, "");
  const db = dbText === "" ? 0 : Number(dbText);
  if (!Number.isInteger(db) || db < 0) throw new ConfigError(`"${url}": the path is the Redis database number (redis://host:6379/0), got "${dbText}"`, { file: option });
  const address: QueueAddress = { url: `redis://${u.hostname}:${port}${db ? `/${db}` : ""}`, host: u.hostname.replace(/^\[|\]$/g, ""), port, db };
  if (u.username) address.username = decodeURIComponent(u.username);
  if (u.password) address.password = decodeURIComponent(u.password);
  return address;
}

/** ioredis options for BullMQ's connections: blocking commands never time out, reconnects are quick. */
export function connectionOptions(a: QueueAddress): RedisOptions {
  return {
    host: a.host,
    port: a.port,
    db: a.db,
    username: a.username,
    password: a.password,
    maxRetriesPerRequest: null, // BullMQ workers require it; the watchdog bounds the wait instead
    retryStrategy: (times) => Math.min(100 * times, 1000),
    connectionName: `mnemo:${hostname()}:${process.pid}`,
  };
}

/** Redis cannot be reached (at start) or went away (mid-sweep) for longer than the allowed time. */
export class RedisUnavailableError extends MnemoError {
  readonly url: string;
  constructor(message: string, url: string, options?: { cause?: unknown }) {
    super("REDIS", message, options);
    this.url = url;
  }
}

/** How to start the one service, printed when it cannot be reached. */
export function startRedisHint(a: QueueAddress): string {
  return `start it with: redis-server --port ${a.port} --bind ${a.host === "localhost" ? "127.0.0.1" : a.host} --save "" --appendonly no (Debian: apt-get install redis-server)`;
}

export interface RedisWatch {
  /** Resolves once Redis answered a PING; rejects with RedisUnavailableError after `timeoutMs` without one. */
  ready: Promise<void>;
  /** Resolves (never rejects) with the error when Redis stops answering for `timeoutMs`. */
  lost: Promise<RedisUnavailableError>;
  stop: () => void;
}

/**
 * PINGs Redis every `intervalMs` on a connection of its own (no offline queue, so a PING fails at
 * once while disconnected). `describe(silentMs, cause)` words the error for the caller (worker or
 * enqueuer), saying what is safe and what to rerun.
 */
export function watchRedis(a: QueueAddress, timeoutMs: number, describe: (phase: "start" | "lost", silentMs: number, cause: string) => string, intervalMs = Math.max(100, Math.min(1000, timeoutMs / 4))): RedisWatch {
  const client = new Redis({ ...connectionOptions(a), maxRetriesPerRequest: 0, enableOfflineQueue: false, lazyConnect: false, connectTimeout: Math.max(500, timeoutMs), connectionName: `mnemo-watch:${hostname()}:${process.pid}` });
  let lastError = "no answer";
  client.on("error", (err: Error & { code?: string }) => {
    lastError = err.code ?? err.message;
  });
  const started = Date.now();
  let lastOk: number | undefined;
  let stopped = false;
  let resolveReady!: () => void;
  let rejectReady!: (e: RedisUnavailableError) => void;
  let resolveLost!: (e: RedisUnavailableError) => void;
  const ready = new Promise<void>((res, rej) => {
    resolveReady = res;
    rejectReady = rej;
  });
  ready.catch(() => {}); // the caller awaits it; an unobserved rejection must not crash the process
  const lost = new Promise<RedisUnavailableError>((res) => (resolveLost = res));
  const stop = (): void => {
    if (stopped) return;
    stopped = true;
    clearInterval(timer);
    client.disconnect();
  };
  const tick = (): void => {
    if (stopped) return;
    client.ping().then(
      () => {
        if (lastOk === undefined) resolveReady();
        lastOk = Date.now();
      },
      (err: Error & { code?: string }) => {
        if (!/Stream isn't writeable|Connection is closed/.test(err.message)) lastError = err.code ?? err.message;
        const now = Date.now();
        const since = lastOk ?? started;
        if (now - since < timeoutMs) return;
        const phase = lastOk === undefined ? "start" : "lost";
        const error = new RedisUnavailableError(describe(phase, now - since, lastError), a.url, { cause: err });
        stop();
        if (phase === "start") rejectReady(error);
        else resolveLost(error);
      },
    );
  };
  const timer = setInterval(tick, intervalMs);
  timer.unref();
  tick();
  return { ready, lost, stop };
}

/** The trials queue on this Redis (its connection errors are the watchdog's to report). */
export function openTrialQueue(a: QueueAddress): Queue {
  const queue = new Queue(QUEUE_NAME, { connection: connectionOptions(a) });
  queue.on("error", () => {});
  return queue;
}
