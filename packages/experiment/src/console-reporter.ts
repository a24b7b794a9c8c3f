/** Prints a run as it goes: a header, one table row per task, the matrix and the metrics at the end. */
import { MNEMO_VERSION } from "./version.js";
import type { RunObserver } from "./run.js";
import { formatTable, pct } from "./table.js";

const HEADER = ["task", "classes", "train s", "eval s", "acc(task)", "A_t", "forgetting"];

export function consoleReporter(print: (line: string) => void = (l) => process.stdout.write(l + "\n")): RunObserver {
  const rows: (string | number)[][] = [];
  return {
    onRunStart({ built, dir }) {
      const { config, backend, stream } = built;
      print(`mnemo ${MNEMO_VERSION} | ${config.name} | seed ${config.seed} | backend ${backend.description} | stream ${stream.name} (${stream.numTasks} tasks, ${stream.numClasses} classes, hash ${stream.hash.slice(0, 12)})`);
      print(`run directory: ${dir}`);
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
    onRunEnd({ status, result, summary, dir }) {
      if (status !== "FINISHED" || !result || !summary) return;
      print("");
      print("accuracy matrix R[i][j] (%): rows = trained through task i, columns = task j");
      print(formatTable(["", ...result.matrix.map((_, j) => `T${j}`)], result.matrix.map((r, i) => [`after T${i}`, ...r.map(pct)])));
      print("");
      print(`final average accuracy ${pct(summary.finalAverageAccuracy)} | average incremental accuracy ${pct(summary.averageIncrementalAccuracy)} | BWT ${pct(summary.backwardTransfer)} | forgetting ${pct(summary.forgetting)}`);
      print(`total train ${result.trainSeconds.reduce((a, b) => a + b, 0).toFixed(1)} s, eval ${result.evalSeconds.reduce((a, b) => a + b, 0).toFixed(1)} s -> ${dir}`);
    },
  };
}
