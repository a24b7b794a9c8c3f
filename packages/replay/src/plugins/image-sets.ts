/** Small helpers for learners that build their own training sets (GDumb, joint) or read a buffer's contents. */
import type { ImageSet } from "@mnemo/core";
import type { BufferBase } from "../base.js";

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

/**
 * A buffer's stored images and labels as one ImageSet (copies), in slot order so that the result does
 * not depend on the sampler's internal order. What an NMC head re-embeds to rebuild old classes' means.
 */
export function bufferContents(buffer: BufferBase, shape: readonly [number, number, number]): ImageSet {
  const slots = Array.from(buffer.slots()).sort((a, b) => a - b);
  const bytes = buffer.sampleBytes;
  const images = new Uint8Array(slots.length * bytes);
  const labels = new Int32Array(slots.length);
  slots.forEach((slot, i) => {
    images.set(buffer.imageAt(slot), i * bytes);
    labels[i] = buffer.labelAt(slot);
  });
  return { images, labels, count: slots.length, shape };
}
