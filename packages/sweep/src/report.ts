/**
 * A sweep's summary as files: summary.json (also what `mnemo report` and tracking's readSweepDir
 * read), summary.csv, summary.md and summary.html (the table and, per numeric axis, test and
 * validation ACC against it with ± std error bars over seeds). All from summarizeSweepDir.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { formatTable } from "@mnemo/experiment";
import { errorBarSvg, escapeXml, writeFileAtomic, type ErrorBarSeries } from "@mnemo/tracking";
import type { SweepValue } from "./spec.js";
import { summarizeSweepDir, type MeanStd, type PointRow, type SweepDirSummary } from "./summary.js";

const value = (v: SweepValue | undefined): string => (v === undefined ? "" : typeof v === "string" ? v : JSON.stringify(v));
const ms = (v: MeanStd | null, digits = 2): string => (v === null || v.n === 0 ? "–" : `${v.mean.toFixed(digits)} ± ${v.std.toFixed(digits)}`);

/** Column headers: rank, axis keys, trials, then the metrics named by their definition. */
export function summaryHeader(keys: readonly string[]): string[] {
  return ["rank (val)", ...keys, "trials", "val ACC (task-macro)", "test ACC (task-macro)", "test AIA (sample-weighted)", "forgetting", "wall s"];
}

function rowCells(s: PointRow, keys: readonly string[]): string[] {
  return [
    s.rank === null ? "–" : String(s.rank),
    ...keys.map((k) => value(s.point[k])),
    s.runs === s.planned ? String(s.runs) : `${s.runs}/${s.planned}`,
    ms(s.val_acc_task_macro),
    ms(s.acc_task_macro),
    ms(s.aia_sample_weighted),
    ms(s.forgetting),
    ms(s.wall_seconds, 1),
  ];
}

/** The terminal table. */
export function formatSweepTable(summary: SweepDirSummary): string {
  return formatTable(summaryHeader(summary.keys), summary.points.map((s) => rowCells(s, summary.keys)));
}

