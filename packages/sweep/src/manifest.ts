/**
 * The sweep manifest, `<sweepDir>/manifest.json`: trial id -> status, run directory, result.
 *
 * Every change is a read-modify-write under `manifest.lock` (an exclusive lock file; one held by a
 * dead process on this host, or older than LOCK_STALE_MS, is broken), written with tracking's
 * atomic temp + fsync + rename, so readers and a kill -9 see the old manifest or the new one.
 * `recordResult` is exactly-once: the first result recorded for a trial id stays; recording the
 * same id again changes nothing and returns false. Trials dropped from the sweep file stay in the
 * manifest (`planned: false`) with their results, so putting them back costs nothing.
 */
import { existsSync, mkdirSync, openSync, closeSync, readFileSync, rmSync, statSync, writeSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { MnemoError } from "@mnemo/core";
import { processAlive, writeFileAtomic } from "@mnemo/tracking";
import type { SweepPlan, Trial } from "./plan.js";
import type { SweepValue } from "./spec.js";

export const MANIFEST_FILE = "manifest.json";
export const MANIFEST_LOCK = "manifest.lock";
/** A lock older than this is taken to be left by a crashed process on another host. */
export const LOCK_STALE_MS = 30_000;

export type TrialStatus = "pending" | "running" | "finished" | "failed" | "pruned";

/** What a finished trial produced: the numbers the summary needs, read from its run directory. */
export interface TrialResult {
  trialId: string;
  /** The trial's run directory (absolute). */
  runDir: string;
  /** Test ACC, task-macro (GEM), percent. */
  acc_task_macro: number;
  /** Test AIA, sample-weighted (iCaRL), percent. */
  aia_sample_weighted: number;
  /** Average forgetting over the old tasks, percent (0 for a single task). */
  forgetting: number;
  /** Validation ACC, task-macro, percent; null without a validation split. */
  val_acc_task_macro: number | null;
  /** Training + evaluation wall seconds (metrics.json cost, summed over every process that ran the trial). */
  wall_seconds: number;
  /** The test accuracy matrix R[i][j] (percent). */
  matrix: (number | null)[][];
  /** Validation accuracy matrix, when the run had a validation split. */
  validationMatrix?: (number | null)[][];
  /** Where and when it finished. */
  host: string;
  finishedAt: string;
}

export interface ManifestEntry {
  id: string;
  index: number;
  point: Record<string, SweepValue>;
  seed: number;
  /** In the current sweep file (false: dropped from it, kept with its result). */
  planned: boolean;
  status: TrialStatus;
  attempts: number;
  runDir?: string;
  host?: string;
  pid?: number;
  startedAt?: string;
  updatedAt: string;
  error?: string;
  result?: TrialResult;
}

export interface ManifestData {
  version: 1;
  name: string;
  trials: Record<string, ManifestEntry>;
}

export class ManifestError extends MnemoError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("SWEEP", message, options);
  }
}

const sleepSync = (ms: number): void => {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
};

/** The manifest of one sweep directory. Safe to use from several processes at once. */
export class Manifest {
  readonly file: string;
  private readonly lockFile: string;

  constructor(readonly dir: string) {
    this.file = join(dir, MANIFEST_FILE);
    this.lockFile = join(dir, MANIFEST_LOCK);
  }

  /** The manifest as on disk (an empty one before the first write). */
  read(): ManifestData {
    if (!existsSync(this.file)) return { version: 1, name: "", trials: {} };
    try {
      const data = JSON.parse(readFileSync(this.file, "utf8")) as ManifestData;
      if (data.version !== 1 || typeof data.trials !== "object") throw new Error(`unknown manifest version ${String(data.version)}`);
      return data;
    } catch (cause) {
      throw new ManifestError(`${this.file}: cannot read the sweep manifest (${(cause as Error).message}); it is written atomically, so this file was edited or is not a Mnemo manifest`, { cause });
    }
  }

  /** One trial's entry, if the manifest has it. */
  get(id: string): ManifestEntry | undefined {
    return this.read().trials[id];
  }

  /**
   * Adds the plan's trials (pending unless the manifest already knows them) and marks entries the
   * plan no longer has as `planned: false`. Finished trials keep their results either way.
   */
  sync(plan: Pick<SweepPlan, "name" | "trials">): ManifestData {
    return this.update((m) => {
      m.name = plan.name;
      const ids = new Set(plan.trials.map((t) => t.id));
      for (const e of Object.values(m.trials)) e.planned = ids.has(e.id);
      for (const t of plan.trials) {
        const e = m.trials[t.id];
        if (e) {
          e.index = t.index;
          e.point = t.point;
        } else m.trials[t.id] = { id: t.id, index: t.index, point: t.point, seed: t.seed, planned: true, status: "pending", attempts: 0, updatedAt: now() };
      }
    });
  }

