/**
 * Datasets reach a run: `data.download` (default on, `download: false` / `--offline` /
 * MNEMO_DOWNLOAD=0 forbid it) goes to the loaders, which fetch a small CIFAR-10 release in the
 * official archive format from a local HTTP server; an official file with too few records is
 * refused unless `data.incomplete: warn`; the run header prints the samples per task.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { DataError, MemoryTracker } from "@mnemo/core";
import { consoleReporter, runFromConfig, type RunFromConfigArgs } from "@mnemo/experiment";
import { generateCifarRecords, writeCifar10Archive, writeCifar10Folder } from "../../data/src/testing/generators.js";

const temp = (p: string) => mkdtempSync(join(tmpdir(), p));
let server: Server;
let mirror: string;
let md5: string;
const requests: string[] = [];

beforeAll(async () => {
  const file = join(temp("mnemo-mirror-"), "cifar-10-binary.tar.gz");
  md5 = await writeCifar10Archive(file, 12, 20, 4); // 60 train and 20 test images, 10 classes, official file names
  const archive = readFileSync(file);
  server = createServer((req, res) => {
    requests.push(req.url ?? "");
    if (req.url !== "/cifar/cifar-10-binary.tar.gz") return void res.writeHead(404).end();
    res.writeHead(200, { "content-length": archive.length }).end(archive);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  mirror = `http://127.0.0.1:${(server.address() as AddressInfo).port}/cifar`;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
});
afterEach(() => {
  requests.length = 0;
  delete process.env.MNEMO_DOWNLOAD;
});

function configFile(extra = ""): string {
  const dir = temp("mnemo-data-run-");
  const file = join(dir, "cifar10-tiny.yaml");
  writeFileSync(
    file,
    `name: cifar10-tiny
stream:
  kind: class-incremental
  dataset: { name: cifar10 }
  order: dataset
  increment: 5
  validation: { per_class: 2 }
model: { backbone: mlp, hidden: [16] }
training: { epochs: 1, batch_size: 16, max_steps_per_task: 2 }
output: { dir: ${join(dir, "runs")} }
${extra}`,
  );
  return file;
}

async function run(file: string, args: Partial<RunFromConfigArgs> = {}) {
  const lines: string[] = [];
  const outcome = await runFromConfig({
    configFile: file,
    quiet: true,
    log: () => {},
    tracker: new MemoryTracker(),
    handleSignals: false,
    observers: [consoleReporter((l) => lines.push(l))],
    ...args,
  });
  return { outcome, lines };
}

async function failure(f: () => Promise<unknown>): Promise<Error> {
  try {
    await f();
  } catch (err) {
    return err as Error;
  }
  throw new Error("expected the run to fail");
}

describe("data.download", () => {
  it("is on by default: the run downloads the archive from the server, checks it and trains on it", async () => {
    const dataDir = temp("mnemo-data-dir-");
    const { outcome, lines } = await run(configFile("data: { incomplete: warn }\n"), { dataDir, mirror, checksums: { "cifar-10-binary.tar.gz": md5 } });
    expect(requests).toEqual(["/cifar/cifar-10-binary.tar.gz"]);
    expect(existsSync(join(dataDir, "cifar-10-binary.tar.gz"))).toBe(true);
    expect(outcome.result.matrix).toHaveLength(2);
    // A finished run keeps its results, not its checkpoint (output.keep_checkpoint: false).
    expect(existsSync(join(outcome.runDir, "checkpoint"))).toBe(false);
    expect(existsSync(join(outcome.runDir, "metrics.json"))).toBe(true);
    // 6 train images per class, 2 of them carved for validation; 2 test images per class; 5 classes per task.
    // 60 train images (2 per class carved for validation) and 20 test images over 2 tasks of 5 classes.
    const counts = lines.filter((l) => /^ {2}task \d: /.test(l)).map((l) => (/^ {2}task (\d): (\d+) train \/ (\d+) validation \/ (\d+) test$/.exec(l) ?? []).slice(1).map(Number));
    expect(counts.map((c) => c[0])).toEqual([0, 1]);
    expect(counts.map((c) => c[2])).toEqual([10, 10]);
    expect(counts.reduce((a, c) => a + (c[1] as number) + (c[2] as number), 0)).toBe(60);
    expect(counts.reduce((a, c) => a + (c[3] as number), 0)).toBe(20);
    expect(counts.map((c) => c[3])).toEqual(outcome.result.testSizes);
    expect(lines.some((l) => /^warning: .*test_batch\.bin: 20 records, the official test_batch\.bin of cifar10 has 10000/.test(l))).toBe(true);
  });

  it("download: false never touches the network and says which switch forbade it", async () => {
    const err = await failure(() => run(configFile("data: { download: false }\n"), { dataDir: temp("mnemo-data-dir-"), mirror }));
    expect(err).toBeInstanceOf(DataError);
    expect(err.message).toContain("cifar-10-binary.tar.gz not found");
    expect(err.message).toContain("download is disabled (download: false)");
    expect(requests).toEqual([]);
  });

  it("mnemo run --offline (download: false from the caller) wins over the config", async () => {
    const err = await failure(() => run(configFile("data: { download: true }\n"), { dataDir: temp("mnemo-data-dir-"), mirror, download: false }));
    expect(err.message).toContain("download is disabled");
    expect(requests).toEqual([]);
  });

  it("MNEMO_DOWNLOAD=0 forbids it when the config says nothing", async () => {
    process.env.MNEMO_DOWNLOAD = "0";
    const err = await failure(() => run(configFile(), { dataDir: temp("mnemo-data-dir-"), mirror }));
    expect(err.message).toContain("download is disabled (MNEMO_DOWNLOAD=0)");
    expect(requests).toEqual([]);
  });
});

describe("data.incomplete", () => {
  function dataDirWithShortTestBatch(): string {
    const dir = temp("mnemo-incomplete-");
    writeCifar10Folder(dir, 10, 10, 3);
    // The case: a 1,000-record test_batch.bin under the official name.
    writeFileSync(join(dir, "cifar-10-batches-bin", "test_batch.bin"), generateCifarRecords(10, 1000, 5).bytes);
    return dir;
  }

  it("refuses an official file with fewer records than the release by default", async () => {
    const err = await failure(() => run(configFile(), { dataDir: dataDirWithShortTestBatch(), download: false }));
    expect(err).toBeInstanceOf(DataError);
    // The generated train batches are short too; the first short file found is named.
    expect(err.message).toMatch(/\.bin: \d+ records, the official \w+\.bin of cifar10 has 10000: incomplete/);
    expect(err.message).toContain("Or run on it anyway with data.incomplete: warn");
  });

  it("incomplete: warn runs on it and prints the warning in the run header", async () => {
    const { lines } = await run(configFile("data: { incomplete: warn }\n"), { dataDir: dataDirWithShortTestBatch(), download: false });
    expect(lines.some((l) => l.startsWith("warning: ") && l.includes("test_batch.bin: 1000 records"))).toBe(true);
    expect(lines.findIndex((l) => l.startsWith("samples per task"))).toBeGreaterThan(0);
  });
});
