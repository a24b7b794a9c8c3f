/**
 * Diagnostic for docs/self-training.md (not a benchmark, not a method): runs a self-training config
 * with the plugin's pseudo-labels replaced by the hidden true labels after every labelling round
 * (same selection, same schedule, same loss), from the evaluation side of the runner. If the oracle
 * run still ends below labelled-only training, the harm is not confirmation bias (wrong labels) but
 * the extra current-task data itself.
 *
 *   node --conditions=@mnemo/source --import tsx tools/bench/ssl-oracle-labels.ts configs/ssl-mnist-tsim.yaml [--set k=v ...]
 */
import { MemoryTracker } from "@mnemo/core";
import { unlabelledTruth } from "@mnemo/data";
import { buildExperiment, loadExperimentConfig, runBuiltExperiment } from "@mnemo/experiment";
import { SelfTrainingPlugin } from "@mnemo/selftraining";

const [file, ...rest] = process.argv.slice(2);
if (!file) throw new Error("usage: ssl-oracle-labels.ts <config.yaml> [--set key=value ...]");
const overrides = rest.filter((a, i) => rest[i - 1] === "--set");
const built = await buildExperiment(loadExperimentConfig(file, { overrides }), { quiet: true, log: () => {} });
const stream = built.stream;
type Internals = { labellingRound(event: { task: { index: number } }): void; plIndex: Int32Array; plLabel: Int32Array };
const proto = SelfTrainingPlugin.prototype as unknown as Internals;
const original = proto.labellingRound;
let wrong = 0;
let total = 0;
proto.labellingRound = function (this: Internals, event) {
  original.call(this, event);
  const truth = unlabelledTruth(stream, event.task.index);
  const fixed = Int32Array.from(this.plIndex, (i) => truth[i] as number);
  fixed.forEach((y, r) => (wrong += y === this.plLabel[r] ? 0 : 1));
  total += fixed.length;
  this.plLabel = fixed;
};
const result = await runBuiltExperiment(built, { tracker: new MemoryTracker(), handleSignals: false, log: () => {} });
const final = result.result.matrix[result.result.matrix.length - 1] as number[];
console.log(JSON.stringify({ overrides, corrected: wrong, of: total, runDir: result.runDir, finalRow: final }));
