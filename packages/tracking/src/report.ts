import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { configDiff, groupRuns, isSweepDir, meanStd, readSweepDir, sweepPoints, type MeanStd, type RunGroup, type SweepContents } from "./compare.js";
import { readRunDir, type RunDirContents } from "./run-dir.js";
import { accuracyCurvesSvg, accuracyHeatmapSvg, accuracyOverlaySvg, escapeXml } from "./svg.js";

const td = (s: string, cls?: string): string => `<td${cls ? ` class="${cls}"` : ""}>${escapeXml(s)}</td>`;
const th = (s: string): string => `<th>${escapeXml(s)}</th>`;

function formatMetric(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(4).replace(/0+$/, "").replace(/\.$/, "");
}

function formatMeanStd(m: MeanStd | undefined): string {
  if (!m || m.n === 0) return "";
  return m.n > 1 ? `${m.mean.toFixed(2)} ± ${m.std.toFixed(2)}` : `${m.mean.toFixed(2)} (1 run)`;
}

function table(id: string, head: string[], rows: string[][], numericFrom: number): string {
  const body = rows.map((r) => `<tr>${r.map((c, j) => td(c, j >= numericFrom ? "num" : undefined)).join("")}</tr>`).join("\n");
  return `<table id="${id}">\n<thead><tr>${head.map(th).join("")}</tr></thead>\n<tbody>\n${body}\n</tbody>\n</table>`;
}

function groupTable(id: string, groups: readonly RunGroup[], lead: { head: string[]; cells: (g: RunGroup, k: number) => string[] }): string {
  const metricKeys = [...new Set(groups.flatMap((g) => Object.keys(g.metrics)))].sort();
  const head = [...lead.head, "runs", "seeds", ...metricKeys.map((k) => `${k} (mean ± std)`)];
  const rows = groups.map((g, k) => [...lead.cells(g, k), String(g.members.length), g.seeds.join(", "), ...metricKeys.map((m) => formatMeanStd(g.metrics[m]))]);
  return table(id, head, rows, lead.head.length);
}

/** Mean validation ACC (task-macro) of a group, when every member has a validation split. */
function validationOf(sweep: SweepContents, group: RunGroup): MeanStd | undefined {
  const vals = group.members.map((i) => sweep.runs[i]?.metrics?.validation?.["acc_task_macro"]);
  return vals.length > 0 && vals.every((v): v is number => typeof v === "number" && Number.isFinite(v)) ? meanStd(vals) : undefined;
}

function sweepSection(sweep: SweepContents, k: number): string {
  // Best validation ACC first, as `mnemo sweep` ranks: the test columns are for reading, never for ordering.
  const points = sweepPoints(sweep)
    .map((p, i) => ({ ...p, i, val: validationOf(sweep, p.group) }))
    .sort((a, b) => (a.val && b.val ? b.val.mean - a.val.mean || a.i - b.i : a.val ? -1 : b.val ? 1 : a.i - b.i));
  const ranked = points.filter((p) => p.val).length;
  const keys = sweep.gridKeys;
  const overlay = accuracyOverlaySvg(
    points.map((p) => ({ label: keys.map((key) => `${key}=${p.point[key]}`).join(", ") || p.group.label, mean: p.group.curve.map((c) => c?.mean ?? null), std: p.group.curve.map((c) => c?.std ?? null) })),
    { id: `sweep-overlay-${k}`, title: `sweep ${sweep.name}: A_t per grid point, mean ± std over seeds` },
  );
  const note =
    ranked > 0
      ? `Ranked by validation ACC (task-macro), mean over seeds${ranked < points.length ? `; ${points.length - ranked} point(s) without a validation split are listed unranked` : ""}. The other columns are test numbers: read them, do not choose by them.`
      : "Not ranked: no run has a validation split (stream.validation). These are test-set numbers: do not choose hyper-parameters by them.";
  return `<section id="sweep-${k}" class="sweep"><h2>Sweep ${escapeXml(sweep.name)}</h2>
<p class="meta">${escapeXml(sweep.dir)}: ${sweep.runs.length} runs, ${points.length} grid points. ${note}</p>
${groupTable(`sweep-table-${k}`, points.map((p) => p.group), {
  head: ["rank (val)", ...keys, "val ACC (task-macro)"],
  cells: (_g, i) => [points[i]!.val ? String(i + 1) : "–", ...keys.map((key) => points[i]!.point[key] ?? ""), formatMeanStd(points[i]!.val)],
})}
${overlay}</section>`;
}

const MIB = 2 ** 20;

/** The cost columns (metrics.json `cost`, written by @mnemo/experiment): label and how to show the value. */
const COST_COLUMNS: readonly [key: string, label: string, show: (v: number) => string][] = [
  ["train_images_per_sec", "train img/s", (v) => v.toFixed(0)],
  ["eval_images_per_sec", "eval img/s", (v) => v.toFixed(0)],
  ["train_seconds", "train s", (v) => v.toFixed(1)],
  ["train_cpu_seconds", "train CPU s", (v) => v.toFixed(1)],
  ["peak_rss_bytes", "peak RSS (MiB)", (v) => (v / MIB).toFixed(0)],
  ["wasm_heap_bytes", "wasm heap (MiB)", (v) => (v / MIB).toFixed(0)],
  ["buffer_bytes", "buffer (MiB)", (v) => (v / MIB).toFixed(2)],
  ["buffer_bytes_per_sample", "buffer B/sample", (v) => v.toFixed(0)],
  ["param_count", "params (M)", (v) => (v / 1e6).toFixed(3)],
  ["forward_flops_per_image", "MFLOPs/img", (v) => (v / 1e6).toFixed(2)],
];

