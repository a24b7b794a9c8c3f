/**
 * Omniglot (Lake et al. 2015), from the official release: images_background.zip (30 alphabets,
 * 964 characters) and images_evaluation.zip (20 alphabets, 659 characters), 20 drawings of
 * 105×105 each. Every character is a class; the background characters come first (class ids
 * 0..963, alphabet by alphabet in name order), then the evaluation ones, so `classes.order:
 * dataset` with counts keeps Lake's alphabet split (train: 964 = the background alphabets).
 * Background drawings are the `train` set, evaluation drawings the `test` set.
 *
 * Images are resized to 28×28 by area averaging (each output pixel the mean of the 105/28 × 105/28
 * input area it covers; cbfinn's proc_images.py uses PIL's LANCZOS, so pixels differ slightly) and
 * inverted, strokes bright on a dark background as in MNIST and cbfinn's loader (1 − x).
 * Class names are `<alphabet>/<character>`.
 */
import { basename, join } from "node:path";
import { PNG } from "pngjs";
import type { ImageSet } from "@mnemo/core";
import { DataError } from "@mnemo/core/errors";
import { downloadFile, stderrProgress } from "./download.js";
import { downloadOffReason, isFile, resolveDataDir, resolveDownload, resolveTimeoutMs, resolveUrl } from "./paths.js";
import type { Dataset, LoadOptions } from "./types.js";
import { readZip } from "./zip.js";

export const OMNIGLOT_URL = "https://raw.githubusercontent.com/brendenlake/omniglot/master/python/";
export const OMNIGLOT_FILES = ["images_background.zip", "images_evaluation.zip"] as const;
const MD5: Record<(typeof OMNIGLOT_FILES)[number], string> = {
  "images_background.zip": "68d2efa1b9178cc56df9314c21c6e718",
  "images_evaluation.zip": "6b91aef0f799c5bb55b94e3f2daec811",
};
export const OMNIGLOT_SIZE = 28;

export interface OmniglotOptions extends LoadOptions {
  /** Output side (default 28). */
  size?: number;
}

async function locate(file: string, options: LoadOptions): Promise<string> {
  const own = join(resolveDataDir(options.dataDir), "omniglot");
  const path = join(own, file);
  if (isFile(path)) return path;
  const url = `${OMNIGLOT_URL}${file}`;
  const hint = `Put ${OMNIGLOT_FILES.join(" and ")} into $MNEMO_DATA_DIR/omniglot/ (now ${own}), or allow download from ${OMNIGLOT_URL}.`;
  if (!resolveDownload(options.download)) {
    throw new DataError(`${file} not found in ${own} and ${downloadOffReason(options.download)}. ${hint}`, { file: path, url });
  }
  await downloadFile({
    url: resolveUrl(url, file, options.mirror),
    dest: path,
    md5: options.checksums?.[file] ?? MD5[file as (typeof OMNIGLOT_FILES)[number]],
    connectTimeoutMs: resolveTimeoutMs(options.downloadTimeoutMs),
    onProgress: options.onProgress ?? stderrProgress(),
    hint,
  });
  return path;
}

/** Grey value of an RGBA PNG pixel row-major, inverted (ink = 255) and area-resized to size×size. */
export function resizeInverted(png: { width: number; height: number; data: Uint8Array }, size: number): Uint8Array {
  const { width: w, height: h, data } = png;
  const out = new Uint8Array(size * size);
  const sx = w / size;
  const sy = h / size;
  for (let oy = 0; oy < size; oy++) {
    const y0 = oy * sy;
    const y1 = y0 + sy;
    for (let ox = 0; ox < size; ox++) {
      const x0 = ox * sx;
      const x1 = x0 + sx;
      let sum = 0;
      let area = 0;
      for (let y = Math.floor(y0); y < Math.min(h, Math.ceil(y1)); y++) {
        const wy = Math.min(y + 1, y1) - Math.max(y, y0);
        for (let x = Math.floor(x0); x < Math.min(w, Math.ceil(x1)); x++) {
          const wx = Math.min(x + 1, x1) - Math.max(x, x0);
          const i = 4 * (y * w + x);
          const grey = 0.299 * (data[i] as number) + 0.587 * (data[i + 1] as number) + 0.114 * (data[i + 2] as number);
          sum += wx * wy * (255 - grey);
          area += wx * wy;
        }
      }
      out[oy * size + ox] = Math.round(sum / area);
    }
  }
  return out;
}

interface Part {
  classNames: string[];
  images: Uint8Array[];
  labels: number[];
}

/** The characters of one archive: `<root>/<alphabet>/<character>/<drawing>.png`, sorted by name. */
function readPart(file: string, firstLabel: number, size: number): Part {
  const entries = readZip(file).filter((e) => e.name.toLowerCase().endsWith(".png"));
  const byClass = new Map<string, typeof entries>();
  for (const e of entries) {
    const parts = e.name.split("/");
    if (parts.length < 3) throw new DataError(`${file}: ${e.name} is not <alphabet>/<character>/<image>.png`, { file });
    const key = parts.slice(-3, -1).join("/");
    if (!byClass.has(key)) byClass.set(key, []);
    byClass.get(key)?.push(e);
  }
  if (byClass.size === 0) throw new DataError(`${file}: no <alphabet>/<character>/*.png images inside`, { file });
  const classNames = [...byClass.keys()].sort();
  const images: Uint8Array[] = [];
  const labels: number[] = [];
  classNames.forEach((name, k) => {
    const drawings = (byClass.get(name) ?? []).sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const d of drawings) {
      let png: { width: number; height: number; data: Uint8Array };
      try {
        png = PNG.sync.read(Buffer.from(d.data()));
      } catch (err) {
        throw new DataError(`${file}: ${d.name} is not a readable PNG (${(err as Error).message})`, { file });
      }
      images.push(resizeInverted(png, size));
      labels.push(firstLabel + k);
    }
  });
  return { classNames, images, labels };
}

function toSet(part: Part, size: number): ImageSet {
  const n = part.images.length;
  const images = new Uint8Array(n * size * size);
  part.images.forEach((im, i) => images.set(im, i * size * size));
  return { images, labels: Int32Array.from(part.labels), count: n, shape: [size, size, 1] };
}

export async function loadOmniglot(options: OmniglotOptions = {}): Promise<Dataset> {
  const size = options.size ?? OMNIGLOT_SIZE;
  const [bgFile, evFile] = [await locate(OMNIGLOT_FILES[0], options), await locate(OMNIGLOT_FILES[1], options)];
  const background = readPart(bgFile, 0, size);
  const evaluation = readPart(evFile, background.classNames.length, size);
  const warnings: string[] = [];
  const counts = [background.classNames.length, evaluation.classNames.length];
  if (counts[0] !== 964 || counts[1] !== 659) {
    warnings.push(`${basename(bgFile)} / ${basename(evFile)} hold ${counts[0]} / ${counts[1]} characters, the official release 964 / 659: results are not comparable to published Omniglot numbers`);
  }
  return {
    name: "omniglot",
    classNames: [...background.classNames, ...evaluation.classNames],
    numClasses: counts[0] + counts[1],
    shape: [size, size, 1],
    train: toSet(background, size),
    test: toSet(evaluation, size),
    source: `${bgFile}, ${evFile}`,
    ...(warnings.length ? { warnings } : {}),
  };
}
