/**
 * The page's runs in Node, through the same `runSplitMnist` on the same backend: what the e2e test
 * compares the page's matrices with, and a way to see them without a browser:
 *   node --conditions=@mnemo/source --import tsx examples/browser/scripts/run-node.ts [wasm|cpu]
 * One wasm thread, as the page has without cross-origin isolation (XNNPACK's results do not
 * depend on the thread count, but the comparison should not rest on that).
 */
import { selectBackend } from "@mnemo/runtime";
import { DEFAULT_RUNS, type BrowserRunConfig } from "../src/config.js";
import { runSplitMnist, type RunOutput } from "../src/experiment.js";
import { decodeSubset } from "../src/subset.js";
import { makeSubset } from "./make-subset.js";

export async function runInNode(
  backend: "wasm" | "cpu",
  subsetBytes?: Uint8Array,
  runs: readonly BrowserRunConfig[] = DEFAULT_RUNS,
): Promise<{ backend: string; outputs: RunOutput[] }> {
  const info = await selectBackend({ backend, threads: 1, env: {} });
  const data = decodeSubset(subsetBytes ?? (await makeSubset()));
  const outputs: RunOutput[] = [];
  for (const config of runs) outputs.push(await runSplitMnist({ ...config, backend }, data));
  return { backend: info.description, outputs };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const backend = (process.argv[2] ?? "wasm") as "wasm" | "cpu";
  const { backend: description, outputs } = await runInNode(backend);
  console.log(`backend: ${description}`);
  for (const o of outputs)
    console.log(
      `${o.config.name}: ACC ${o.metrics["acc_task_macro"]?.toFixed(1)}, BWT ${o.metrics["bwt"]?.toFixed(1)}\n  R = ${JSON.stringify(o.matrix)}\n  parameters sha256 ${o.paramsSha256}`,
    );
}
