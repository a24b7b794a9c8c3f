/**
 * Accuracy plots as self-contained SVG strings (no dependencies, no scripts), so they render the
 * same in a browser, in MLflow's artifact viewer and inline in the HTML report.
 */
import { accuracySampleWeightedAt, accuracyTaskMacroAt, ShapeError } from "@mnemo/core";

export type AccuracyMatrix = readonly (readonly (number | null)[])[];

export function escapeXml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;");
}

const fmt = (x: number): string => (Math.round(x * 100) / 100).toString();

// Viridis anchor colours (matplotlib), interpolated linearly: perceptually ordered and
// readable for colour-blind viewers.
const VIRIDIS: [number, number, number][] = [
  [68, 1, 84],
  [59, 82, 139],
  [33, 145, 140],
  [94, 201, 98],
  [253, 231, 37],
];

/** Colour for an accuracy in percent (clamped to [0, 100]). */
export function accuracyColor(percent: number): string {
  const t = Math.min(1, Math.max(0, percent / 100)) * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(t));
  const f = t - i;
  const c = VIRIDIS[i].map((a, k) => Math.round(a + (VIRIDIS[i + 1][k] - a) * f));
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}

export interface HeatmapOptions {
  id?: string;
  title?: string;
  cellSize?: number;
}

/** Heatmap: row i = trained through task i, column j = evaluated on task j, value in percent. */
export function accuracyHeatmapSvg(matrix: AccuracyMatrix, options: HeatmapOptions = {}): string {
  const rows = matrix.length;
  const cols = Math.max(1, ...matrix.map((r) => r.length));
  const cell = options.cellSize ?? (Math.max(rows, cols) > 12 ? 28 : 48);
  const left = 90;
  const top = 50;
  const gridW = cols * cell;
  const gridH = Math.max(1, rows) * cell;
  const barX = left + gridW + 30;
  const width = barX + 70;
  const height = top + gridH + 60;
  const id = options.id ?? "accuracy-heatmap";
  const title = options.title ?? "Accuracy (%) after each training step";
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" id="${escapeXml(id)}" class="accuracy-heatmap" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
  );
  parts.push(`<title>${escapeXml(title)}</title>`);
  parts.push(`<rect width="${width}" height="${height}" fill="white"/>`);
  parts.push(`<text x="${left + gridW / 2}" y="20" text-anchor="middle" font-size="14">${escapeXml(title)}</text>`);
  const small = cell < 40;
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      const v = matrix[i][j];
      const x = left + j * cell;
      const y = top + i * cell;
      if (v === null || v === undefined) {
        parts.push(`<rect x="${x}" y="${y}" width="${cell}" height="${cell}" fill="#eeeeee" stroke="white"/>`);
        continue;
      }
      parts.push(`<rect x="${x}" y="${y}" width="${cell}" height="${cell}" fill="${accuracyColor(v)}" stroke="white"><title>trained through task ${i}, evaluated on task ${j}: ${fmt(v)}%</title></rect>`);
      const ink = v > 60 ? "black" : "white";
      parts.push(`<text x="${x + cell / 2}" y="${y + cell / 2 + 4}" text-anchor="middle" fill="${ink}" font-size="${small ? 8 : 11}">${small ? Math.round(v) : v.toFixed(1)}</text>`);
    }
  }
  for (let j = 0; j < cols; j++) parts.push(`<text x="${left + j * cell + cell / 2}" y="${top - 6}" text-anchor="middle">${j}</text>`);
  for (let i = 0; i < rows; i++) parts.push(`<text x="${left - 6}" y="${top + i * cell + cell / 2 + 4}" text-anchor="end">${i}</text>`);
  parts.push(`<text x="${left + gridW / 2}" y="${top + gridH + 30}" text-anchor="middle">evaluated on task j</text>`);
  parts.push(`<text transform="translate(${left - 40},${top + gridH / 2}) rotate(-90)" text-anchor="middle">trained through task i</text>`);
  // Colour scale: 0 at the bottom, 100 at the top.
  const steps = 20;
  for (let k = 0; k < steps; k++) {
    const v = ((k + 0.5) / steps) * 100;
    const y = top + gridH - ((k + 1) / steps) * gridH;
    parts.push(`<rect x="${barX}" y="${fmt(y)}" width="14" height="${fmt(gridH / steps + 0.5)}" fill="${accuracyColor(v)}"/>`);
  }
  for (const v of [0, 50, 100]) parts.push(`<text x="${barX + 18}" y="${fmt(top + gridH - (v / 100) * gridH + 4)}">${v}%</text>`);
  parts.push(`</svg>`);
  return parts.join("\n");
}

