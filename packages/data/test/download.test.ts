import { createHash } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { DataError } from "@mnemo/core/errors";
import { downloadFile } from "../src/datasets/download.js";
import { caught, tempDir } from "./helpers.js";

const payload = Buffer.from(Array.from({ length: 100_000 }, (_, i) => (i * 13) % 256));
const md5 = createHash("md5").update(payload).digest("hex");
let server: Server | undefined;
const ranges: (string | undefined)[] = [];

/** A tiny HTTP server that honours Range, like the CIFAR host. */
async function serve(body: Buffer): Promise<string> {
  server = createServer((req, res) => {
    ranges.push(req.headers.range);
    const m = /bytes=(\d+)-/.exec(req.headers.range ?? "");
    if (m) {
      const start = Number(m[1]);
      res.writeHead(206, { "content-length": body.length - start, "content-range": `bytes ${start}-${body.length - 1}/${body.length}` });
      res.end(body.subarray(start));
    } else {
      res.writeHead(200, { "content-length": body.length });
      res.end(body);
    }
  });
  await new Promise<void>((r) => (server as Server).listen(0, "127.0.0.1", r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/file.bin`;
}

afterEach(async () => {
  ranges.length = 0;
  if (server) await new Promise((r) => (server as Server).close(r));
  server = undefined;
});

describe("downloadFile", () => {
  it("resumes a .part with a Range request and verifies the md5", async () => {
    const url = await serve(payload);
    const dest = join(tempDir(), "file.bin");
    writeFileSync(`${dest}.part`, payload.subarray(0, 40_000));
    const seen: number[] = [];
    await downloadFile({ url, dest, md5, connectTimeoutMs: 2000, hint: "", onProgress: (p) => seen.push(p.receivedBytes) });
    expect(ranges).toEqual(["bytes=40000-"]);
    expect(readFileSync(dest).equals(payload)).toBe(true);
    expect(existsSync(`${dest}.part`)).toBe(false);
    expect(seen.at(-1)).toBe(100_000);
  });

  it("caches nothing when the md5 does not match", async () => {
    const url = await serve(payload);
    const dest = join(tempDir(), "file.bin");
    const err = await caught(() => downloadFile({ url, dest, md5: "0".repeat(32), connectTimeoutMs: 2000, hint: "HINT" }));
    expect(err).toBeInstanceOf(DataError);
    expect(err.message).toContain("file.bin");
    expect(err.message).toContain(url);
    expect(err.message).toContain("HINT");
    expect(existsSync(dest)).toBe(false);
    expect(existsSync(`${dest}.part`)).toBe(false);
  });

  it("a server that never answers hits the connect timeout", async () => {
    server = createServer(() => undefined); // accepts, never responds
    await new Promise<void>((r) => (server as Server).listen(0, "127.0.0.1", r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/x`;
    const started = Date.now();
    const err = await caught(() => downloadFile({ url, dest: join(tempDir(), "x"), connectTimeoutMs: 300, hint: "" }));
    expect(err).toBeInstanceOf(DataError);
    expect(err.message).toContain("no response within 300 ms");
    expect(Date.now() - started).toBeLessThan(5000);
    server.closeAllConnections();
  });
});
