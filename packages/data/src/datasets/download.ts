import { createWriteStream, existsSync, mkdirSync, renameSync, statSync, unlinkSync } from "node:fs";
import { basename, dirname } from "node:path";
import { DataError } from "@mnemo/core/errors";
import { md5File } from "./checksum.js";
import type { ProgressCallback } from "./types.js";

export interface DownloadRequest {
  url: string;
  /** Final path; bytes go to `${dest}.part` until the md5 matches. */
  dest: string;
  md5?: string;
  /** Abort if no response headers arrive within this many ms (offline fails fast). */
  connectTimeoutMs: number;
  /** Abort if no byte arrives for this many ms once the transfer started. */
  stallTimeoutMs?: number;
  onProgress?: ProgressCallback;
  /** Text appended to every error message: how to place the file by hand. */
  hint: string;
}

/**
 * Download `url` to `dest` with resume: an existing `.part` is continued with a Range request.
 * Nothing lands at `dest` unless the transfer completed and the md5 (if given) matched; a
 * corrupt result is deleted so the next attempt starts clean.
 */
export async function downloadFile(req: DownloadRequest): Promise<void> {
  const part = `${req.dest}.part`;
  mkdirSync(dirname(req.dest), { recursive: true });
  const offset = existsSync(part) ? statSync(part).size : 0;
  const file = basename(req.dest);

  const controller = new AbortController();
  let timer = setTimeout(() => controller.abort(new Error(`no response within ${req.connectTimeoutMs} ms`)), req.connectTimeoutMs);
  let response: Response;
  try {
    response = await fetch(req.url, {
      headers: offset > 0 ? { Range: `bytes=${offset}-` } : {},
      signal: controller.signal,
    });
  } catch (err) {
    clearTimeout(timer);
    throw new DataError(
      `${file}: download from ${req.url} failed (${describeCause(err)}). ${req.hint}`,
      { file: req.dest, url: req.url },
      { cause: err },
    );
  }
  clearTimeout(timer);

  let append = false;
  if (response.status === 206) append = true;
  else if (response.status === 416 && offset > 0) {
    // The .part already holds every byte; fall through to verification.
    await response.body?.cancel();
    return finish(req, part, file);
  } else if (!response.ok) {
    await response.body?.cancel();
    throw new DataError(`${file}: download from ${req.url} failed with HTTP ${response.status}. ${req.hint}`, {
      file: req.dest,
      url: req.url,
    });
  }
  const start = append ? offset : 0;
  const length = Number(response.headers.get("content-length"));
  const total = Number.isFinite(length) && length > 0 ? start + length : undefined;
  const out = createWriteStream(part, { flags: append ? "a" : "w" });
  let received = start;
  const stallMs = req.stallTimeoutMs ?? 60_000;
  try {
    if (!response.body) throw new Error("empty response body");
    const reader = response.body.getReader();
    for (;;) {
      timer = setTimeout(() => controller.abort(new Error(`no data for ${stallMs} ms`)), stallMs);
      const { done, value } = await reader.read();
      clearTimeout(timer);
      if (done) break;
      received += value.byteLength;
      if (!out.write(value)) await new Promise<void>((resolve) => out.once("drain", () => resolve()));
      req.onProgress?.({ file, url: req.url, receivedBytes: received, totalBytes: total });
    }
  } catch (err) {
    clearTimeout(timer);
    await closeStream(out);
    // Keep the .part: the next call resumes from here.
    throw new DataError(
      `${file}: download from ${req.url} interrupted at byte ${received} (${describeCause(err)}); run again to resume. ${req.hint}`,
      { file: part, url: req.url, offset: received, expectedBytes: total },
      { cause: err },
    );
  }
  await closeStream(out);
  if (total !== undefined && received !== total) {
    throw new DataError(
      `${file}: download from ${req.url} ended at byte ${received} of ${total}; run again to resume. ${req.hint}`,
      { file: part, url: req.url, offset: received, expectedBytes: total, actualBytes: received },
    );
  }
  await finish(req, part, file);
}

async function finish(req: DownloadRequest, part: string, file: string): Promise<void> {
  if (req.md5) {
    const actual = await md5File(part);
    if (actual !== req.md5) {
      unlinkSync(part);
      throw new DataError(
        `${file}: downloaded file from ${req.url} has md5 ${actual}, expected ${req.md5}; the partial file was deleted. ${req.hint}`,
        { file: req.dest, url: req.url },
      );
    }
  }
  renameSync(part, req.dest);
}

function closeStream(out: NodeJS.WritableStream & { close?: () => void }): Promise<void> {
  return new Promise((resolve, reject) => {
    out.once("error", reject);
    out.end(() => resolve());
  });
}

function describeCause(err: unknown): string {
  if (err instanceof Error) {
    const cause = (err as Error & { cause?: unknown }).cause;
    const inner = cause instanceof Error ? `: ${cause.message}` : "";
    return `${err.message}${inner}`;
  }
  return String(err);
}

/**
 * Progress reporter for stderr: a redrawn bar on a TTY, otherwise one line every 10% (or every
 * 5 s without a known size) so CI logs stay readable.
 */
export function stderrProgress(): ProgressCallback {
  const tty = process.stderr.isTTY === true;
  let lastPct = -1;
  let lastTime = 0;
  return (p) => {
    const mb = (p.receivedBytes / 1e6).toFixed(1);
    if (p.totalBytes) {
      const pct = Math.floor((100 * p.receivedBytes) / p.totalBytes);
      if (tty) {
        if (pct === lastPct) return;
        lastPct = pct;
        const width = 30;
        const fill = Math.round((width * pct) / 100);
        process.stderr.write(`\r${p.file} [${"#".repeat(fill)}${".".repeat(width - fill)}] ${pct}% ${mb} MB`);
        if (p.receivedBytes >= p.totalBytes) process.stderr.write("\n");
      } else if (Math.floor(pct / 10) !== Math.floor(lastPct / 10)) {
        lastPct = pct;
        process.stderr.write(`${p.file}: ${pct}% (${mb} of ${(p.totalBytes / 1e6).toFixed(1)} MB)\n`);
      }
    } else {
      const now = Date.now();
      if (now - lastTime >= 5000) {
        lastTime = now;
        process.stderr.write(`${p.file}: ${mb} MB\n`);
      }
    }
  };
}
