/**
 * Custom train/test splits from index files (`stream.split_files`): each file lists 0-based
 * indices into the dataset's train images followed by its test images, so a split can move
 * images between the official sets. Overlap would put a test image into training: refused.
 */
import { readFileSync } from "node:fs";
import { ConfigError, DataError } from "@mnemo/core/errors";
import type { ImageSet } from "@mnemo/core";
import type { Dataset } from "../datasets/types.js";
import { sha256Hex } from "./hash.js";

/** Indices in an index file (whitespace or comma separated; `#` starts a comment), checked against `limit`. */
export function readIndexFile(file: string, limit: number): Int32Array {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new DataError(`${file}: cannot read the index file (${(err as Error).message}); check stream.split_files`, { file }, { cause: err });
  }
  const out: number[] = [];
  const seen = new Set<number>();
  text.split("\n").forEach((raw, lineNo) => {
    const line = raw.replace(/#.*/, "").trim();
    if (line === "") return;
    for (const token of line.split(/[\s,]+/)) {
      if (token === "") continue;
      const v = Number(token);
      if (!/^\d+$/.test(token) || !Number.isSafeInteger(v)) {
        throw new DataError(`${file}:${lineNo + 1}: "${token}" is not a non-negative integer index`, { file });
      }
      if (v >= limit) throw new DataError(`${file}:${lineNo + 1}: index ${v} is outside 0..${limit - 1} (train images, then test images)`, { file });
      if (seen.has(v)) throw new DataError(`${file}:${lineNo + 1}: index ${v} is listed twice`, { file });
      seen.add(v);
      out.push(v);
    }
  });
  if (out.length === 0) throw new DataError(`${file}: no indices found`, { file });
  return Int32Array.from(out);
}

function gather(dataset: Dataset, indices: Int32Array): ImageSet {
  const [h, w, c] = dataset.shape;
  const size = h * w * c;
  const nTrain = dataset.train.count;
  const images = new Uint8Array(indices.length * size);
  const labels = new Int32Array(indices.length);
  indices.forEach((i, k) => {
    const from = i < nTrain ? dataset.train : dataset.test;
    const j = i < nTrain ? i : i - nTrain;
    images.set(from.images.subarray(j * size, (j + 1) * size), k * size);
    labels[k] = from.labels[j] as number;
  });
  return { images, labels, count: indices.length, shape: dataset.shape };
}

/** The dataset re-split by the two index files, and a digest of the lists for the stream hash. */
export function applySplitFiles(dataset: Dataset, files: { train: string; test: string }): { dataset: Dataset; digest: string } {
  const limit = dataset.train.count + dataset.test.count;
  const train = readIndexFile(files.train, limit);
  const test = readIndexFile(files.test, limit);
  const inTrain = new Set(train);
  const shared = test.filter((i) => inTrain.has(i));
  if (shared.length > 0) {
    throw new ConfigError(
      `${shared.length} images are in both split files (first: index ${shared[0]}); a test image must never be trained on`,
      { path: "stream.split_files" },
    );
  }
  const digest = sha256Hex(`${Array.from(train).join(",")}|${Array.from(test).join(",")}`);
  return {
    dataset: { ...dataset, train: gather(dataset, train), test: gather(dataset, test), source: `${dataset.source} split by ${files.train}, ${files.test}` },
    digest,
  };
}