  /** A worker started (or resumed) the trial. No effect on a finished trial. */
  markRunning(trial: Pick<Trial, "id" | "index" | "point" | "seed">, info: { runDir?: string; host?: string; pid?: number } = {}): ManifestEntry {
    return this.updateEntry(trial, (e) => {
      if (e.status === "finished") return;
      e.status = "running";
      e.attempts++;
      e.host = info.host ?? hostname();
      e.pid = info.pid ?? process.pid;
      e.startedAt = now();
      if (info.runDir) e.runDir = info.runDir;
      delete e.error;
    });
  }

  /** The trial's run directory is known (written as soon as the run made it). */
  noteRunDir(trial: Pick<Trial, "id" | "index" | "point" | "seed">, runDir: string): void {
    this.updateEntry(trial, (e) => {
      e.runDir = runDir;
    });
  }

  /**
   * Records a trial's result exactly once: returns true when this call recorded it, false when the
   * trial already had a result (which is kept, whatever this one says).
   */
  recordResult(trialId: string, result: TrialResult, trial?: Pick<Trial, "index" | "point" | "seed">): boolean {
    let recorded = false;
    this.update((m) => {
      const e = m.trials[trialId] ?? (trial ? newEntry({ id: trialId, ...trial }) : undefined);
      if (!e) throw new ManifestError(`${this.file}: no trial ${trialId} in this sweep; record results of planned trials (planSweep + manifest.sync first)`);
      m.trials[trialId] = e;
      if (e.status === "finished" && e.result) return;
      e.status = "finished";
      e.result = result;
      e.runDir = result.runDir;
      e.updatedAt = now();
      delete e.error;
      recorded = true;
    });
    return recorded;
  }

  /** The trial failed (its error is kept; a rerun tries it again). No effect on a finished trial. */
  recordFailure(trialId: string, error: string): void {
    this.update((m) => {
      const e = m.trials[trialId];
      if (!e || e.status === "finished") return;
      e.status = "failed";
      e.error = error;
      e.updatedAt = now();
    });
  }

  /** Successive halving stopped the trial (its point is not among the best after the halving task). */
  markPruned(trialId: string, reason: string): void {
    this.update((m) => {
      const e = m.trials[trialId];
      if (!e || e.status === "finished") return;
      e.status = "pruned";
      e.error = reason;
      e.updatedAt = now();
    });
  }

  /** Read-modify-write under the lock. */
  update(change: (m: ManifestData) => void): ManifestData {
    mkdirSync(this.dir, { recursive: true });
    this.lock();
    try {
      const m = this.read();
      change(m);
      writeFileAtomic(this.file, JSON.stringify(m, null, 2) + "\n");
      return m;
    } finally {
      rmSync(this.lockFile, { force: true });
    }
  }

  private updateEntry(trial: Pick<Trial, "id" | "index" | "point" | "seed">, change: (e: ManifestEntry) => void): ManifestEntry {
    let out: ManifestEntry | undefined;
    this.update((m) => {
      const e = (m.trials[trial.id] ??= newEntry(trial));
      change(e);
      e.updatedAt = now();
      out = e;
    });
    return out as ManifestEntry;
  }

  private lock(): void {
    const deadline = Date.now() + 4 * LOCK_STALE_MS;
    for (;;) {
      try {
        const fd = openSync(this.lockFile, "wx");
        writeSync(fd, JSON.stringify({ pid: process.pid, host: hostname(), at: now() }));
        closeSync(fd);
        return;
      } catch (err) {
        if ((err as { code?: string }).code !== "EEXIST") throw err;
      }
      if (this.lockIsStale()) {
        rmSync(this.lockFile, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw new ManifestError(`${this.lockFile} has been held for over ${(4 * LOCK_STALE_MS) / 1000} s; if no sweep is running on this directory, delete it`);
      sleepSync(5 + Math.random() * 20);
    }
  }

  private lockIsStale(): boolean {
    try {
      const holder = JSON.parse(readFileSync(this.lockFile, "utf8")) as { pid?: number; host?: string };
      if (holder.host === hostname() && typeof holder.pid === "number" && !processAlive(holder.pid)) return true;
      return Date.now() - statSync(this.lockFile).mtimeMs > LOCK_STALE_MS;
    } catch {
      return false; // half-written by its holder, or just released: look again
    }
  }
}

function newEntry(trial: Pick<Trial, "id" | "index" | "point" | "seed">): ManifestEntry {
  return { id: trial.id, index: trial.index, point: trial.point, seed: trial.seed, planned: true, status: "pending", attempts: 0, updatedAt: now() };
}

const now = (): string => new Date().toISOString();

/** The manifest of a sweep directory. */
export function openManifest(sweepDir: string): Manifest {
  return new Manifest(sweepDir);
}

/** Counts of the planned trials by status. */
export function manifestCounts(m: ManifestData): Record<TrialStatus, number> & { total: number } {
  const counts = { pending: 0, running: 0, finished: 0, failed: 0, pruned: 0, total: 0 };
  for (const e of Object.values(m.trials)) {
    if (!e.planned) continue;
    counts[e.status]++;
    counts.total++;
  }
  return counts;
}
