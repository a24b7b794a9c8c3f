/**
 * Regenerates docs/results.md (and docs/results.json) from tools/results/rows.yaml:
 *
 *   npm run results [-- --only id1,id2] [--seed N] [--rows tools/results/rows.yaml] [--runs runs/results] [--force] [--no-run]
 *
 * Each (row, seed) runs once through `runFromConfig` (exactly `mnemo run`); its metrics are kept in
 * <runs>/<row>/seed<N>.json, so an interrupted regeneration continues where it stopped and a row
 * whose runs exist is not run again (`--force` re-runs the selected rows). Every number is a mean ±
 * sample std over the row's seeds, under its definition's name; the machine, backend and date of
 * each row are recorded, so the table says which rows were run where.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, hostname } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import { runFromConfig } from "@mnemo/experiment";

export interface ResultRow {
  id: string;
  title: string;
  config: string;
  set: string[];
  seeds: number[];
  ci?: boolean;
  published?: { acc: number; spread?: string; source: string };
  /** How the row's hyper-parameters were chosen (validation, a paper's value, ...): printed under the table. */
  hyperparameters?: string;
}

export interface RowsFile {
  tolerance: number;
  rows: ResultRow[];
}

/** What one run leaves for the table. */
export interface SeedResult {
  seed: number;
  runDir: string;
  acc: number;
  accSampleWeighted: number;
  aia: number;
  forgetting: number | null;
  valAcc: number | null;
  trainSeconds: number;
  trainImagesPerSec: number | null;
  peakRssBytes: number | null;
  /** Wall seconds of the whole run (start to end in run.json: data, training, evaluation, FWT baseline). */
  wallSeconds?: number | null;
  bwt?: number | null;
  fwt?: number | null;
  bufferBytes?: number | null;
  paramCount?: number | null;
  /** Few-shot rows: the last session's base/novel accuracy, their harmonic mean, and the FSCIL average / performance drop. */
  fscil?: Record<string, number>;
  backend: string;
  machine: string;
  date: string;
}

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

export function loadRows(file = join(root, "tools/results/rows.yaml")): RowsFile {
  return parse(readFileSync(file, "utf8")) as RowsFile;
}

/** Runs one (row, seed) and returns what the table needs. */
export async function runRowSeed(row: ResultRow, seed: number, outDir: string, quiet = true): Promise<SeedResult> {
  const outcome = await runFromConfig({
    configFile: join(root, row.config),
    overrides: [...row.set, `seed=${seed}`, `output.dir=${outDir}`],
    quiet,
    log: () => {},
    handleSignals: false,
  });
  const metrics = JSON.parse(readFileSync(join(outcome.runDir, "metrics.json"), "utf8")) as {
    final: Record<string, number>;
    validation?: Record<string, number>;
    cost: Record<string, number>;
    perStep?: Record<string, number>[];
  };
  const run = JSON.parse(readFileSync(join(outcome.runDir, "run.json"), "utf8")) as { backend: string; startedAt?: string; endedAt?: string };
  const f = metrics.final;
  const last = metrics.perStep?.[metrics.perStep.length - 1] ?? {};
  // TEEN runs also report the uncalibrated prototypes on the same frozen backbone as `plain_*`.
  const fscilKeys = ["session_accuracy", "base_accuracy", "novel_accuracy", "harmonic_mean", "fscil_avg", "fscil_pd"].flatMap((k) => [k, `plain_${k}`]);
  const fscil = Object.fromEntries(fscilKeys.filter((k) => typeof last[k] === "number").map((k) => [k, last[k] as number]));
  const wall = run.startedAt && run.endedAt ? (Date.parse(run.endedAt) - Date.parse(run.startedAt)) / 1000 : null;
  return {
    seed,
    runDir: outcome.runDir,
    acc: f["acc_task_macro"] as number,
    accSampleWeighted: f["acc_sample_weighted"] as number,
    aia: f["aia_sample_weighted"] as number,
    forgetting: f["forgetting"] ?? null,
    valAcc: metrics.validation?.["acc_task_macro"] ?? null,
    trainSeconds: metrics.cost["train_seconds"] ?? 0,
    trainImagesPerSec: metrics.cost["train_images_per_sec"] ?? null,
    peakRssBytes: metrics.cost["peak_rss_bytes"] ?? null,
    wallSeconds: wall,
    bwt: f["bwt"] ?? null,
    fwt: f["fwt"] ?? null,
    bufferBytes: metrics.cost["buffer_bytes"] ?? null,
    paramCount: metrics.cost["param_count"] ?? null,
    ...(Object.keys(fscil).length > 0 ? { fscil } : {}),
    backend: run.backend,
    machine: `${hostname()} (${cpus().length} cores)`,
    date: new Date().toISOString().slice(0, 10),
  };
}

