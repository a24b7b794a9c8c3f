import type { ImageSet, SeededRng } from "@mnemo/core";

/** Indices of each class in `labels`, ascending. */
export function indicesByClass(labels: Int32Array, numClasses: number): Int32Array[] {
  const counts = new Int32Array(numClasses);
  for (const y of labels) counts[y]++;
  const out = Array.from({ length: numClasses }, (_, c) => new Int32Array(counts[c] as number));
  const fill = new Int32Array(numClasses);
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i] as number;
    (out[y] as Int32Array)[fill[y]++] = i;
  }
  return out;
}

/** At most `limit` indices, a seeded sample kept in ascending order (so dataset order is preserved). */
export function limitIndices(indices: Int32Array, limit: number | undefined, rng: SeededRng, key: string): Int32Array {
  if (limit === undefined || indices.length <= limit) return indices;
  const pick = rng.derive(key).sampleIndices(indices.length, limit).sort((a, b) => a - b);
  return Int32Array.from(pick, (k) => indices[k] as number);
}

/**
 * Split one class's indices into (train, validation) with `n` held out. The held-out set is keyed
 * by class, not by task, so changing the task split never changes which images are held out.
 */
export function carveValidation(indices: Int32Array, n: number, rng: SeededRng, key: string): [Int32Array, Int32Array] {
  if (n <= 0) return [indices, new Int32Array(0)];
  const held = new Set(rng.derive(key).sampleIndices(indices.length, n));
  const train: number[] = [];
  const val: number[] = [];
  indices.forEach((v, k) => (held.has(k) ? val : train).push(v));
  return [Int32Array.from(train), Int32Array.from(val)];
}

export function concatIndices(parts: Int32Array[], sort = true): Int32Array {
  const out = new Int32Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return sort ? out.sort() : out;
}

/**
 * Copy the selected images into a new uint8 set with remapped labels. `remap[original]` is the
 * stream label; selecting an image whose class is not in the stream is a programming error.
 */
export function gatherImageSet(source: ImageSet, indices: Int32Array, remap: Int32Array): ImageSet {
  const [h, w, c] = source.shape;
  const size = h * w * c;
  const images = new Uint8Array(indices.length * size);
  const labels = new Int32Array(indices.length);
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k] as number;
    images.set(source.images.subarray(i * size, (i + 1) * size), k * size);
    const y = remap[source.labels[i] as number] as number;
    if (y < 0) throw new Error(`gatherImageSet: image ${i} has class ${source.labels[i]}, which is not in the stream`);
    labels[k] = y;
  }
  return { images, labels, count: indices.length, shape: source.shape };
}

/** `remap[original] = position in labelMap`, -1 for classes outside the stream. */
export function inverseLabelMap(labelMap: readonly number[], numClasses: number): Int32Array {
  const inv = new Int32Array(numClasses).fill(-1);
  labelMap.forEach((orig, k) => (inv[orig] = k));
  return inv;
}
