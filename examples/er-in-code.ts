/**
 * configs/cil-mnist-er.yaml built in TypeScript through @mnemo/experiment: the same config as an
 * object, the same experiment, the same run directory and MLflow run as `mnemo run` gives
 * (tests/e2e/examples.test.ts checks the accuracy matrix bit for bit).
 *
 *   node --import tsx examples/er-in-code.ts [--set key=value ...]
 */
import { buildExperiment, consoleReporter, experimentConfig, runBuiltExperiment, type RunOutcome } from "@mnemo/experiment";

/** Split-MNIST (5 tasks of 2 digits), 2 x 400 MLP, ER with a 500-sample reservoir, Adam 1e-3. */
export const cilMnistEr = {
  name: "cil-mnist-er",
  seed: 0,
  stream: { kind: "class-incremental", dataset: { name: "mnist" }, order: "dataset", increment: 2, validation: { per_class: 100 } },
  model: { backbone: "mlp", hidden: [400, 400], head: "expanding" },
  method: { name: "er", memory_size: 500 },
  training: { epochs: 1, batch_size: 128, lr: 0.001, optimizer: { name: "adam" } },
};

export async function runErInCode(overrides: string[] = [], print?: (line: string) => void): Promise<RunOutcome> {
  const loaded = experimentConfig(cilMnistEr, { overrides, source: "examples/er-in-code.ts" });
  const built = await buildExperiment(loaded, { quiet: print === undefined });
  return runBuiltExperiment(built, { observers: print ? [consoleReporter(print)] : [], log: print ?? (() => {}) });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const overrides = args.flatMap((a, i) => (args[i - 1] === "--set" ? [a] : []));
  const { summary } = await runErInCode(overrides, (l) => process.stdout.write(l + "\n"));
  process.stdout.write(`final average accuracy (task-macro) ${summary.finalAverageAccuracy.toFixed(2)}\n`);
}