export function meanStd(xs: readonly number[]): { mean: number; std: number } {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const std = xs.length > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1)) : 0;
  return { mean, std };
}

const fmt = (xs: (number | null)[], digits = 1): string => {
  const v = xs.filter((x): x is number => x !== null && Number.isFinite(x));
  if (v.length === 0) return "–";
  const { mean, std } = meanStd(v);
  return v.length > 1 ? `${mean.toFixed(digits)} ± ${std.toFixed(digits)}` : mean.toFixed(digits);
};

const mib = (b: number | null | undefined): number | null => (b === null || b === undefined ? null : b / 2 ** 20);

/** "3 of 5" when a row has fewer results than rows.yaml asks for (a run cut short by time), else the seeds. */
function seedCell(row: ResultRow, rs: readonly SeedResult[]): string {
  const seeds = rs.map((r) => r.seed).join(", ");
  return rs.length < row.seeds.length ? `${seeds} (${rs.length} of ${row.seeds.length})` : seeds;
}

export function renderMarkdown(rows: readonly ResultRow[], results: ReadonlyMap<string, SeedResult[]>, tolerance: number): string {
  const lines = [
    "# Results",
    "",
    "Generated by `npm run results` from [tools/results/rows.yaml](../tools/results/rows.yaml): do not edit by hand.",
    "Every number is a mean ± sample std over the seeds listed, in percent, from the run's accuracy matrix",
    "through `@mnemo/core`'s metrics module: **ACC** = final accuracy, task-macro (GEM); **ACC sw** = the same,",
    "sample-weighted (PyCIL's `top1`); **AIA** = average incremental accuracy, sample-weighted (iCaRL);",
    "**F** = forgetting (Chaudhry); **FWT** = forward transfer against the random-init model (GEM). In class-incremental",
    "rows FWT carries no information about the method: before task i is trained no model predicts task i's classes",
    "(R[i-1][i] = 0), so FWT = -mean(b_i), the same for every method on the same seed (it is reported because it is defined);",
    "**val ACC** = ACC on the validation split (what to select on; never test).",
    "Cost: **wall s** = seconds from the run's start to its end (data, training, evaluation, FWT baseline),",
    "**img/s** = stream images trained per second of training, **peak RSS** = of the process that ran it (these rows ran one process per run: `--only <row> --seed <n>`),",
    "**buffer** = bytes held by the replay memory at the end. Timings come from a shared 2-core machine with",
    "other work on it (load average 4-58 while this table was made, with two runs at a time: the standard-protocol rows",
    "beside the others): noisy, and several times slower than an idle machine; compare cost columns only within one row.",
    "A seed count like `0, 1 (2 of 5)` would mean the row asks for 5 seeds and only these finished in the time there was.",
    "The runs went one seed at a time over every row (`npm run results -- --only <row> --seed <n>`, `nice -n 5`),",
    "then `npm run results -- --no-run` wrote this file from them; `npm run results` alone runs whatever is missing.",
    `Rows marked CI are re-run by \`tests/e2e/results-table.test.ts\`, which fails if their ACC moves by more than ${tolerance} pp.`,
    "",
    "| row | seeds | ACC | ACC sw | AIA | F | FWT | val ACC | published ACC | wall s / run | img/s | peak RSS (MiB) | buffer (KiB) |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
  ];
  const sources: string[] = [];
  const hyper: string[] = [];
  const fscil: string[] = [];
  const where = new Set<string>();
  for (const row of rows) {
    const rs = results.get(row.id) ?? [];
    if (rs.length === 0) continue;
    let published = "–";
    if (row.published) {
      sources.push(`${sources.length + 1}. ${row.title}: ${row.published.source}.`);
      published = `${row.published.acc.toFixed(2)} ${row.published.spread ?? ""} [${sources.length}]`.trim();
    }
    if (row.hyperparameters) hyper.push(`- ${row.title}: ${row.hyperparameters}`);
    for (const r of rs) where.add(`${r.machine}, ${r.backend}, ${r.date}`);
    const buffer = rs.map((r) => (r.bufferBytes === null || r.bufferBytes === undefined ? null : r.bufferBytes / 1024));
    lines.push(
      `| ${row.title}${row.ci ? " (CI)" : ""} | ${seedCell(row, rs)} | ${fmt(rs.map((r) => r.acc))} | ${fmt(rs.map((r) => r.accSampleWeighted))} | ` +
        `${fmt(rs.map((r) => r.aia))} | ${fmt(rs.map((r) => r.forgetting))} | ${fmt(rs.map((r) => r.fwt ?? null))} | ${fmt(rs.map((r) => r.valAcc))} | ${published} | ` +
        `${fmt(rs.map((r) => r.wallSeconds ?? null), 0)} | ${fmt(rs.map((r) => r.trainImagesPerSec), 0)} | ${fmt(rs.map((r) => mib(r.peakRssBytes)), 0)} | ${fmt(buffer, 0)} |`,
    );
    if (rs.some((r) => r.fscil)) {
      const line = (title: string, p: string): string => {
        const f = (k: string): string => fmt(rs.map((r) => r.fscil?.[`${p}${k}`] ?? null));
        return `| ${title} | ${seedCell(row, rs)} | ${f("session_accuracy")} | ${f("base_accuracy")} | ${f("novel_accuracy")} | ${f("harmonic_mean")} | ${f("fscil_avg")} | ${f("fscil_pd")} |`;
      };
      fscil.push(line(row.title, ""));
      if (rs.some((r) => r.fscil?.["plain_session_accuracy"] !== undefined)) fscil.push(line(`${row.title}: plain prototypes, same frozen backbone, no calibration`, "plain_"));
    }
  }
  if (fscil.length > 0) {
    lines.push(
      "",
      "Few-shot rows, last session: **session** = sample accuracy over all seen classes (A_t), **base** / **novel** = mean per-class",
      "accuracy over the base / the novel classes, **HM** = their harmonic mean, **AVG** = mean session accuracy, **PD** = first minus last session.",
      "",
      "| row | seeds | session | base | novel | HM | AVG | PD |",
      "|---|---|---|---|---|---|---|---|",
      ...fscil,
    );
  }
  lines.push("", "Configs and protocol: see each row's config in [configs/](../configs) and its overrides in rows.yaml.", "");
  const notRun = rows.filter((r) => (results.get(r.id) ?? []).length === 0);
  if (notRun.length > 0) lines.push(`Rows in rows.yaml with no finished run yet (not in the table): ${notRun.map((r) => `${r.title}${r.published ? ` (published ${r.published.acc.toFixed(2)})` : ""}`).join("; ")}.`, "");
  if (hyper.length > 0) lines.push("How each row's hyper-parameters were chosen (no sweep was run for this table; where a value was ever looked at on test data, it says so):", "", ...hyper, "");
  if (sources.length > 0) lines.push("Published numbers:", "", ...sources, "");
  lines.push("Where the rows ran: " + [...where].join("; ") + ".", "");
  return lines.join("\n");
}

