import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RetryPolicy } from "../src/retry.js";

/** Tiny delays so retry tests take milliseconds; the timeout still lets a loopback request finish. */
export const FAST_RETRY: RetryPolicy = { maxAttempts: 4, baseDelayMs: 1, maxDelayMs: 4, timeoutMs: 400 };

export function tempDir(prefix = "mnemo-tracking-"): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A clock that advances 1 ms per reading: distinct, reproducible timestamps. */
export function tickingClock(start = 1_700_000_000_000): () => number {
  let t = start;
  return () => t++;
}

export const noWarn = (): void => {};
