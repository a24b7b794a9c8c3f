/**
 * The argument definitions of every command, kept apart from the commands so that `mnemo --help`
 * lists them without loading the libraries the commands need.
 */
import type { CommandSpec } from "./args.js";

const ENVIRONMENT = [
  "environment:",
  "  MNEMO_DATA_DIR       where datasets are read from / downloaded to (default ~/.cache/mnemo/datasets)",
  "  MNEMO_DOWNLOAD=0     never download a missing dataset (the run stops and says which file to put where)",
  "  MNEMO_BACKEND        auto | node-gpu | node | webgpu | wasm | cpu (overrides the config's backend:)",
  "  MLFLOW_TRACKING_URI  http(s)://server or a path (default ./mlruns)",
].join("\n");

export const runSpec: CommandSpec = {
  name: "run",
  summary: "run an experiment from a YAML config, or continue an interrupted one",
  forms: ["--resume <run-dir>"],
  positional: { name: "<config.yaml>", help: "the experiment config (see configs/ and `mnemo schema`)", min: 0, max: 1 },
  options: [
    { name: "--set", value: "key.path=value", repeatable: true, help: "override a config key, one argument per key (lists in brackets: model.hidden=[256,256])" },
    { name: "--resume", value: "<run-dir>", help: "continue the run in <run-dir> from its checkpoint, with its own config.yaml" },
    { name: "--offline", help: "never download a missing dataset (as data.download: false)" },
    { name: "--quiet", short: "-q", help: "no progress bars" },
  ],
  notes: [
    "writes <output.dir>/<name>/<timestamp>-seed<seed>/ (config, accuracy matrix, metrics, plots) and logs to MLflow.",
    ENVIRONMENT,
  ],
  examples: [
    "npx mnemo run configs/cil-mnist.yaml",
    "npx mnemo run configs/cil-mnist.yaml --set training.epochs=2 --set seed=1",
    "npx mnemo run --resume runs/split-mnist/2026-01-01_12-00-00-seed0",
  ],
};

export const sweepSpec: CommandSpec = {
  name: "sweep",
  summary: "a base config over axes (grid, list, random) x seeds; resumable, optionally parallel; then a mean ± std table",
  positional: { name: "<sweep.yaml>", help: "name, base (config path relative to the sweep file), seeds, grid / list / random, include / exclude, set", min: 1, max: 1 },
  options: [
    { name: "--workers", short: "-j", value: "<n|auto>", help: "run n trials at once, each in its own process (auto: cores / --threads); default: one after another in this process" },
    { name: "--threads", value: "<n>", help: "wasm threads per trial (default with --workers: cores / workers, so they never oversubscribe the cores)" },
    { name: "--set", value: "key.path=value", repeatable: true, help: "override a config key in every trial (after the sweep's set:)" },
    { name: "--dir", value: "<sweep-dir>", help: "the sweep directory (default: the sweep file's dir:, else runs/sweeps/<name>)" },
    { name: "--plan", help: "print the trials (id, point, seed, status) and exit without running" },
    { name: "--quiet", short: "-q", help: "no progress line, only the final table" },
  ],
  notes: [
    "the sweep directory is stable: rerunning the same command skips finished trials (by trial id, a hash of the resolved config),\n" +
      "resumes an interrupted trial from its checkpoint and runs the rest. Trials nest under one MLflow parent run per sweep;\n" +
      "the table is saved as summary.{json,csv,md,html}. Choose hyper-parameters on the validation columns, never on test.",
    ENVIRONMENT,
  ],
  examples: ["npx mnemo sweep configs/sweeps/cil-mnist-lr.yaml", "npx mnemo sweep configs/sweeps/cil-mnist-lr.yaml --workers 2"],
};

export const schemaSpec: CommandSpec = {
  name: "schema",
  summary: "print the run config schema (JSON Schema, every key with its default and description)",
  options: [],
  examples: ["npx mnemo schema > mnemo.schema.json"],
};

export const syncSpec: CommandSpec = {
  name: "sync",
  summary: "deliver a run's tracking journal to MLflow, closing a run whose process died",
  positional: { name: "<run-dir>", help: "a run directory whose journal holds what its destination has not acknowledged", min: 1, max: 1 },
  options: [{ name: "--uri", value: "<tracking-uri>", help: "MLflow server or path to send to (default: MLFLOW_TRACKING_URI, else the one the run recorded)" }],
  notes: [
    "delivers what the run directory's tracking journal holds and its destination (MLflow server or local file store)\n" +
      "has not acknowledged. A run whose process died is closed: FAILED with a mnemo.failure tag (npx mnemo run --resume\n" +
      "continues it), or FINISHED if it had finished training.",
    "exit codes: 0 everything sent, 1 some left or refused, 2 usage error.",
  ],
  examples: ["npx mnemo sync runs/split-mnist/2026-01-01_12-00-00-seed0"],
};

export const reportSpec: CommandSpec = {
  name: "report",
  summary: "an HTML page comparing runs (config differences, mean ± std over seeds, curves, heatmaps)",
  positional: { name: "<run-dir>", help: "run directories (or a sweep directory)", min: 1, max: Infinity },
  options: [{ name: "--out", short: "-o", value: "<report.html>", help: "where to write the page (default report.html)" }],
  examples: ["npx mnemo report runs/split-mnist/* --out report.html"],
};

/** In the order `mnemo --help` lists them. */
export const COMMAND_SPECS: readonly CommandSpec[] = [runSpec, sweepSpec, reportSpec, syncSpec, schemaSpec];
