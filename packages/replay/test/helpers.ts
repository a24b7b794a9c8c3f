import { SeededRng } from "@mnemo/core";

/** Sample bytes used by most tests: the id is written little-endian into the first 4 bytes. */
export const SHAPE = [2, 2, 2] as const;
export const BYTES = 8;

/** One image whose bytes encode `id` (and a fill byte derived from it, to catch partial copies). */
export function image(id: number, bytes = BYTES): Uint8Array {
  const out = new Uint8Array(bytes);
  new DataView(out.buffer).setUint32(0, id, true);
  out.fill((id * 31 + 7) & 0xff, 4);
  return out;
}

/** Packed images for ids. */
export function images(ids: readonly number[], bytes = BYTES): Uint8Array {
  const out = new Uint8Array(ids.length * bytes);
  ids.forEach((id, i) => out.set(image(id, bytes), i * bytes));
  return out;
}

export function idOf(img: Uint8Array): number {
  return new DataView(img.buffer, img.byteOffset, img.byteLength).getUint32(0, true);
}

/** A shuffled stream with `perClass[c]` samples of class c; ids are positions in the stream. */
export function shuffledLabels(perClass: readonly number[], seed: number): number[] {
  const labels: number[] = [];
  perClass.forEach((n, c) => {
    for (let i = 0; i < n; i++) labels.push(c);
  });
  return new SeededRng(seed).stream("test-stream").shuffle(labels);
}
