/**
 * One progress line for a whole sweep: done / running / failed / ETA, fed by runSweep's events.
 * The ETA is the mean wall time of the trials finished in this session × the trials left ÷ the
 * workers (none until a trial has finished).
 */
import type { SweepEvent } from "./pool.js";

interface Running {
  since: number;
  task: number;
  step: number;
  resumed: boolean;
}

export class SweepProgress {
  total = 0;
  done = 0;
  skipped = 0;
  failed = 0;
  workers = 1;
  private readonly running = new Map<string, Running>();
  private readonly durations: number[] = [];

  constructor(
    readonly name: string,
    private readonly now: () => number = () => Date.now(),
  ) {}

  /** Updates the counts; returns true when the line changed in a way worth printing on a non-TTY (start, end of a trial). */
  update(e: SweepEvent): boolean {
    switch (e.type) {
      case "plan":
        this.total = e.total;
        this.done = e.finished;
        this.skipped = e.finished;
        this.workers = e.workers;
        return true;
      case "skip":
        return false;
      case "start":
        this.running.set(e.trial.id, { since: this.now(), task: 0, step: 0, resumed: e.resumed });
        return true;
      case "progress": {
        const r = this.running.get(e.trial.id);
        if (r) {
          r.task = e.progress.task;
          r.step = e.progress.step;
        }
        return false;
      }
      case "done":
        this.running.delete(e.trial.id);
        this.done++;
        this.durations.push(e.seconds);
        return true;
      case "failed":
        this.running.delete(e.trial.id);
        this.failed++;
        return true;
      case "interrupted":
        this.running.delete(e.trial.id);
        return true;
    }
  }

  /** Seconds left, or undefined before the first trial of this session finished. */
  eta(): number | undefined {
    if (this.durations.length === 0) return undefined;
    const mean = this.durations.reduce((a, b) => a + b, 0) / this.durations.length;
    const left = this.total - this.done - this.failed;
    const runningCredit = [...this.running.values()].reduce((a, r) => a + Math.min(mean, (this.now() - r.since) / 1000), 0);
    return Math.max(0, (left * mean - runningCredit) / Math.max(1, Math.min(this.workers, left)));
  }

  line(): string {
    const eta = this.eta();
    const running = [...this.running.entries()].map(([id, r]) => `${id.slice(0, 8)} t${r.task} s${r.step}${r.resumed ? " (resumed)" : ""}`);
    return [
      `sweep ${this.name}: ${this.done}/${this.total} done${this.skipped ? ` (${this.skipped} before)` : ""}`,
      `${this.running.size} running${running.length ? ` [${running.join(", ")}]` : ""}`,
      `${this.failed} failed`,
      `ETA ${eta === undefined ? "?" : formatDuration(eta)}`,
    ].join(" · ");
  }
}

export function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}
