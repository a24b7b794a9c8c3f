/**
 * NMC prediction benchmark: 10k query samples × 100 classes × 64-d features (issue 7, target < 100 ms).
 * Run: node --import tsx tools/bench/nmc-predict.ts [--repeats 21]
 * Times `NearestMeanClassifier.predict` (all three metrics; Float32 and ml-matrix inputs) and, as the
 * alternative we measured against, ml-matrix `mmul` + argmax on the same expanded-distance form.
 * Writes tools/bench/results/nmc-predict.json.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Matrix } from "ml-matrix";
import { SeededRng } from "@mnemo/core";
import { NearestMeanClassifier, toMatrix, type DenseMatrix, type Metric } from "@mnemo/prototypes";

const N = 10_000;
const C = 100;
const D = 64;
const argRepeats = process.argv.indexOf("--repeats");
const REPEATS = argRepeats > 0 ? Number(process.argv[argRepeats + 1]) : 21;
const WARMUP = 3;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function time(fn: () => unknown): { medianMs: number; minMs: number; maxMs: number } {
  for (let i = 0; i < WARMUP; i++) fn();
  const ts: number[] = [];
  for (let i = 0; i < REPEATS; i++) {
    const t0 = performance.now();
    fn();
    ts.push(performance.now() - t0);
  }
  return { medianMs: median(ts), minMs: Math.min(...ts), maxMs: Math.max(...ts) };
}

const rng = new SeededRng(7).stream("bench-nmc");
const centers = new Float64Array(C * D).map(() => rng.normal(0, 3));
function sample(rows: number): { x: DenseMatrix & { data: Float32Array }; y: Int32Array } {
  const x = new Float32Array(rows * D);
  const y = new Int32Array(rows);
  for (let i = 0; i < rows; i++) {
    const c = i % C;
    y[i] = c;
    for (let j = 0; j < D; j++) x[i * D + j] = centers[c * D + j] + rng.normal();
  }
  return { x: { data: x, rows, cols: D }, y };
}
const train = sample(5_000);
const query = sample(N);
const queryMatrix = toMatrix(query.x);

const results: Record<string, { medianMs: number; minMs: number; maxMs: number; accuracy?: number }> = {};
for (const metric of ["sqeuclidean", "euclidean", "cosine"] as Metric[]) {
  const nmc = new NearestMeanClassifier({ metric });
  nmc.update(train.x, train.y);
  let pred = nmc.predict(query.x);
  const r = time(() => (pred = nmc.predict(query.x)));
  const acc = pred.reduce((a, p, i) => a + (p === query.y[i] ? 1 : 0), 0) / N;
  results[`nmc.predict float32 ${metric}`] = { ...r, accuracy: acc };
}
{
  const nmc = new NearestMeanClassifier();
  nmc.update(train.x, train.y);
  results["nmc.predict ml-matrix input sqeuclidean"] = time(() => nmc.predict(queryMatrix));
}
{
  // Alternative: ml-matrix mmul for x·Mᵀ, then argmin of ‖μ‖² − 2x·μ (normalised features, as the NMC default).
  const nmc = new NearestMeanClassifier();
  nmc.update(train.x, train.y);
  const { means } = nmc.prototypes();
  const mt = means.transpose();
  const mu2 = means.to2DArray().map((r) => r.reduce((a, v) => a + v * v, 0));
  results["ml-matrix mmul + argmin (for comparison)"] = time(() => {
    const xn = queryMatrix.clone();
    for (let i = 0; i < N; i++) {
      const n = xn.getRow(i).reduce((a, v) => a + v * v, 0);
      xn.mulRow(i, 1 / Math.sqrt(n));
    }
    const s: Matrix = xn.mmul(mt);
    const out = new Int32Array(N);
    for (let i = 0; i < N; i++) {
      let best = Infinity;
      for (let c = 0; c < C; c++) {
        const v = mu2[c] - 2 * s.get(i, c);
        if (v < best) {
          best = v;
          out[i] = c;
        }
      }
    }
    return out;
  });
}

const headline = results["nmc.predict float32 sqeuclidean"].medianMs;
const report = {
  benchmark: "nmc-predict",
  shape: { samples: N, classes: C, dim: D },
  repeats: REPEATS,
  warmup: WARMUP,
  targetMs: 100,
  medianMs: headline,
  pass: headline < 100,
  results,
  node: process.version,
  platform: `${process.platform}-${process.arch}`,
  date: new Date().toISOString(),
};
for (const [k, v] of Object.entries(results)) {
  console.log(`${k.padEnd(44)} median ${v.medianMs.toFixed(1)} ms (min ${v.minMs.toFixed(1)}, max ${v.maxMs.toFixed(1)})${v.accuracy !== undefined ? ` acc ${v.accuracy.toFixed(3)}` : ""}`);
}
console.log(`NMC predict 10k × 100 × 64: median ${headline.toFixed(1)} ms (target < 100 ms): ${report.pass ? "PASS" : "FAIL"}`);
const out = join(dirname(fileURLToPath(import.meta.url)), "results", "nmc-predict.json");
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, JSON.stringify(report, null, 2) + "\n");
console.log(`wrote ${out}`);