/** The average line's legend: the run table's A_t column. */
const AVERAGE_LABEL = "A_t (seen tasks)";

const SERIES = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

export interface CurvesOptions {
  id?: string;
  title?: string;
  /** Test samples per task: makes the average line A_t (sample-weighted), as in the run's table. */
  testSizes?: readonly number[];
}

/**
 * A_t for every row t that has all of R[t][0..t] (null otherwise): the accuracy over the tasks
 * seen so far, sample-weighted with `testSizes`, task-macro without (core metrics.ts). Entries
 * j > t (future tasks, untrained) never enter it.
 */
export function seenTaskAccuracy(matrix: AccuracyMatrix, testSizes?: readonly number[]): (number | null)[] {
  const R = matrix as (number | null)[][];
  return matrix.map((_, t) => {
    try {
      return testSizes ? accuracySampleWeightedAt(R, t, testSizes) : accuracyTaskMacroAt(R, t);
    } catch (err) {
      // A missing entry or no test samples in the seen tasks: nothing to plot at this step.
      if (err instanceof ShapeError) return null;
      throw err;
    }
  });
}

/**
 * One line per task j over the steps i >= j at which it has been trained (a task not trained yet
 * is not drawn: its 0% would be noise), plus A_t over the seen tasks in black, dashed.
 */
export function accuracyCurvesSvg(matrix: AccuracyMatrix, options: CurvesOptions = {}): string {
  const steps = matrix.length;
  const tasks = Math.max(0, ...matrix.map((r) => r.length));
  const width = 560;
  const height = 340;
  const left = 60;
  const right = 130;
  const top = 40;
  const bottom = 50;
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const xOf = (i: number): number => left + (steps <= 1 ? plotW / 2 : (i / (steps - 1)) * plotW);
  const yOf = (v: number): number => top + plotH - (Math.min(100, Math.max(0, v)) / 100) * plotH;
  const id = options.id ?? "accuracy-curves";
  const title = options.title ?? "Accuracy per task over training";
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" id="${escapeXml(id)}" class="accuracy-curves" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
  );
  parts.push(`<title>${escapeXml(title)}</title>`);
  parts.push(`<rect width="${width}" height="${height}" fill="white"/>`);
  parts.push(`<text x="${left + plotW / 2}" y="20" text-anchor="middle" font-size="14">${escapeXml(title)}</text>`);
  for (const v of [0, 25, 50, 75, 100]) {
    parts.push(`<line x1="${left}" x2="${left + plotW}" y1="${fmt(yOf(v))}" y2="${fmt(yOf(v))}" stroke="#dddddd"/>`);
    parts.push(`<text x="${left - 6}" y="${fmt(yOf(v) + 4)}" text-anchor="end">${v}</text>`);
  }
  for (let i = 0; i < steps; i++) parts.push(`<text x="${fmt(xOf(i))}" y="${top + plotH + 16}" text-anchor="middle">${i}</text>`);
  parts.push(`<line x1="${left}" x2="${left + plotW}" y1="${top + plotH}" y2="${top + plotH}" stroke="black"/>`);
  parts.push(`<line x1="${left}" x2="${left}" y1="${top}" y2="${top + plotH}" stroke="black"/>`);
  parts.push(`<text x="${left + plotW / 2}" y="${height - 12}" text-anchor="middle">trained through task i</text>`);
  parts.push(`<text transform="translate(18,${top + plotH / 2}) rotate(-90)" text-anchor="middle">test accuracy (%)</text>`);
  const series = (values: (number | null)[], colour: string, label: string, widthPx: number, dash?: string): void => {
    const pts = values.map((v, i) => (v === null || v === undefined ? null : `${fmt(xOf(i))},${fmt(yOf(v))}`)).filter((p): p is string => p !== null);
    if (pts.length === 0) return;
    // data-values: the plotted numbers per step ("" = not drawn), so tools and tests read values, not pixels.
    const data = values.map((v) => (v === null || v === undefined ? "" : String(v))).join(" ");
    parts.push(`<polyline class="series" data-label="${escapeXml(label)}" data-values="${data}" fill="none" stroke="${colour}" stroke-width="${widthPx}"${dash ? ` stroke-dasharray="${dash}"` : ""} points="${pts.join(" ")}"/>`);
    for (const p of pts) {
      const [x, y] = p.split(",");
      parts.push(`<circle cx="${x}" cy="${y}" r="2.5" fill="${colour}"/>`);
    }
  };
  for (let j = 0; j < tasks; j++) series(matrix.map((row, i) => (i >= j ? (row[j] ?? null) : null)), SERIES[j % SERIES.length], `task ${j}`, 1.5);
  series(seenTaskAccuracy(matrix, options.testSizes), "black", AVERAGE_LABEL, 2.5, "6 3");
  const legend = [...Array.from({ length: tasks }, (_, j) => ({ label: `task ${j}`, colour: SERIES[j % SERIES.length] })), { label: AVERAGE_LABEL, colour: "black" }];
  legend.slice(0, 20).forEach((entry, k) => {
    const y = top + 8 + k * 16;
    parts.push(`<line x1="${left + plotW + 14}" x2="${left + plotW + 34}" y1="${y}" y2="${y}" stroke="${entry.colour}" stroke-width="2"/>`);
    parts.push(`<text x="${left + plotW + 40}" y="${y + 4}">${escapeXml(entry.label)}</text>`);
  });
  parts.push(`</svg>`);
  return parts.join("\n");
}

