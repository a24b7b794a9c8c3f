/**
 * The 3×3 stride-1 convolutions of a CIFAR ResNet at batch 64, three ways each (forward, input
 * gradient, filter gradient): XNNPACK / im2col+GEMM (`X`) against Winograd F(4,3) (`W`).
 * Best of 5 rounds of 5 calls, in ms.
 *
 *   node --import tsx tools/bench/conv3x3.ts
 */
import * as tf from "@tensorflow/tfjs";
import { prepareWasm } from "../../packages/kernels/src/index.js";
import { setWinogradEnabled } from "../../packages/kernels/src/kernels/conv2d-winograd.js";

await prepareWasm({ threads: 2 });
await tf.setBackend("wasm");
tf.enableProdMode();

function best(fn: () => tf.Tensor): number {
  let ms = Infinity;
  for (let r = 0; r < 5; r++) {
    const t0 = performance.now();
    for (let i = 0; i < 5; i++) fn().dispose();
    ms = Math.min(ms, (performance.now() - t0) / 5);
  }
  return ms;
}

console.log("layer          path  forward  input-grad  filter-grad  (ms)");
for (const [h, c] of [[32, 16], [16, 32], [8, 64]] as const) {
  const x = tf.randomNormal([64, h, h, c]) as tf.Tensor4D;
  const f = tf.randomNormal([3, 3, c, c]) as tf.Tensor4D;
  const dy = tf.randomNormal([64, h, h, c]) as tf.Tensor4D;
  for (const wino of [false, true]) {
    setWinogradEnabled(wino);
    const fwd = best(() => tf.conv2d(x, f, 1, "same"));
    const dx = best(() => tf.conv2dTranspose(dy, f, [64, h, h, c], 1, "same"));
    const dw = best(
      () => tf.engine().runKernel("Conv2DBackpropFilter", { x, dy }, { strides: 1, pad: "same", dataFormat: "NHWC", filterShape: [3, 3, c, c] }) as tf.Tensor,
    );
    const name = `${h}x${h}x${c}`.padEnd(14);
    console.log(`${name} ${wino ? "W" : "X"}    ${fwd.toFixed(2).padStart(7)}  ${dx.toFixed(2).padStart(10)}  ${dw.toFixed(2).padStart(11)}`);
  }
  tf.dispose([x, f, dy]);
}
process.exit(0);
