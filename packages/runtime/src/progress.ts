/**
 * Progress for long work, on stderr. On a terminal: one redrawn line with a bar, rate and ETA.
 * Elsewhere (CI, files): a plain line at most every `intervalMs`, so logs stay readable.
 * Where there is no stderr (a browser page) and no `stream` is given, nothing is drawn; the
 * counts and the rate still work.
 */

/** What the bar writes to: a Node stream such as process.stderr, or anything with `write`. */
export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
}
export interface ProgressOptions {
  label: string;
  total: number;
  /** Unit shown with the rate, e.g. "img". */
  unit?: string;
  stream?: ProgressStream;
  intervalMs?: number;
  /** Suppress all output (tests). */
  silent?: boolean;
}

export class ProgressBar {
  private done = 0;
  /** Units done before this bar started (a resumed run): shown, but not part of the rate. */
  private skipped = 0;
  private readonly start = performance.now();
  private lastDraw = 0;
  private extra = "";
  private readonly out: ProgressStream | undefined;
  private readonly tty: boolean;

  constructor(private readonly options: ProgressOptions) {
    this.out = options.stream ?? (globalThis as { process?: { stderr?: ProgressStream } }).process?.stderr;
    this.tty = Boolean(this.out?.isTTY);
  }

  /** Advance by `n` units; `info` (e.g. "loss 0.53") is shown after the rate. */
  tick(n: number, info?: string): void {
    this.done += n;
    if (info !== undefined) this.extra = info;
    const now = performance.now();
    const interval = this.options.intervalMs ?? (this.tty ? 100 : 10_000);
    if (now - this.lastDraw >= interval || this.done >= this.options.total) {
      this.lastDraw = now;
      this.draw(false);
    }
  }

  /** Count `n` units as already done (e.g. resumed from a checkpoint) without crediting them to the rate. */
  skip(n: number): void {
    this.done += n;
    this.skipped += n;
  }

  /** Rate in units per second of the work this bar timed (skipped units excluded). */
  rate(): number {
    const s = (performance.now() - this.start) / 1000;
    return s > 0 ? (this.done - this.skipped) / s : 0;
  }

  finish(info?: string): void {
    if (info !== undefined) this.extra = info;
    this.draw(true);
  }

  private draw(final: boolean): void {
    if (this.options.silent || !this.out) return;
    const { label, total, unit = "it" } = this.options;
    const frac = total > 0 ? Math.min(1, this.done / total) : 1;
    const rate = this.rate();
    const eta = rate > 0 ? (total - this.done) / rate : 0;
    const stats = `${this.done}/${total} ${rate.toFixed(0)} ${unit}/s${final ? "" : ` eta ${formatSeconds(eta)}`}${this.extra ? ` ${this.extra}` : ""}`;
    if (this.tty) {
      const width = 24;
      const filled = Math.round(frac * width);
      const bar = "█".repeat(filled) + "░".repeat(width - filled);
      this.out.write(`\r${label} ${bar} ${(100 * frac).toFixed(0).padStart(3)}% ${stats}\x1b[K${final ? "\n" : ""}`);
    } else {
      this.out.write(`${label} ${(100 * frac).toFixed(0)}% ${stats}\n`);
    }
  }
}

export function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return "?";
  if (s < 60) return `${s.toFixed(0)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${Math.round(s % 60).toString().padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${Math.round((s % 3600) / 60).toString().padStart(2, "0")}m`;
}
