import * as tf from "@tensorflow/tfjs";
import { beforeAll, expect, it } from "vitest";
import { type ImageSet, SeededRng } from "@mnemo/core";
import { mlp } from "@mnemo/models";
import { adaptOnline, createAdapter, DomainScorer, withoutLabels } from "../src/index.js";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

it("README example", () => {
  const s = new SeededRng(1).stream("images");
  const n = 40;
  const domain: ImageSet = { images: Uint8Array.from({ length: n * 784 }, () => s.int(256)), labels: Int32Array.from({ length: n }, (_, i) => i % 10), count: n, shape: [28, 28, 1] };
  const backbone = mlp({ inputShape: [28, 28, 1], hidden: [256], batchNorm: true });
  const rng = new SeededRng(0);
  const { params, state } = backbone.init(rng.stream("init"), 10);
  const cotta = createAdapter({ name: "cotta", augmentations: 2 }, { backbone, params, state }, rng.scope("tta/cotta"));
  const scorer = new DomainScorer(domain.labels);
  adaptOnline(cotta, withoutLabels(domain), { batchSize: 20, onPredictions: (start, predicted) => scorer.score(start, predicted) });
  expect(scorer.total).toBe(n);
  expect(scorer.error).toBeGreaterThan(0);
  expect(scorer.error).toBeLessThanOrEqual(100);
});