export interface OverlaySeries {
  label: string;
  /** Value per step (null = nothing at this step). */
  mean: readonly (number | null)[];
  /** Spread per step, drawn as a band mean ± std where given and > 0. */
  std?: readonly (number | null)[];
}

export interface OverlayOptions {
  id?: string;
  title?: string;
  yLabel?: string;
}

/** Several runs' (or groups') curves on one set of axes: mean lines with ± std bands. */
export function accuracyOverlaySvg(series: readonly OverlaySeries[], options: OverlayOptions = {}): string {
  const steps = Math.max(0, ...series.map((s) => s.mean.length));
  const width = 640;
  const legendRows = Math.min(series.length, 12);
  const top = 40;
  const plotH = 250;
  const height = top + plotH + 50 + legendRows * 16 + 10;
  const left = 60;
  const plotW = width - left - 30;
  const xOf = (i: number): number => left + (steps <= 1 ? plotW / 2 : (i / (steps - 1)) * plotW);
  const yOf = (v: number): number => top + plotH - (Math.min(100, Math.max(0, v)) / 100) * plotH;
  const id = options.id ?? "accuracy-overlay";
  const title = options.title ?? "A_t over training (seen tasks), mean ± std over seeds";
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" id="${escapeXml(id)}" class="accuracy-overlay" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
  );
  parts.push(`<title>${escapeXml(title)}</title>`);
  parts.push(`<rect width="${width}" height="${height}" fill="white"/>`);
  parts.push(`<text x="${left + plotW / 2}" y="20" text-anchor="middle" font-size="14">${escapeXml(title)}</text>`);
  for (const v of [0, 25, 50, 75, 100]) {
    parts.push(`<line x1="${left}" x2="${left + plotW}" y1="${fmt(yOf(v))}" y2="${fmt(yOf(v))}" stroke="#dddddd"/>`);
    parts.push(`<text x="${left - 6}" y="${fmt(yOf(v) + 4)}" text-anchor="end">${v}</text>`);
  }
  for (let i = 0; i < steps; i++) parts.push(`<text x="${fmt(xOf(i))}" y="${top + plotH + 16}" text-anchor="middle">${i}</text>`);
  parts.push(`<line x1="${left}" x2="${left + plotW}" y1="${top + plotH}" y2="${top + plotH}" stroke="black"/>`);
  parts.push(`<line x1="${left}" x2="${left}" y1="${top}" y2="${top + plotH}" stroke="black"/>`);
  parts.push(`<text x="${left + plotW / 2}" y="${top + plotH + 34}" text-anchor="middle">trained through task i</text>`);
  parts.push(`<text transform="translate(18,${top + plotH / 2}) rotate(-90)" text-anchor="middle">${escapeXml(options.yLabel ?? "A_t (%)")}</text>`);
  series.forEach((s, k) => {
    const colour = SERIES[k % SERIES.length] as string;
    const idx = s.mean.map((v, i) => (v === null || v === undefined ? -1 : i)).filter((i) => i >= 0);
    if (idx.length === 0) return;
    const sd = (i: number): number => {
      const v = s.std?.[i];
      return typeof v === "number" && Number.isFinite(v) ? v : 0;
    };
    if (idx.some((i) => sd(i) > 0)) {
      const upper = idx.map((i) => `${fmt(xOf(i))},${fmt(yOf((s.mean[i] as number) + sd(i)))}`);
      const lower = idx.map((i) => `${fmt(xOf(i))},${fmt(yOf((s.mean[i] as number) - sd(i)))}`).reverse();
      parts.push(`<polygon class="band" data-label="${escapeXml(s.label)}" fill="${colour}" fill-opacity="0.18" stroke="none" points="${[...upper, ...lower].join(" ")}"/>`);
    }
    const pts = idx.map((i) => `${fmt(xOf(i))},${fmt(yOf(s.mean[i] as number))}`);
    const data = s.mean.map((v) => (v === null || v === undefined ? "" : String(v))).join(" ");
    parts.push(`<polyline class="series" data-label="${escapeXml(s.label)}" data-values="${data}" fill="none" stroke="${colour}" stroke-width="2" points="${pts.join(" ")}"/>`);
    for (const p of pts) {
      const [x, y] = p.split(",");
      parts.push(`<circle cx="${x}" cy="${y}" r="2.5" fill="${colour}"/>`);
    }
  });
  series.slice(0, legendRows).forEach((s, k) => {
    const y = top + plotH + 52 + k * 16;
    const colour = SERIES[k % SERIES.length] as string;
    parts.push(`<line x1="${left}" x2="${left + 20}" y1="${y}" y2="${y}" stroke="${colour}" stroke-width="2"/>`);
    parts.push(`<text x="${left + 26}" y="${y + 4}">${escapeXml(s.label.length > 90 ? `${s.label.slice(0, 87)}...` : s.label)}</text>`);
  });
  if (series.length > legendRows) parts.push(`<text x="${left}" y="${height - 4}">(${series.length - legendRows} more not in the legend)</text>`);
  parts.push(`</svg>`);
  return parts.join("\n");
}

