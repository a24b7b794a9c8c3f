import { describe, expect, it, vi } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { BackendError, selectBackend } from "../src/index.js";

describe("selectBackend", () => {
  it("auto skips the absent native packages silently and lands on wasm", async () => {
    const warn = vi.spyOn(console, "warn");
    const info = await selectBackend({ env: {} });
    expect(info.name).toBe("wasm");
    expect(tf.getBackend()).toBe("wasm");
    expect(info.skipped.map((s) => s.name)).toEqual(["node-gpu", "node"]);
    expect(info.skipped[0]?.reason).toMatch(/tfjs-node-gpu is not installed/);
    expect(info.description).toMatch(/^wasm \(\d threads?/);
    expect(warn).not.toHaveBeenCalled();
    const y = tf.add(tf.scalar(1), tf.scalar(2));
    expect(await y.data()).toEqual(new Float32Array([3]));
    y.dispose();
  });

  it("MNEMO_BACKEND overrides the config", async () => {
    const info = await selectBackend({ backend: "wasm", env: { MNEMO_BACKEND: "cpu" } });
    expect(info.name).toBe("cpu");
    expect(tf.getBackend()).toBe("cpu");
  });

  it("an explicitly requested native backend that is absent is a clear error", async () => {
    await expect(selectBackend({ backend: "node-gpu", env: {} })).rejects.toThrow(BackendError);
    await expect(selectBackend({ backend: "node", env: {} })).rejects.toThrow(/tfjs-node is not installed.*npm install/);
  });

  it("an unknown MNEMO_BACKEND value names the variable", async () => {
    await expect(selectBackend({ env: { MNEMO_BACKEND: "cuda" } })).rejects.toThrow(/MNEMO_BACKEND: unknown backend "cuda"/);
  });
});
