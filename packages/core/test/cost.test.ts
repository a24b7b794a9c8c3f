import { describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { costRecord, parameterCount, replayMemoryOf, type Learner, type TaskCost } from "../src/index.js";
import { cpuSeconds, sampleResources } from "../src/tf.js";

const fakeBuffer = (size: number, bytes: number) => ({ size, byteSize: () => bytes });

function learnerWith(extra: object, plugins: object[] = []): Learner {
  return {
    name: "fake",
    plugins: plugins as Learner["plugins"],
    learnTask: async () => {},
    predict: () => tf.zeros([0], "int32") as tf.Tensor1D,
    dispose: () => {},
    ...extra,
  };
}

describe("cost utilities", () => {
  it("replayMemoryOf sums every buffer on the learner and its plugins, once each", () => {
    const shared = fakeBuffer(10, 8000);
    const mem = replayMemoryOf(learnerWith({ buffer: shared }, [{ name: "er", buffer: shared }, { name: "x", memory: fakeBuffer(5, 4000) }]));
    expect(mem).toEqual({ bytes: 12000, samples: 15 });
    expect(replayMemoryOf(learnerWith({}, [{ name: "plain" }]))).toBeUndefined();
  });

  it("costRecord: totals, per-task keys, derived rates; unmeasured values are left out", () => {
    const task = (i: number): TaskCost => ({
      trainSeconds: 2 * (i + 1),
      trainCpuSeconds: 3 * (i + 1),
      trainImages: 100,
      evalSeconds: 1,
      evalCpuSeconds: 1.5,
      evalImages: 50,
      peakRssBytes: 1000 + i,
      tensorBytes: 10,
    });
    const rec = costRecord({ tasks: [task(0), task(1)], buffer: { bytes: 784 * 200, samples: 200 }, forwardMacsPerImage: 1000 });
    expect(rec).toMatchObject({
      train_seconds: 6,
      train_cpu_seconds: 9,
      train_images: 200,
      train_images_per_sec: 200 / 6,
      eval_images_per_sec: 50,
      peak_rss_bytes: 1001,
      train_images_per_sec_task1: 25,
      buffer_bytes_per_sample: 784,
      forward_flops_per_image: 2000,
    });
    expect(rec).not.toHaveProperty("wasm_heap_bytes");
    expect(rec).not.toHaveProperty("param_count");
    const { trainImages: _omit, ...noCount } = task(0);
    const partial = costRecord({ tasks: [noCount], buffer: { bytes: 100, samples: 0 } });
    expect(partial).not.toHaveProperty("train_images_per_sec");
    expect(partial).not.toHaveProperty("buffer_bytes_per_sample");
    expect(partial["buffer_bytes"]).toBe(100);
  });

  it("sampleResources reports a peak RSS at least the current RSS; CPU time only grows", () => {
    const s = sampleResources();
    expect(s.peakRssBytes).toBeGreaterThanOrEqual(s.rssBytes * 0.99);
    const c0 = cpuSeconds();
    let x = 0;
    for (let i = 0; i < 2e6; i++) x += Math.sqrt(i);
    expect(x).toBeGreaterThan(0);
    expect(cpuSeconds()).toBeGreaterThan(c0);
  });

  it("parameterCount counts scalar entries", () => {
    const tree = { a: tf.zeros([3, 4]), b: tf.zeros([5]) };
    expect(parameterCount(tree)).toBe(17);
    tf.dispose(Object.values(tree));
  });
});
