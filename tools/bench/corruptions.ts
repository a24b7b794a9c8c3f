/**
 * Benchmark: milliseconds per image of every corruption generator (MNIST-C on 28x28 grey MNIST
 * test images, CIFAR-10-C on 32x32 RGB synthetic images), and what a whole corrupted split costs.
 * Run: node --conditions=@mnemo/source --import tsx tools/bench/corruptions.ts [--images 200]
 * Writes tools/bench/results/corruptions.json (with the load average: the machine is shared).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { SeededRng } from "@mnemo/core/rng";
import { corruptionNames, getCorruption, type CorruptionBenchmark, type ImageShape } from "../../packages/data/src/corruptions/index.js";
import { loadMnist } from "../../packages/data/src/datasets/mnist.js";
import { syntheticImages } from "../../packages/data/src/datasets/synthetic.js";

const arg = process.argv.indexOf("--images");
const n = arg > 0 ? Number(process.argv[arg + 1]) : 200;
const mnist = await loadMnist({ download: false });
const rgb = syntheticImages({ numClasses: 10, shape: [32, 32, 3], trainPerClass: 1, testPerClass: Math.ceil(n / 10), noise: 20, seed: 0 });
const inputs: Record<CorruptionBenchmark, { images: Uint8Array; shape: ImageShape }> = {
  "mnist-c": { images: mnist.test.images.subarray(0, n * 784), shape: [28, 28, 1] },
  "cifar10-c": { images: rgb.test.images.subarray(0, n * 3072), shape: [32, 32, 3] },
};
const load0 = loadavg()[0] as number;
const rows: { benchmark: string; name: string; msPerImage: number; secondsPer10k: number }[] = [];
for (const benchmark of ["mnist-c", "cifar10-c"] as const) {
  const { images, shape } = inputs[benchmark];
  const count = images.length / (shape[0] * shape[1] * shape[2]);
  for (const name of corruptionNames(benchmark)) {
    const fn = getCorruption(benchmark, name);
    fn(images.subarray(0, shape[0] * shape[1] * shape[2]), shape, { rng: new SeededRng(0).stream("warm") });
    const t = performance.now();
    fn(images, shape, { rng: new SeededRng(0).stream(name) });
    const ms = (performance.now() - t) / count;
    rows.push({ benchmark, name, msPerImage: +ms.toFixed(4), secondsPer10k: +(ms * 10).toFixed(1) });
    console.log(`${benchmark.padEnd(10)} ${name.padEnd(18)} ${ms.toFixed(3).padStart(8)} ms/image  ${(ms * 10).toFixed(1).padStart(6)} s per 10k`);
  }
}
const load1 = loadavg()[0] as number;
console.log(`images per corruption: ${n}; load average ${load0.toFixed(1)} -> ${load1.toFixed(1)} on ${cpus().length} cores`);
const file = join(dirname(fileURLToPath(import.meta.url)), "results", "corruptions.json");
mkdirSync(dirname(file), { recursive: true });
writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), node: process.version, cores: cpus().length, loadAverage: [load0, load1], imagesPerCorruption: n, rows }, null, 2) + "\n");
console.log(`wrote ${file}`);