export interface ErrorHeatmapRow {
  label: string;
  /** Error in percent per column (null: not run). */
  values: readonly (number | null)[];
}

export interface ErrorHeatmapOptions {
  id?: string;
  title?: string;
  /** Column names (e.g. the domains); default 0, 1, ... */
  columns?: readonly string[];
  rowAxis?: string;
  columnAxis?: string;
}

/**
 * The accuracy heatmap's layout for errors: one row per method (e.g. a test-time adapter), one
 * column per step (e.g. a domain of the online stream), low error drawn as high accuracy, with a
 * last "mean" column.
 */
export function errorHeatmapSvg(rows: readonly ErrorHeatmapRow[], options: ErrorHeatmapOptions = {}): string {
  const cols = Math.max(1, ...rows.map((r) => r.values.length));
  const cell = cols > 12 ? 28 : 48;
  const left = 110;
  const top = 110;
  const gridW = (cols + 1) * cell;
  const gridH = Math.max(1, rows.length) * cell;
  const width = left + gridW + 30;
  const height = top + gridH + 50;
  const id = options.id ?? "error-heatmap";
  const title = options.title ?? "Online error (%)";
  const names = options.columns ?? Array.from({ length: cols }, (_, j) => String(j));
  const small = cell < 40;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" id="${escapeXml(id)}" class="error-heatmap" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`);
  parts.push(`<title>${escapeXml(title)}</title>`);
  parts.push(`<rect width="${width}" height="${height}" fill="white"/>`);
  parts.push(`<text x="${left + gridW / 2}" y="20" text-anchor="middle" font-size="14">${escapeXml(title)}</text>`);
  const drawCell = (x: number, y: number, v: number | null, tip: string): void => {
    if (v === null || Number.isNaN(v)) {
      parts.push(`<rect x="${x}" y="${y}" width="${cell}" height="${cell}" fill="#eeeeee" stroke="white"/>`);
      return;
    }
    const good = 100 - v;
    parts.push(`<rect x="${x}" y="${y}" width="${cell}" height="${cell}" fill="${accuracyColor(good)}" stroke="white"><title>${escapeXml(tip)}: ${fmt(v)}%</title></rect>`);
    parts.push(`<text x="${x + cell / 2}" y="${y + cell / 2 + 4}" text-anchor="middle" fill="${good > 60 ? "black" : "white"}" font-size="${small ? 8 : 11}">${small ? Math.round(v) : v.toFixed(1)}</text>`);
  };
  rows.forEach((r, i) => {
    const y = top + i * cell;
    r.values.forEach((v, j) => drawCell(left + j * cell, y, v, `${r.label}, ${names[j] ?? j}`));
    const done = r.values.filter((v): v is number => v !== null && !Number.isNaN(v));
    drawCell(left + cols * cell + 4, y, done.length === r.values.length && done.length > 0 ? done.reduce((a, b) => a + b, 0) / done.length : null, `${r.label}, mean`);
    parts.push(`<text x="${left - 6}" y="${y + cell / 2 + 4}" text-anchor="end">${escapeXml(r.label)}</text>`);
  });
  [...names.slice(0, cols), "mean"].forEach((n, j) => {
    const x = left + j * cell + cell / 2 + (j === cols ? 4 : 0);
    parts.push(`<text transform="translate(${fmt(x + 4)},${top - 6}) rotate(-60)" text-anchor="start" font-size="10">${escapeXml(n)}</text>`);
  });
  parts.push(`<text x="${left + gridW / 2}" y="${top + gridH + 30}" text-anchor="middle">${escapeXml(options.columnAxis ?? "domain (online order)")}</text>`);
  parts.push(`<text transform="translate(14,${top + gridH / 2}) rotate(-90)" text-anchor="middle">${escapeXml(options.rowAxis ?? "adapter")}</text>`);
  parts.push(`</svg>`);
  return parts.join("\n");
}