function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<void> {
  const rowsFile = loadRows(argValue("rows") ? resolve(argValue("rows") as string) : undefined);
  const runsDir = resolve(argValue("runs") ?? join(root, "runs/results"));
  const only = argValue("only")?.split(",");
  const force = process.argv.includes("--force");
  // `--no-run` only rewrites the table from the runs already there (e.g. after a time-boxed driver stopped).
  const noRun = process.argv.includes("--no-run");
  // `--seed N` runs that seed only: a driver can go seed by seed over all rows, so a table cut
  // short by time has the same seeds in every row rather than 5 seeds of some rows and none of others.
  const seedOnly = argValue("seed") === undefined ? undefined : Number(argValue("seed"));
  const results = new Map<string, SeedResult[]>();
  for (const row of rowsFile.rows) {
    const selected = !only || only.includes(row.id);
    const list: SeedResult[] = [];
    for (const seed of row.seeds) {
      const cache = join(runsDir, row.id, `seed${seed}.json`);
      if (existsSync(cache) && !(force && selected)) {
        list.push(JSON.parse(readFileSync(cache, "utf8")) as SeedResult);
        continue;
      }
      if (noRun || !selected || (seedOnly !== undefined && seed !== seedOnly)) continue;
      process.stderr.write(`results: ${row.id} seed ${seed} ...\n`);
      const r = await runRowSeed(row, seed, join(runsDir, row.id, "runs"));
      mkdirSync(dirname(cache), { recursive: true });
      writeFileSync(cache, JSON.stringify(r, null, 2) + "\n");
      process.stderr.write(`results: ${row.id} seed ${seed}: ACC ${r.acc.toFixed(2)} (${r.trainSeconds.toFixed(0)} s)\n`);
      list.push(r);
    }
    results.set(row.id, list);
  }
  writeFileSync(join(root, "docs/results.md"), renderMarkdown(rowsFile.rows, results, rowsFile.tolerance));
  const json = Object.fromEntries([...results].map(([id, rs]) => [id, { seeds: rs.map((r) => r.seed), acc: meanStd(rs.map((r) => r.acc)), perSeed: rs.map((r) => r.acc) }]));
  writeFileSync(join(root, "docs/results.json"), JSON.stringify({ tolerance: rowsFile.tolerance, rows: json }, null, 2) + "\n");
  process.stderr.write(`results: wrote docs/results.md and docs/results.json\n`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err: unknown) => {
    process.stderr.write(`results: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
}