const csvCell = (v: string | number): string => {
  const s = String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

/** One row per point: the axis values, then mean and std of each metric in separate columns (full precision). */
export function sweepSummaryCsv(summary: SweepDirSummary): string {
  const metrics = ["val_acc_task_macro", "acc_task_macro", "aia_sample_weighted", "forgetting", "wall_seconds"] as const;
  const header = ["rank", ...summary.keys, "trials", "planned", ...metrics.flatMap((m) => [`${m}_mean`, `${m}_std`])];
  const rows = summary.points.map((s): (string | number)[] => [
    s.rank ?? "",
    ...summary.keys.map((k) => value(s.point[k])),
    s.runs,
    s.planned,
    ...metrics.flatMap((m): (string | number)[] => {
      const v = s[m];
      return v === null || v.n === 0 ? ["", ""] : [v.mean, v.std];
    }),
  ]);
  return [header, ...rows].map((r) => r.map(csvCell).join(",")).join("\n") + "\n";
}

export function sweepSummaryMarkdown(summary: SweepDirSummary): string {
  const header = summaryHeader(summary.keys);
  const md = (cells: string[]): string => `| ${cells.map((c) => c.replace(/\|/g, "\\|")).join(" | ")} |`;
  return [
    `# Sweep ${summary.name}`,
    "",
    `${summary.counts.finished} of ${summary.counts.planned} trials finished; mean ± std over seeds, percent (wall time in seconds). ${summary.note}.`,
    "",
    md(header),
    md(header.map(() => "---")),
    ...summary.points.map((s) => md(rowCells(s, summary.keys))),
    "",
  ].join("\n");
}

/** Per numeric axis key: ACC (test, and validation when every point has it) against it, one series per setting of the other keys. */
export function sweepPlots(summary: SweepDirSummary): { key: string; metric: string; svg: string }[] {
  const out: { key: string; metric: string; svg: string }[] = [];
  const rows = [...summary.points].filter((s) => s.runs > 0).sort((a, b) => a.index - b.index);
  for (const key of summary.keys) {
    const xs = rows.map((r) => r.point[key]);
    if (!xs.every((x) => typeof x === "number") || new Set(xs).size < 2) continue;
    const others = summary.keys.filter((k) => k !== key);
    const groups = new Map<string, PointRow[]>();
    for (const r of rows) {
      const label = others.map((k) => `${k}=${value(r.point[k])}`).join(", ") || "all";
      groups.set(label, [...(groups.get(label) ?? []), r]);
    }
    const metrics: { metric: string; pick: (r: PointRow) => MeanStd | null; label: string }[] = [
      { metric: "acc_task_macro", pick: (r) => r.acc_task_macro, label: "test ACC (task-macro, %)" },
    ];
    if (rows.every((r) => r.val_acc_task_macro !== null)) metrics.unshift({ metric: "val_acc_task_macro", pick: (r) => r.val_acc_task_macro, label: "validation ACC (task-macro, %)" });
    for (const m of metrics) {
      const series: ErrorBarSeries[] = [...groups].map(([label, members]) => ({
        label,
        points: members.map((r) => ({ x: r.point[key] as number, mean: (m.pick(r) as MeanStd).mean, std: (m.pick(r) as MeanStd).std })),
      }));
      out.push({ key, metric: m.metric, svg: errorBarSvg(series, { id: `${m.metric}-vs-${key}`, title: `${m.label} vs ${key}, mean ± std over seeds`, xLabel: key, yLabel: m.label }) });
    }
  }
  return out;
}

export function sweepSummaryHtml(summary: SweepDirSummary): string {
  const header = summaryHeader(summary.keys);
  const table = [
    "<table>",
    `<tr>${header.map((h) => `<th>${escapeXml(h)}</th>`).join("")}</tr>`,
    ...summary.points.map((s) => `<tr>${rowCells(s, summary.keys).map((c) => `<td>${escapeXml(c)}</td>`).join("")}</tr>`),
    "</table>",
  ].join("\n");
  const plots = sweepPlots(summary).map((p) => `<figure>${p.svg}</figure>`);
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>Sweep ${escapeXml(summary.name)}</title>
<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}th{background:#f4f4f4}figure{display:inline-block;margin:1em}</style>
</head><body>
<h1>Sweep ${escapeXml(summary.name)}</h1>
<p>${summary.counts.finished} of ${summary.counts.planned} trials finished${summary.counts.failed ? `, ${summary.counts.failed} failed` : ""}${summary.counts.pruned ? `, ${summary.counts.pruned} pruned` : ""}. Mean ± std over seeds, percent; wall time in seconds (training + evaluation). ${escapeXml(summary.note)}.</p>
${table}
${plots.join("\n")}
</body></html>
`;
}

/** Writes summary.json, .csv, .md and .html into the sweep directory; returns the summary. */
export function writeSweepSummary(dir: string): SweepDirSummary {
  const summary = summarizeSweepDir(dir);
  const json = {
    name: summary.name,
    keys: summary.keys,
    rankedBy: summary.rankedBy,
    note: summary.note,
    counts: summary.counts,
    // `runs` is what tracking's readSweepDir (mnemo report) reads: the finished trials' run directories.
    runs: summary.trials.map((t) => ({ trialId: t.id, point: summary.points.find((p) => p.index === t.pointIndex)?.point, seed: t.seed, runDir: t.result.runDir })),
    summary: summary.points.map(({ trialIds, ...rest }) => ({ ...rest, trialIds })),
  };
  writeFileAtomic(join(dir, "summary.json"), JSON.stringify(json, null, 2) + "\n");
  writeFileSync(join(dir, "summary.csv"), sweepSummaryCsv(summary));
  writeFileSync(join(dir, "summary.md"), sweepSummaryMarkdown(summary));
  writeFileSync(join(dir, "summary.html"), sweepSummaryHtml(summary));
  return summary;
}