export interface ErrorBarSeries {
  label: string;
  /** Points in x order: the mean and its ± std error bar (std 0 or missing: no bar). */
  points: readonly { x: number; mean: number; std?: number }[];
}

export interface ErrorBarOptions {
  id?: string;
  title?: string;
  xLabel?: string;
  yLabel?: string;
  /** Logarithmic x axis (default: when every x is positive and they span a factor of 10 or more). */
  logX?: boolean;
}

/** A metric (percent) against a numeric hyper-parameter: mean lines with ± std error bars per series (sweeps). */
export function errorBarSvg(series: readonly ErrorBarSeries[], options: ErrorBarOptions = {}): string {
  const xs = series.flatMap((s) => s.points.map((p) => p.x));
  const positive = xs.length > 0 && xs.every((x) => x > 0);
  const logX = options.logX ?? (positive && Math.max(...xs) / Math.min(...xs) >= 10);
  const tx = (x: number): number => (logX ? Math.log10(x) : x);
  const lo = xs.length ? Math.min(...xs.map(tx)) : 0;
  const hi = xs.length ? Math.max(...xs.map(tx)) : 1;
  const width = 640;
  const legendRows = Math.min(series.length, 12);
  const top = 40;
  const plotH = 250;
  const height = top + plotH + 50 + legendRows * 16 + 10;
  const left = 60;
  const plotW = width - left - 30;
  const xOf = (x: number): number => left + (hi === lo ? plotW / 2 : ((tx(x) - lo) / (hi - lo)) * plotW * 0.9 + plotW * 0.05);
  const yOf = (v: number): number => top + plotH - (Math.min(100, Math.max(0, v)) / 100) * plotH;
  const title = options.title ?? "mean ± std over seeds";
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" id="${escapeXml(options.id ?? "error-bars")}" class="error-bars" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<title>${escapeXml(title)}</title>`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${left + plotW / 2}" y="20" text-anchor="middle" font-size="14">${escapeXml(title)}</text>`,
  ];
  for (const v of [0, 25, 50, 75, 100]) {
    parts.push(`<line x1="${left}" x2="${left + plotW}" y1="${fmt(yOf(v))}" y2="${fmt(yOf(v))}" stroke="#dddddd"/>`);
    parts.push(`<text x="${left - 6}" y="${fmt(yOf(v) + 4)}" text-anchor="end">${v}</text>`);
  }
  for (const x of [...new Set(xs)].sort((a, b) => a - b)) parts.push(`<text x="${fmt(xOf(x))}" y="${top + plotH + 16}" text-anchor="middle">${escapeXml(String(x))}</text>`);
  parts.push(`<line x1="${left}" x2="${left + plotW}" y1="${top + plotH}" y2="${top + plotH}" stroke="black"/>`);
  parts.push(`<line x1="${left}" x2="${left}" y1="${top}" y2="${top + plotH}" stroke="black"/>`);
  parts.push(`<text x="${left + plotW / 2}" y="${top + plotH + 34}" text-anchor="middle">${escapeXml((options.xLabel ?? "x") + (logX ? " (log scale)" : ""))}</text>`);
  parts.push(`<text transform="translate(18,${top + plotH / 2}) rotate(-90)" text-anchor="middle">${escapeXml(options.yLabel ?? "%")}</text>`);
  series.forEach((s, k) => {
    const colour = SERIES[k % SERIES.length] as string;
    const pts = [...s.points].sort((a, b) => a.x - b.x);
    if (pts.length === 0) return;
    parts.push(
      `<polyline class="series" data-label="${escapeXml(s.label)}" data-values="${pts.map((p) => `${p.x}:${p.mean}±${p.std ?? 0}`).join(" ")}" fill="none" stroke="${colour}" stroke-width="2" points="${pts.map((p) => `${fmt(xOf(p.x))},${fmt(yOf(p.mean))}`).join(" ")}"/>`,
    );
    for (const p of pts) {
      const x = fmt(xOf(p.x));
      if (p.std && p.std > 0) {
        const y1 = fmt(yOf(p.mean - p.std));
        const y2 = fmt(yOf(p.mean + p.std));
        parts.push(`<line class="error-bar" x1="${x}" x2="${x}" y1="${y1}" y2="${y2}" stroke="${colour}"/>`);
        for (const y of [y1, y2]) parts.push(`<line x1="${fmt(xOf(p.x) - 4)}" x2="${fmt(xOf(p.x) + 4)}" y1="${y}" y2="${y}" stroke="${colour}"/>`);
      }
      parts.push(`<circle cx="${x}" cy="${fmt(yOf(p.mean))}" r="3" fill="${colour}"/>`);
    }
  });
  series.slice(0, legendRows).forEach((s, k) => {
    const y = top + plotH + 52 + k * 16;
    const colour = SERIES[k % SERIES.length] as string;
    parts.push(`<line x1="${left}" x2="${left + 20}" y1="${y}" y2="${y}" stroke="${colour}" stroke-width="2"/>`);
    parts.push(`<text x="${left + 26}" y="${y + 4}">${escapeXml(s.label.length > 90 ? `${s.label.slice(0, 87)}...` : s.label)}</text>`);
  });
  if (series.length > legendRows) parts.push(`<text x="${left}" y="${height - 4}">(${series.length - legendRows} more not in the legend)</text>`);
  parts.push(`</svg>`);
  return parts.join("\n");
}
