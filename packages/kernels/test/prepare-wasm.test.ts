import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const script = fileURLToPath(new URL("./fixtures/prepare-child.ts", import.meta.url));

/** Runs prepareWasm in a fresh process: it must finish (unref'd workers) and report its threads. */
function runChild(threads: string): { status: number | null; out: Record<string, unknown>; stderr: string } {
  const r = spawnSync(process.execPath, ["--import", "tsx", script, threads], { encoding: "utf8", timeout: 30_000 });
  const line = r.stdout.trim().split("\n").pop() || "{}";
  return { status: r.status, out: JSON.parse(line) as Record<string, unknown>, stderr: r.stderr };
}

describe("prepareWasm", () => {
  it("runs two XNNPACK threads in Node and the process exits on its own", () => {
    const r = runChild("2");
    expect(r.status, r.stderr).toBe(0);
    expect(r.out).toMatchObject({ threads: 2, simd: true, reported: 2, backend: "wasm", sum: 6 });
  });

  it("one thread uses the stock single-thread build", () => {
    const r = runChild("1");
    expect(r.status, r.stderr).toBe(0);
    expect(r.out).toMatchObject({ threads: 1, reported: 1, backend: "wasm", sum: 6 });
  });

  it("Winograd convolutions and filter gradients are correct on both builds, with the same bits for 1 and 2 threads", () => {
    const one = runChild("1");
    const two = runChild("2");
    for (const r of [one, two]) {
      expect(r.status, r.stderr).toBe(0);
      expect(r.out["winogradCalls"]).toBe(3); // two forwards (one inside tf.grad) + the filter gradient
      expect(r.out["winogradError"] as number).toBeLessThan(1e-5);
    }
    expect(one.out["bits"]).toBe(two.out["bits"]);
  });

  it("rejects a nonsensical thread count with an actionable message", () => {
    const r = runChild("0");
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/threads must be a positive integer or "auto"/);
  });
});
