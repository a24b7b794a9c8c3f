import { createHash } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { create } from "tar";
import { DataError } from "@mnemo/core/errors";
import { loadCifar10 } from "../src/datasets/cifar.js";
import { buildStream } from "../src/streams/build.js";
import { streamConfigSchema } from "../src/streams/schema.js";
import { formatTaskSizes } from "../src/streams/task-stream.js";
import { generateCifarRecords, writeCifar10Folder } from "../src/testing/generators.js";
import { caught, tempDir } from "./helpers.js";

// A small CIFAR-10 release in the official layout, served by a local HTTP server as a mirror.
let server: Server;
let mirror: string;
let archive: Buffer;
let md5: string;
const requests: string[] = [];

beforeAll(async () => {
  const src = tempDir();
  writeCifar10Folder(src, 6, 10, 7);
  const file = join(tempDir(), "cifar-10-binary.tar.gz");
  await create({ gzip: true, file, cwd: src }, ["cifar-10-batches-bin"]);
  archive = readFileSync(file);
  md5 = createHash("md5").update(archive).digest("hex");
  server = createServer((req, res) => {
    requests.push(req.url ?? "");
    if (req.url !== "/datasets/cifar-10-binary.tar.gz") {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "content-length": archive.length });
    res.end(archive);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  mirror = `http://127.0.0.1:${(server.address() as AddressInfo).port}/datasets`;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
});
afterEach(() => {
  requests.length = 0;
  delete process.env.MNEMO_DOWNLOAD;
});

describe("dataset download (local HTTP mirror on 127.0.0.1)", () => {
  it("downloads by default, verifies the md5, caches the archive and loads it", async () => {
    const dir = tempDir();
    const progress: number[] = [];
    const d = await loadCifar10({ dataDir: dir, mirror, checksums: { "cifar-10-binary.tar.gz": md5 }, onProgress: (p) => progress.push(p.receivedBytes) });
    expect(requests).toEqual(["/datasets/cifar-10-binary.tar.gz"]);
    expect(progress.at(-1)).toBe(archive.length);
    expect(readFileSync(join(dir, "cifar-10-binary.tar.gz")).equals(archive)).toBe(true);
    expect(d.train.count).toBe(30);
    expect(d.test.count).toBe(10);
    // The second load reads the cached copy: no request.
    await loadCifar10({ dataDir: dir, mirror, checksums: { "cifar-10-binary.tar.gz": md5 } });
    expect(requests).toHaveLength(1);
  });

  it("a copy that does not match the checksum is not kept", async () => {
    const dir = tempDir();
    const err = await caught(() => loadCifar10({ dataDir: dir, mirror, onProgress: () => undefined }));
    expect(err).toBeInstanceOf(DataError);
    expect(err.message).toContain("expected c32a1d4ab5d03f1284b67883e8d87530"); // the official md5
    expect(existsSync(join(dir, "cifar-10-binary.tar.gz"))).toBe(false);
  });

  it("download: false forbids the network, and says so", async () => {
    const err = await caught(() => loadCifar10({ dataDir: tempDir(), mirror, download: false }));
    expect(err.message).toContain("download is disabled (download: false)");
    expect(err.message).toContain("cifar-10-binary.tar.gz");
    expect(requests).toEqual([]);
  });

  it("MNEMO_DOWNLOAD=0 forbids it too; the option wins over the variable", async () => {
    process.env.MNEMO_DOWNLOAD = "0";
    const err = await caught(() => loadCifar10({ dataDir: tempDir(), mirror }));
    expect(err.message).toContain("download is disabled (MNEMO_DOWNLOAD=0)");
    expect(requests).toEqual([]);
    const d = await loadCifar10({ dataDir: tempDir(), mirror, download: true, checksums: { "cifar-10-binary.tar.gz": md5 }, onProgress: () => undefined });
    expect(d.test.count).toBe(10);
  });

  it("buildStream passes download and mirror through to the loader", async () => {
    const s = await buildStream(streamConfigSchema.parse({ kind: "class-incremental", dataset: { name: "cifar10" }, increment: 5, order: "dataset" }), {
      seed: 0,
      dataDir: tempDir(),
      mirror,
      checksums: { "cifar-10-binary.tar.gz": md5 },
      onProgress: () => undefined,
    });
    expect(requests).toEqual(["/datasets/cifar-10-binary.tar.gz"]);
    expect(s.numTasks).toBe(2);
  });
});

describe("incomplete data and sample counts", () => {
  it("an official file name with too few records is reported (warn) or refused (refuse)", async () => {
    const dir = tempDir();
    writeCifar10Folder(dir, 10_000 / 1000, 10, 3); // tiny batches under the official names
    // The case: a 1,000-record test_batch.bin.
    writeFileSync(join(dir, "cifar-10-batches-bin", "test_batch.bin"), generateCifarRecords(10, 1000, 5).bytes);
    const d = await loadCifar10({ dataDir: dir });
    expect(d.test.count).toBe(1000);
    const w = d.warnings ?? [];
    expect(w.find((m) => m.includes("test_batch.bin"))).toMatch(/test_batch\.bin: 1000 records, the official test_batch\.bin of cifar10 has 10000: incomplete/);
    expect(w.filter((m) => m.includes("data_batch_"))).toHaveLength(5);
    const err = await caught(() => loadCifar10({ dataDir: dir, incomplete: "refuse" }));
    expect(err).toBeInstanceOf(DataError);
    expect(err.message).toMatch(/records, the official .* has 10000/);
    expect(err.message).toContain("train_files/test_files");
  });

  it("a custom split (train_files/test_files) is not second-guessed", async () => {
    const dir = tempDir();
    writeCifar10Folder(dir, 4, 10, 3);
    const d = await loadCifar10({ dataDir: dir, trainFiles: ["data_batch_1.bin"], testFiles: ["test_batch.bin"] });
    expect(d.warnings).toBeUndefined();
  });

  it("the stream carries per-task train/validation/test counts and the warnings, before any task is loaded", async () => {
    const dir = tempDir();
    writeCifar10Folder(dir, 20, 40, 3);
    const s = await buildStream(
      streamConfigSchema.parse({ kind: "class-incremental", dataset: { name: "cifar10" }, increment: 5, order: "dataset", validation: { fraction: 0.2 } }),
      { seed: 0, dataDir: dir },
    );
    const total = s.taskSizes.reduce((a, t) => a + t.train + t.validation, 0);
    expect(total).toBe(100);
    expect(s.taskSizes.reduce((a, t) => a + t.test, 0)).toBe(40);
    const t0 = await s.task(0);
    expect(s.taskSizes[0]).toEqual({ train: t0.train.count, validation: t0.validation?.count ?? 0, test: t0.test.count });
    expect(formatTaskSizes(s.taskSizes)[0]).toBe(`task 0: ${t0.train.count} train / ${t0.validation?.count} validation / ${t0.test.count} test`);
    expect(s.warnings.length).toBe(6);
  });
});
