/** Prints a run as it goes: a header, one table row per task, the matrix and the metrics at the end. */
import { validationSummary } from "@mnemo/core";
import { formatTaskSizes } from "@mnemo/data";
import { MNEMO_VERSION } from "./version.js";
import type { RunObserver } from "./run.js";
import { formatTable, pct } from "./table.js";

const HEADER = ["task", "classes", "train s", "eval s", "acc(task)", "A_t", "forgetting"];

export function consoleReporter(print: (line: string) => void = (l) => process.stdout.write(l + "\n")): RunObserver {
  const rows: (string | number)[][] = [];
  return {
    onRunStart({ built, dir, tracker }) {
      const { config, backend, stream } = built;
      print(`mnemo ${MNEMO_VERSION} | ${config.name} | seed ${config.seed} | backend ${backend.description} | stream ${stream.name} (${stream.numTasks} tasks, ${stream.numClasses} classes, hash ${stream.hash.slice(0, 12)})`);
      if (built.sampleCounts?.length) {
        print(`samples per task (train / validation / test):`);
        for (const line of formatTaskSizes(built.sampleCounts, built.taskNames)) print(`  ${line}`);
      }
      for (const w of built.dataWarnings ?? []) print(`warning: ${w}`);
      print(`run directory: ${dir}`);
      const at = tracker?.location?.();
      if (at) print(`MLflow: experiment "${built.config.name}"${at.experimentId ? ` (id ${at.experimentId})` : ""}, run ${at.runId} at ${at.uri}`);
      print("A_t: accuracy on the test samples of tasks 0..t (sample-weighted; the last row's A_t is the final ACC (sample-weighted))");
    },
    onTaskEnd({ taskIndex: i, row, result, seen, extra }) {
      rows.push([
        i,
        result.taskClasses[i]?.length ?? 0,
        (result.trainSeconds[i] ?? 0).toFixed(1),
        (result.evalSeconds[i] ?? 0).toFixed(1),
        pct(row[i]),
        pct(seen.accuracyCurve[i]),
        pct(seen.forgetting), // NaN (printed "-") after the first task
      ]);
      const table = formatTable(HEADER, rows);
      print(rows.length === 1 ? table : (table.split("\n").pop() as string));
      if (Object.keys(extra).length > 0) print(`  ${Object.entries(extra).map(([k, v]) => `${k} ${pct(v)}`).join(" | ")}`);
    },
    onRunEnd({ status, result, summary, dir, extras }) {
      if (status !== "FINISHED" || !result || !summary) return;
      print("");
      print("accuracy matrix R[i][j] (%): rows = trained through task i, columns = task j");
      print(formatTable(["", ...result.matrix.map((_, j) => `T${j}`)], result.matrix.map((r, i) => [`after T${i}`, ...r.map(pct)])));
      print("");
      // Each number under its definition's name (METRIC_DEFINITIONS in @mnemo/core), so nobody has to guess the variant.
      print(
        `final average accuracy = ACC (task-macro) ${pct(summary.accuracyTaskMacro)} | ACC (sample-weighted) ${pct(summary.accuracySampleWeighted)} | ` +
          `average incremental accuracy = AIA (iCaRL, sample-weighted) ${pct(summary.aiaSampleWeighted)} | AIA (task-macro) ${pct(summary.aiaTaskMacro)}`,
      );
      print(
        `BWT ${pct(summary.backwardTransfer)} | FWT ${summary.forwardTransfer === undefined ? "- (needs evaluation.future_tasks)" : pct(summary.forwardTransfer)} | ` +
          `forgetting (Chaudhry) ${pct(summary.forgetting)}`,
      );
      const val = result.validationMatrix && result.validationSizes ? validationSummary(result.validationMatrix, result.validationSizes) : undefined;
      print(
        val
          ? `validation (choose hyper-parameters on these, never on test): ACC (task-macro) ${pct(val.accTaskMacro)} | AIA (sample-weighted) ${pct(val.aiaSampleWeighted)}`
          : "validation: none (add stream.validation: { per_class: N } to choose hyper-parameters without touching test)",
      );
      const c = extras?.cost ?? {};
      const parts = [
        c.train_images_per_sec !== undefined ? `train ${c.train_images_per_sec.toFixed(0)} img/s` : undefined,
        c.eval_images_per_sec !== undefined ? `eval ${c.eval_images_per_sec.toFixed(0)} img/s` : undefined,
        c.train_cpu_seconds !== undefined ? `train CPU ${c.train_cpu_seconds.toFixed(1)} s` : undefined,
        c.peak_rss_bytes !== undefined ? `peak RSS ${mib(c.peak_rss_bytes)}` : undefined,
        c.wasm_heap_bytes !== undefined ? `wasm heap ${mib(c.wasm_heap_bytes)}` : undefined,
        c.param_count !== undefined ? `${(c.param_count / 1e6).toFixed(3)} M params` : undefined,
        c.forward_flops_per_image !== undefined ? `${(c.forward_flops_per_image / 1e6).toFixed(2)} MFLOPs/img` : undefined,
        c.buffer_bytes !== undefined ? `buffer ${mib(c.buffer_bytes)} (${c.buffer_bytes_per_sample?.toFixed(0) ?? "-"} B/sample)` : undefined,
      ].filter((p) => p !== undefined);
      if (parts.length > 0) print(`cost: ${parts.join(" | ")}`);
      print(`total train ${result.trainSeconds.reduce((a, b) => a + b, 0).toFixed(1)} s, eval ${result.evalSeconds.reduce((a, b) => a + b, 0).toFixed(1)} s -> ${dir}`);
    },
  };
}

function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}
