import { describe, expect, it, vi } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { BackendError } from "@mnemo/core";
import { releaseBackend, selectBackend } from "../src/index.js";

describe("selectBackend", () => {
  it("auto skips the absent native packages silently and lands on wasm", async () => {
    const warn = vi.spyOn(console, "warn");
    const info = await selectBackend({ env: {} });
    if (info.name === "webgpu") {
      // A machine with a GPU: webgpu comes right after the native packages.
      expect(info.skipped.map((s) => s.name)).toEqual(["node-gpu", "node"]);
      await releaseBackend();
      return;
    }
    expect(info.name).toBe("wasm");
    expect(tf.getBackend()).toBe("wasm");
    expect(info.skipped.map((s) => s.name)).toEqual(["node-gpu", "node", "webgpu"]);
    expect(info.skipped[0]?.reason).toMatch(/tfjs-node-gpu is not installed/);
    expect(info.skipped[2]?.reason).toMatch(/Vulkan|WebGPU adapter|software WebGPU adapter|webgpu package/);
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

  it("webgpu is a backend choice: requested without an adapter, it fails with the reason and the way out", async () => {
    const got = await selectBackend({ backend: "webgpu", env: {} }).then(
      async (info) => {
        await releaseBackend();
        return info.description;
      },
      (err: unknown) => err,
    );
    if (typeof got === "string") {
      expect(got).toMatch(/^webgpu/);
      return;
    }
    expect(got).toBeInstanceOf(BackendError);
    expect((got as Error).message).toMatch(/backend "webgpu" was requested \(config backend:\) but is not available: .+backend: auto to fall back to wasm/);
  });
});
