/**
 * Benchmark: load CIFAR-100 train (50k) + test (10k) from a local extracted copy.
 * The file is generated in the exact binary format at the real size (no real CIFAR here).
 * Run: node --import tsx tools/bench/load-cifar.ts
 * Budget (issue 4): < 3 s and < 400 MB RSS on the 2-core dev machine.
 */
import { mkdirSync, mkdtempSync, openSync, writeSync, closeSync, rmSync, writeFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { cpus, loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
// The loader module directly: the package index also pulls in tfjs (augmentation), ~100 MB of
// RSS that a training process pays anyway and that says nothing about the loader.
import { loadCifar100 } from "../../packages/data/src/datasets/cifar.js";
import { generateCifarRecords } from "../../packages/data/src/testing/generators.js";

/** Write `count` records in blocks so generation itself stays small in memory. */
function writeRecords(file: string, count: number, seed: number): void {
  const fd = openSync(file, "w");
  const block = 1000;
  try {
    for (let done = 0; done < count; done += block) {
      const n = Math.min(block, count - done);
      writeSync(fd, generateCifarRecords(100, n, seed + done, 100, "pattern").bytes);
    }
  } finally {
    closeSync(fd);
  }
}

/** Child mode: one load in a fresh process, so RSS reflects the loader alone. */
async function child(dir: string): Promise<void> {
  const rssBefore = process.memoryUsage().rss;
  const t0 = performance.now();
  const d = await loadCifar100({ dataDir: dir });
  const seconds = (performance.now() - t0) / 1000;
  if (d.train.count !== 50_000 || d.test.count !== 10_000) throw new Error(`unexpected counts ${d.train.count}/${d.test.count}`);
  const maxRss = process.resourceUsage().maxRSS * 1024;
  process.stdout.write(JSON.stringify({ seconds, rssBefore, maxRss }));
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "mnemo-bench-cifar-"));
  try {
    mkdirSync(join(dir, "cifar-100-binary"));
    writeRecords(join(dir, "cifar-100-binary", "train.bin"), 50_000, 1);
    writeRecords(join(dir, "cifar-100-binary", "test.bin"), 10_000, 2);
    const self = fileURLToPath(import.meta.url);
    const runs: { seconds: number; rssBefore: number; maxRss: number }[] = [];
    for (let r = 0; r < 3; r++) {
      const out = execFileSync(process.execPath, ["--import", "tsx", self, "--child", dir], { encoding: "utf8" });
      runs.push(JSON.parse(out) as { seconds: number; rssBefore: number; maxRss: number });
    }
    const secs = runs.map((r) => r.seconds);
    const maxRss = Math.max(...runs.map((r) => r.maxRss));
    const median = [...secs].sort((a, b) => a - b)[1] as number;
    const result = {
      benchmark: "load-cifar100-train+test-from-extracted-folder",
      images: { train: 50_000, test: 10_000 },
      fileBytes: { train: 50_000 * 3074, test: 10_000 * 3074 },
      secondsPerLoad: secs.map((s) => Number(s.toFixed(3))),
      medianSeconds: Number(median.toFixed(3)),
      processRssBeforeLoadMB: Math.round((runs[0] as { rssBefore: number }).rssBefore / 1e6),
      maxRssMB: Math.round(maxRss / 1e6),
      budget: { seconds: 3, rssMB: 400 },
      withinBudget: median < 3 && maxRss < 400e6,
      machine: { cpus: cpus().length, loadavg1m: Number((loadavg()[0] as number).toFixed(2)), node: process.version },
      date: new Date().toISOString(),
    };
    console.log(JSON.stringify(result, null, 2));
    const file = join(dirname(self), "results", "load-cifar.json");
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const childAt = process.argv.indexOf("--child");
if (childAt >= 0) await child(process.argv[childAt + 1] as string);
else await main();
