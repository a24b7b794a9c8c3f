/**
 * Where a training step and an eval forward spend their time, per wasm kernel (convolutions
 * split by shape), for one of the benchmark's networks at batch 64.
 *
 *   node --import tsx tools/bench/profile-kernels.ts [--model resnet20|resnet32|reduced-resnet18|conv4] [--threads 1|2]
 *
 * Kernel times come from tf.profile (wall time around each synchronous wasm kernel), so they
 * add up to a little less than the step's wall time. `MNEMO_WINOGRAD=0` shows the XNNPACK path.
 */
import * as tf from "@tensorflow/tfjs";
import { RandomStream, treeKeys, type ParamTree } from "@mnemo/core";
import { keepTree } from "@mnemo/core/tf";
import { prepareWasm } from "../../packages/kernels/src/index.js";
import { createBackbone } from "../../packages/models/src/backbones/index.js";

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

const MODELS = ["conv4", "resnet20", "resnet32", "reduced-resnet18"] as const;
const model = arg("model", "resnet20") as (typeof MODELS)[number];
if (!MODELS.includes(model)) throw new Error(`--model must be one of ${MODELS.join(", ")}, got ${model}`);
await prepareWasm({ threads: Number(arg("threads", "2")) });
await tf.setBackend("wasm");
tf.enableProdMode();

// As in throughput.ts: the CIFAR ResNets with 1x1-conv shortcuts, like their PyTorch twins.
const bb = model === "resnet20" || model === "resnet32" ? createBackbone(model, { shortcut: "conv" }) : createBackbone(model);
const rng = new RandomStream(1);
const { params, state } = bb.init(rng, 100);
const x = tf.tensor4d(rng.fillNormal(new Float32Array(64 * 32 * 32 * 3)), [64, 32, 32, 3]);
const y = tf.oneHot(tf.tensor1d(Array.from({ length: 64 }, () => rng.int(100)), "int32"), 100);
const keys = treeKeys(params);

const trainStep = (): void => {
  const { value, grads } = tf.valueAndGrads((...ts: tf.Tensor[]) => {
    const p: ParamTree = Object.fromEntries(keys.map((k, i) => [k, ts[i] as tf.Tensor]));
    const out = bb.apply(p, x, { training: true, state });
    tf.dispose(Object.values(keepTree(out.state ?? {})));
    return tf.losses.softmaxCrossEntropy(y, out.logits) as tf.Scalar;
  })(keys.map((k) => params[k] as tf.Tensor));
  tf.dispose([value, ...grads]);
};
const forward = (): void => tf.tidy(() => bb.apply(params, x, { training: false, state }).logits).dispose();

for (const [name, fn] of [["training step", trainStep], ["eval forward", forward]] as const) {
  for (let i = 0; i < 3; i++) fn();
  const byKernel = new Map<string, number>();
  const rounds = 5;
  let wall = 0;
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    const info = await tf.profile(() => fn());
    wall += performance.now() - t0;
    for (const k of info.kernels) {
      // The op-level "fusedConv2d__op" wraps the FusedConv2D kernel: count the kernel only.
      if (k.name.endsWith("__op")) continue;
      const shapes = k.name.includes("Conv") ? ` ${k.inputShapes.map((s) => JSON.stringify(s)).join(" ")}` : "";
      byKernel.set(k.name + shapes, (byKernel.get(k.name + shapes) ?? 0) + (k.kernelTimeMs as number));
    }
  }
  const rows = [...byKernel.entries()].sort((a, b) => b[1] - a[1]);
  const total = rows.reduce((a, [, v]) => a + v, 0) / rounds;
  console.log(`\n${model} ${name}: ${(wall / rounds).toFixed(1)} ms wall, ${total.toFixed(1)} ms in kernels (batch 64)`);
  for (const [k, v] of rows.slice(0, 20)) console.log(`${(v / rounds).toFixed(2).padStart(8)} ms ${((100 * v) / rounds / total).toFixed(1).padStart(5)} %  ${k}`);
}
process.exit(0);
