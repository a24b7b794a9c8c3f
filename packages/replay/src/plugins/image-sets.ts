/** Small helpers for learners that build their own training sets (GDumb, joint). */
import type { ImageSet } from "@mnemo/core";

/** One ImageSet holding the given sets back to back (all must share a shape). */
export function concatImageSets(sets: readonly ImageSet[]): ImageSet {
  const first = sets[0];
  if (!first) throw new RangeError("concatImageSets: no sets given");
  const count = sets.reduce((a, s) => a + s.count, 0);
  const images = new Uint8Array(sets.reduce((a, s) => a + s.images.length, 0));
  const labels = new Int32Array(count);
  let at = 0;
  let row = 0;
  for (const s of sets) {
    images.set(s.images, at);
    labels.set(s.labels.subarray(0, s.count), row);
    at += s.images.length;
    row += s.count;
  }
  return { images, labels, count, shape: first.shape };
}
