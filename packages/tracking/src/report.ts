import { mkdirSync, writeFileSync } from "node:fs";
import { basename, dirname, resolve } from "node:path";
import { readRunDir, type RunDirContents } from "./run-dir.js";
import { accuracyCurvesSvg, accuracyHeatmapSvg, escapeXml } from "./svg.js";

/** Renders an HTML page comparing runs: a table of final metrics, then each run's plots. */
export function renderReport(runs: RunDirContents[]): string {
  const metricKeys = [...new Set(runs.flatMap((r) => Object.keys(r.metrics?.final ?? {})))].sort();
  const head = ["run", "experiment", "status", "seed", "backend", ...metricKeys].map((h) => `<th>${escapeXml(h)}</th>`).join("");
  const rows = runs
    .map((r) => {
      const cells = [r.run.runName, r.run.experiment, r.run.status, String(r.run.seed), r.run.backend].map((c) => `<td>${escapeXml(String(c))}</td>`);
      for (const k of metricKeys) {
        const v = r.metrics?.final[k];
        cells.push(`<td class="num">${v === undefined ? "" : escapeXml(formatMetric(v))}</td>`);
      }
      return `<tr>${cells.join("")}</tr>`;
    })
    .join("\n");
  const sections = runs
    .map((r, k) => {
      const plots = r.accuracy
        ? `<div class="plots">${accuracyHeatmapSvg(r.accuracy.matrix, { id: `accuracy-heatmap-${k}` })}${accuracyCurvesSvg(r.accuracy.matrix, { id: `accuracy-curves-${k}` })}</div>`
        : `<p>No accuracy_matrix.json in ${escapeXml(r.dir)}.</p>`;
      return `<section id="run-${k}"><h2>${escapeXml(r.run.runName)} <small>(${escapeXml(basename(r.dir))})</small></h2>${plots}</section>`;
    })
    .join("\n");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Mnemo report</title>
<style>
body { font-family: sans-serif; margin: 2em; }
table { border-collapse: collapse; }
th, td { border: 1px solid #ccc; padding: 4px 8px; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.plots { display: flex; flex-wrap: wrap; gap: 1em; align-items: flex-start; }
</style>
</head>
<body>
<h1>Mnemo report</h1>
<table id="final-metrics">
<thead><tr>${head}</tr></thead>
<tbody>
${rows}
</tbody>
</table>
${sections}
</body>
</html>
`;
}

function formatMetric(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(4).replace(/0+$/, "").replace(/\.$/, "");
}

/** Reads each run directory and writes the comparison page to `outFile`; returns its absolute path. */
export function writeReport(runDirs: string[], outFile: string): string {
  const runs = runDirs.map((d) => readRunDir(d));
  const out = resolve(outFile);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, renderReport(runs));
  return out;
}
