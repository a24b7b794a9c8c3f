import { existsSync, mkdtempSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { CheckpointError } from "@mnemo/core";
import { decodeState, disposeState, encodeState, readCheckpoint, writeCheckpoint, type StateValue } from "../src/index.js";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

const identity = { configHash: "c".repeat(64), streamHash: "s".repeat(16), seed: 3, backend: "cpu" };

function sample(): StateValue {
  return {
    params: { "fc.weight": tf.tensor2d([[1.5, -2], [0.25, 1e-7]]), "fc.bias": tf.tensor1d([0, -0]) },
    counter: tf.tensor1d([7, 9], "int32"),
    buffer: { images: Uint8Array.from([0, 255, 17]), labels: Int32Array.from([-1, 2, 3]), logits: Float32Array.from([0.1, NaN]) },
    meta: { step: 42, name: "er", nothing: null, flags: [true, false], inf: Infinity, nan: NaN },
  };
}

describe("checkpoint codec", () => {
  it("round-trips tensors, typed arrays and JSON values bit-exactly", async () => {
    const before = tf.memory().numTensors;
    const original = sample();
    const { tree, blob } = encodeState(original);
    const back = decodeState(JSON.parse(JSON.stringify(tree)), blob) as Record<string, Record<string, unknown>>;
    const p = back.params as Record<string, tf.Tensor>;
    expect(Array.from(await p["fc.weight"]!.data())).toEqual([1.5, -2, 0.25, Math.fround(1e-7)]);
    expect(Object.is((await p["fc.bias"]!.data())[1], -0)).toBe(true);
    expect((back.counter as unknown as tf.Tensor).dtype).toBe("int32");
    expect(Array.from(back.buffer!.images as Uint8Array)).toEqual([0, 255, 17]);
    expect(Array.from(back.buffer!.labels as Int32Array)).toEqual([-1, 2, 3]);
    expect(Number.isNaN((back.buffer!.logits as Float32Array)[1])).toBe(true);
    expect(back.meta).toEqual({ step: 42, name: "er", nothing: null, flags: [true, false], inf: Infinity, nan: NaN });
    disposeState(original);
    disposeState(back as unknown as StateValue);
    expect(tf.memory().numTensors).toBe(before);
  });

  it("refuses keys that collide with the format's markers", () => {
    expect(() => encodeState({ $tensor: 1 })).toThrow(CheckpointError);
  });
});

describe("checkpoint files", () => {
  function written(): string {
    const dir = join(mkdtempSync(join(tmpdir(), "mnemo-ckpt-")), "checkpoint");
    const state = sample();
    writeCheckpoint(dir, identity, { task: 1, complete: true }, state, "0.1.0");
    disposeState(state);
    return dir;
  }

  it("reads back what was written, with its position", () => {
    const dir = written();
    const { manifest, state } = readCheckpoint(dir, identity);
    expect(manifest.position).toEqual({ task: 1, complete: true });
    expect(manifest.format).toBe("mnemo.checkpoint");
    disposeState(state);
  });

  it("a crash between the two renames leaves the previous checkpoint readable, and the next write replaces it", () => {
    const dir = written();
    // What a kill right after `rename(dir, dir.old)` leaves: no `dir`, the previous one in `.old`.
    renameSync(dir, `${dir}.old`);
    const previous = readCheckpoint(dir, identity);
    expect(previous.manifest.position).toEqual({ task: 1, complete: true });
    disposeState(previous.state);
    const state = sample();
    const { bytes } = writeCheckpoint(dir, identity, { task: 2, complete: false }, state, "0.1.0");
    disposeState(state);
    expect(bytes).toBe(readFileSync(join(dir, "data.bin")).byteLength + readFileSync(join(dir, "manifest.json")).byteLength);
    const next = readCheckpoint(dir, identity);
    expect(next.manifest.position).toEqual({ task: 2, complete: false });
    disposeState(next.state);
    expect(existsSync(`${dir}.old`)).toBe(false);
  });

  it("a corrupt data file is an error, never a silent restart", () => {
    const dir = written();
    const data = readFileSync(join(dir, "data.bin"));
    data[3] = (data[3] as number) ^ 0xff;
    writeFileSync(join(dir, "data.bin"), data);
    expect(() => readCheckpoint(dir, identity)).toThrow(/sha256.*corrupt/);
  });

  it("a truncated data file names the sizes", () => {
    const dir = written();
    writeFileSync(join(dir, "data.bin"), readFileSync(join(dir, "data.bin")).subarray(0, 5));
    expect(() => readCheckpoint(dir, identity)).toThrow(/has 5 bytes, the manifest says/);
  });

  it("a damaged manifest, a missing checkpoint and a foreign format are named", () => {
    const dir = written();
    writeFileSync(join(dir, "manifest.json"), "{ not json");
    expect(() => readCheckpoint(dir, identity)).toThrow(/not valid JSON/);
    expect(() => readCheckpoint(join(dir, "nope"))).toThrow(/no checkpoint here/);
    const other = written();
    const m = JSON.parse(readFileSync(join(other, "manifest.json"), "utf8"));
    writeFileSync(join(other, "manifest.json"), JSON.stringify({ ...m, format: "pickle" }));
    expect(() => readCheckpoint(other)).toThrow(/not a Mnemo checkpoint/);
    writeFileSync(join(other, "manifest.json"), JSON.stringify({ ...m, version: 99 }));
    expect(() => readCheckpoint(other)).toThrow(/version 99 is not supported/);
  });

  it("a checkpoint from another config, seed or backend is refused with the reason", () => {
    const dir = written();
    expect(() => readCheckpoint(dir, { ...identity, configHash: "d".repeat(64) })).toThrow(/different configHash.*run's own config.yaml/);
    expect(() => readCheckpoint(dir, { ...identity, seed: 4 })).toThrow(/different seed/);
    expect(() => readCheckpoint(dir, { ...identity, backend: "wasm" })).toThrow(/different backend.*same backend/);
  });
});
