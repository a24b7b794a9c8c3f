import type { ImageSet } from "@mnemo/core";

/** The rows of an image set whose label passes `keep` (a copy). */
export function subsetRows(set: ImageSet, keep: (label: number) => boolean): ImageSet {
  const [h, w, c] = set.shape;
  const size = h * w * c;
  const rows: number[] = [];
  for (let i = 0; i < set.count; i++) if (keep(set.labels[i] as number)) rows.push(i);
  const images = new Uint8Array(rows.length * size);
  const labels = new Int32Array(rows.length);
  rows.forEach((r, k) => {
    images.set(set.images.subarray(r * size, (r + 1) * size), k * size);
    labels[k] = set.labels[r] as number;
  });
  return { images, labels, count: rows.length, shape: set.shape };
}
