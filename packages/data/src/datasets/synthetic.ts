import { RandomStream, streamKey } from "@mnemo/core/rng";
import type { ImageSet } from "@mnemo/core";
import type { Dataset } from "./types.js";

export interface BlobsOptions {
  numClasses: number;
  /** Feature dimension; stored as a [1, 1, dim] "image". */
  dim: number;
  trainPerClass: number;
  testPerClass: number;
  /** Noise std in uint8 units around each class centre. */
  noise: number;
  seed: number;
}

export interface SyntheticImagesOptions {
  numClasses: number;
  shape: readonly [number, number, number];
  trainPerClass: number;
  testPerClass: number;
  /** Noise std in uint8 units added to each class template. */
  noise: number;
  seed: number;
}

const clampByte = (v: number): number => (v < 0 ? 0 : v > 255 ? 255 : Math.round(v));

/** Samples are class-interleaved (0,1,2,..,0,1,2,..) so that no loader can rely on sorted labels. */
function fill(
  templates: Float64Array[],
  perClass: number,
  size: number,
  noise: number,
  rng: RandomStream,
  shape: readonly [number, number, number],
): ImageSet {
  const k = templates.length;
  const count = k * perClass;
  const images = new Uint8Array(count * size);
  const labels = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const c = i % k;
    labels[i] = c;
    const t = templates[c] as Float64Array;
    for (let j = 0; j < size; j++) images[i * size + j] = clampByte((t[j] as number) + rng.normal(0, noise));
  }
  return { images, labels, count, shape };
}

/** Gaussian blobs: well separated class centres in [32, 224]^dim plus isotropic noise. */
export function syntheticBlobs(o: BlobsOptions): Dataset {
  const rng = new RandomStream(streamKey(o.seed, "synthetic-blobs"));
  const templates = Array.from({ length: o.numClasses }, () => {
    const t = new Float64Array(o.dim);
    for (let j = 0; j < o.dim; j++) t[j] = rng.uniform(32, 224);
    return t;
  });
  const shape = [1, 1, o.dim] as const;
  return {
    name: "synthetic-blobs",
    classNames: templates.map((_, c) => `blob${c}`),
    numClasses: o.numClasses,
    shape,
    train: fill(templates, o.trainPerClass, o.dim, o.noise, rng, shape),
    test: fill(templates, o.testPerClass, o.dim, o.noise, rng, shape),
    source: `synthetic-blobs(seed=${o.seed})`,
  };
}

/** Images whose class is a random smooth template (low-frequency pattern) plus pixel noise. */
export function syntheticImages(o: SyntheticImagesOptions): Dataset {
  const rng = new RandomStream(streamKey(o.seed, "synthetic-images"));
  const [h, w, ch] = o.shape;
  const size = h * w * ch;
  const templates = Array.from({ length: o.numClasses }, () => {
    const fy = rng.uniform(0.5, 3);
    const fx = rng.uniform(0.5, 3);
    const phase = Array.from({ length: ch }, () => rng.uniform(0, 2 * Math.PI));
    const t = new Float64Array(size);
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++)
        for (let c = 0; c < ch; c++)
          t[(y * w + x) * ch + c] = 128 + 100 * Math.sin((2 * Math.PI * fy * y) / h + (2 * Math.PI * fx * x) / w + (phase[c] as number));
    return t;
  });
  return {
    name: "synthetic-images",
    classNames: templates.map((_, c) => `pattern${c}`),
    numClasses: o.numClasses,
    shape: o.shape,
    train: fill(templates, o.trainPerClass, size, o.noise, rng, o.shape),
    test: fill(templates, o.testPerClass, size, o.noise, rng, o.shape),
    source: `synthetic-images(seed=${o.seed})`,
  };
}