function costTable(runs: readonly RunDirContents[]): string {
  const withCost = runs.filter((r) => r.metrics?.cost);
  if (withCost.length === 0) return "<p>No run recorded its cost (runs from before cost tracking).</p>";
  // A run without a cost record keeps its row, marked, so a comparison cannot silently lose it.
  const rows = runs.map((r) =>
    r.metrics?.cost
      ? [
          r.run.runName,
          r.run.backend,
          ...COST_COLUMNS.map(([key, , show]) => {
            const v = r.metrics?.cost?.[key];
            return v === undefined || !Number.isFinite(v) ? "" : show(v);
          }),
        ]
      : [r.run.runName, r.run.backend, "not recorded", ...COST_COLUMNS.slice(1).map(() => "")],
  );
  return table("cost", ["run", "backend", ...COST_COLUMNS.map(([, label]) => label)], rows, 2);
}

/**
 * An HTML page comparing runs: the config keys that differ between them, mean ± std over seeds
 * for every group of runs that differ only in the seed, their A_t curves overlaid, one section
 * per sweep, then each run's final metrics and plots.
 */
export function renderReport(runsIn: RunDirContents[], sweeps: SweepContents[] = []): string {
  // A run given directly and also found in a sweep is shown once.
  const seen = new Set<string>();
  const runs = [...runsIn, ...sweeps.flatMap((s) => s.runs)].filter((r) => {
    const key = resolve(r.dir);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  const metricKeys = [...new Set(runs.flatMap((r) => Object.keys(r.metrics?.final ?? {})))].sort();
  const head = ["run", "experiment", "status", "seed", "backend", ...metricKeys];
  const rows = runs.map((r) => [
    r.run.runName,
    r.run.experiment,
    r.run.status,
    String(r.run.seed),
    r.run.backend,
    ...metricKeys.map((k) => {
      const v = r.metrics?.final[k];
      return v === undefined ? "" : formatMetric(v);
    }),
  ]);

  const diff = configDiff(runs.map((r) => r.config));
  const diffHtml =
    runs.length < 2
      ? ""
      : diff.keys.length === 0
        ? `<p id="config-diff">All ${runs.length} runs have the same config.</p>`
        : table("config-diff", ["run", ...diff.keys], runs.map((r, i) => [r.run.runName, ...(diff.values[i] ?? [])]), 1);
  const commonHtml = Object.keys(diff.common).length
    ? `<details><summary>${Object.keys(diff.common).length} config key${Object.keys(diff.common).length === 1 ? "" : "s"} shared by every run</summary>${table("config-common", ["key", "value"], Object.entries(diff.common), 2)}</details>`
    : "";

  const groups = groupRuns(runs);
  const groupsHtml = groupTable("group-summary", groups, { head: ["group (config without the seed)"], cells: (g) => [g.label] });
  const overlay = accuracyOverlaySvg(groups.map((g) => ({ label: `${g.label} (${g.members.length} run${g.members.length === 1 ? "" : "s"})`, mean: g.curve.map((c) => c?.mean ?? null), std: g.curve.map((c) => c?.std ?? null) })));

  const sections = runs
    .map((r, k) => {
      const plots = r.accuracy
        ? `<div class="plots">${accuracyHeatmapSvg(r.accuracy.matrix, { id: `accuracy-heatmap-${k}` })}${accuracyCurvesSvg(r.accuracy.matrix, { id: `accuracy-curves-${k}`, testSizes: r.accuracy.testSizes })}</div>`
        : `<p>No accuracy_matrix.json in ${escapeXml(r.dir)}.</p>`;
      const differs = diff.keys.map((key, j) => `${key}=${diff.values[k]?.[j] ?? ""}`).join(", ");
      const meta = [r.run.experiment, `seed ${r.run.seed}`, r.run.status, differs, r.dir].filter((s) => s.length > 0).join(" · ");
      return `<section id="run-${k}"><h2>${escapeXml(r.run.runName)}</h2><p class="meta">${escapeXml(meta)}</p>${plots}</section>`;
    })
    .join("\n");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Mnemo report</title>
<style>
body { font-family: sans-serif; margin: 2em; }
table { border-collapse: collapse; margin: 0.5em 0 1em; }
th, td { border: 1px solid #ccc; padding: 4px 8px; }
th { background: #f4f4f4; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.meta { color: #555; margin-top: -0.5em; }
.plots { display: flex; flex-wrap: wrap; gap: 1em; align-items: flex-start; }
</style>
</head>
<body>
<h1>Mnemo report</h1>
<p class="meta">${runs.length} run${runs.length === 1 ? "" : "s"} in ${groups.length} group${groups.length === 1 ? "" : "s"} (runs whose configs differ only in the seed form a group).</p>
<h2>Config differences</h2>
${diffHtml || "<p>One run: nothing to compare.</p>"}
${commonHtml}
<h2>Mean ± std over seeds</h2>
${groupsHtml}
${overlay}
${sweeps.map((s, k) => sweepSection(s, k)).join("\n")}
<h2>Final metrics per run</h2>
${table("final-metrics", head, rows, 5)}
<h2>Cost per run</h2>
${costTable(runs)}
${sections}
</body>
</html>
`;
}

/**
 * Reads each directory (a run directory, or a sweep directory written by `mnemo sweep`, whose
 * runs are all included) and writes the comparison page to `outFile`; returns its absolute path.
 */
export function writeReport(dirs: string[], outFile: string): string {
  const sweeps = dirs.filter((d) => isSweepDir(d)).map((d) => readSweepDir(d));
  const runs = dirs.filter((d) => !isSweepDir(d)).map((d) => readRunDir(d));
  const out = resolve(outFile);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, renderReport(runs, sweeps));
  return out;
}
