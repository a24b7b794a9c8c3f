import { createReadStream, statSync } from "node:fs";
import { open } from "node:fs/promises";
import { isAbsolute, join } from "node:path";
import { Parser, type ReadEntry } from "tar";
import { DataError } from "@mnemo/core/errors";
import { CIFAR100_VARIANT, CIFAR10_VARIANT, CifarRecordParser, type CifarArrays, type CifarVariant } from "./cifar-format.js";
import { CIFAR100_COARSE_CLASSES, CIFAR100_FINE_CLASSES, CIFAR10_CLASSES } from "./cifar-names.js";
import { md5File } from "./checksum.js";
import { downloadFile, stderrProgress } from "./download.js";
import { downloadOffReason, isDir, isFile, resolveDataDir, resolveDownload, resolveTimeoutMs, resolveUrl } from "./paths.js";
import type { Dataset, LoadOptions } from "./types.js";

interface CifarRelease {
  name: "cifar10" | "cifar100";
  archive: string;
  folder: string;
  url: string;
  md5: string;
  variant: CifarVariant;
  trainFiles: string[];
  testFiles: string[];
  /** Records in each official file (a file under an official name with another count is incomplete). */
  records: Record<string, number>;
}

const CIFAR10: CifarRelease = {
  name: "cifar10",
  archive: "cifar-10-binary.tar.gz",
  folder: "cifar-10-batches-bin",
  url: "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz",
  md5: "c32a1d4ab5d03f1284b67883e8d87530",
  variant: CIFAR10_VARIANT,
  trainFiles: [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`),
  testFiles: ["test_batch.bin"],
  records: { "data_batch_1.bin": 10_000, "data_batch_2.bin": 10_000, "data_batch_3.bin": 10_000, "data_batch_4.bin": 10_000, "data_batch_5.bin": 10_000, "test_batch.bin": 10_000 },
};

const CIFAR100: CifarRelease = {
  name: "cifar100",
  archive: "cifar-100-binary.tar.gz",
  folder: "cifar-100-binary",
  url: "https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz",
  md5: "03b5dce01913d631647c71ecec9e9cb8",
  variant: CIFAR100_VARIANT,
  trainFiles: ["train.bin"],
  testFiles: ["test.bin"],
  records: { "train.bin": 50_000, "test.bin": 10_000 },
};

export const CIFAR_RELEASES = { cifar10: CIFAR10, cifar100: CIFAR100 } as const;

// Published per-channel statistics of the training sets (PyCIL / torchvision conventions).
const CIFAR10_NORM = { mean: [0.4914, 0.4822, 0.4465], std: [0.247, 0.2435, 0.2616] };
const CIFAR100_NORM = { mean: [0.5071, 0.4867, 0.4408], std: [0.2675, 0.2565, 0.2761] };

export interface CifarOptions extends LoadOptions {
  /** CIFAR-100 only: train on the 100 fine labels (default) or the 20 coarse superclasses. */
  labels?: "fine" | "coarse";
  /**
   * Batch files to read as the train / test set instead of the official ones (a custom split in
   * the release's binary format): names inside the release folder or archive, or absolute paths.
   */
  trainFiles?: readonly string[];
  testFiles?: readonly string[];
}

export async function loadCifar10(options: CifarOptions = {}): Promise<Dataset> {
  return loadCifar(CIFAR10, options);
}

export async function loadCifar100(options: CifarOptions = {}): Promise<Dataset> {
  return loadCifar(CIFAR100, options);
}

function placementHint(rel: CifarRelease, dir: string, downloading = false): string {
  return (
    `Put ${rel.archive} (or the extracted ${rel.folder}/ folder) into $MNEMO_DATA_DIR ` +
    `(now ${dir}), or ${downloading ? "retry the download when online" : "allow download"}; ` +
    `the official copy is ${rel.url} (md5 ${rel.md5}).`
  );
}

async function loadCifar(official: CifarRelease, options: CifarOptions): Promise<Dataset> {
  const rel: CifarRelease = {
    ...official,
    trainFiles: [...(options.trainFiles ?? official.trainFiles)],
    testFiles: [...(options.testFiles ?? official.testFiles)],
  };
  const dir = resolveDataDir(options.dataDir);
  const custom = options.trainFiles !== undefined || options.testFiles !== undefined;
  if (custom && [...rel.trainFiles, ...rel.testFiles].every((f) => isAbsolute(f))) {
    // Every file named by path: no release folder or archive needed.
    return toDataset(rel, await readFolder(rel, dir, dir), [...rel.trainFiles, ...rel.testFiles].join(", "), options.labels ?? "fine");
  }
  const folder = join(dir, rel.folder);
  const archive = join(dir, rel.archive);
  let split: { train: CifarArrays; test: CifarArrays; files: FileRecords[] };
  let source: string;
  if (isDir(folder)) {
    split = await readFolder(rel, folder, dir);
    source = folder;
  } else {
    if (!isFile(archive)) {
      if (!resolveDownload(options.download)) {
        throw new DataError(`${rel.archive} not found in ${dir} and ${downloadOffReason(options.download)}. ${placementHint(rel, dir)}`, {
          file: archive,
          url: rel.url,
        });
      }
      await downloadFile({
        url: resolveUrl(rel.url, rel.archive, options.mirror),
        dest: archive,
        md5: options.checksums?.[rel.archive] ?? rel.md5,
        connectTimeoutMs: resolveTimeoutMs(options.downloadTimeoutMs),
        onProgress: options.onProgress ?? stderrProgress(),
        hint: placementHint(rel, dir, true),
      });
    } else if (options.verifyChecksum !== false) {
      const actual = await md5File(archive);
      const expected = options.checksums?.[rel.archive] ?? rel.md5;
      if (actual !== expected) {
        throw new DataError(
          `${archive}: md5 ${actual} does not match the ${expected === rel.md5 ? "official" : "given"} ${expected} (corrupt or incomplete copy). ` +
            `Delete it and download again, or place a good copy. ${placementHint(rel, dir)}`,
          { file: archive, url: rel.url },
        );
      }
    }
    split = await readArchive(rel, archive, dir);
    source = archive;
  }
  // A custom split (train_files/test_files) is what the user chose: only official names are checked.
  return toDataset(rel, split, source, options.labels ?? "fine", incompleteFiles(rel, custom ? [] : split.files, options.incomplete ?? "warn"));
}

/**
 * Warnings for official file names whose record count is not the release's (e.g. a 1,000-record
 * test_batch.bin); with "refuse", the first one is a DataError instead.
 */
function incompleteFiles(rel: CifarRelease, files: readonly FileRecords[], policy: "warn" | "refuse"): string[] {
  const warnings: string[] = [];
  for (const f of files) {
    const expected = rel.records[f.name];
    if (expected === undefined || expected === f.records) continue;
    const problem =
      `${f.path}: ${f.records} records, the official ${f.name} of ${rel.name} has ${expected}: ` +
      `${f.records < expected ? "incomplete (truncated or a subset)" : "not the official file"}, so results are not comparable to published ${rel.name} numbers`;
    if (policy === "refuse") {
      throw new DataError(`${problem}. Replace it with the official copy (${rel.url}), or name it in train_files/test_files to use it as a custom split.`, {
        file: f.path,
        url: rel.url,
        expectedBytes: expected * (rel.variant.labelBytes + 3072),
        actualBytes: f.records * (rel.variant.labelBytes + 3072),
        incomplete: true,
      });
    }
    warnings.push(problem);
  }
  return warnings;
}

/** How many records one file (or archive member) held. */
interface FileRecords {
  /** Name as in the release (`test_batch.bin`) or as given in train_files/test_files. */
  name: string;
  /** Where it was read from (path, or `archive:member`). */
  path: string;
  records: number;
}

function toDataset(rel: CifarRelease, split: { train: CifarArrays; test: CifarArrays }, source: string, labels: "fine" | "coarse", warnings: string[] = []): Dataset {
  const coarse = rel.name === "cifar100" && labels === "coarse";
  const classNames: readonly string[] = rel.name === "cifar10" ? CIFAR10_CLASSES : coarse ? CIFAR100_COARSE_CLASSES : CIFAR100_FINE_CLASSES;
  const shape = [32, 32, 3] as const;
  const pick = (a: CifarArrays) => ({
    images: a.images,
    labels: coarse ? (a.coarse as Int32Array) : a.labels,
    count: a.count,
    shape,
  });
  return {
    name: coarse ? "cifar100-coarse" : rel.name,
    classNames,
    numClasses: classNames.length,
    shape,
    train: pick(split.train),
    test: pick(split.test),
    normalization: rel.name === "cifar10" ? CIFAR10_NORM : CIFAR100_NORM,
    source,
    ...(warnings.length ? { warnings } : {}),
  };
}

async function readFolder(rel: CifarRelease, folder: string, dir: string): Promise<{ train: CifarArrays; test: CifarArrays; files: FileRecords[] }> {
  const records: FileRecords[] = [];
  const read = async (names: string[]): Promise<CifarArrays> => {
    const files = names.map((n) => (isAbsolute(n) ? n : join(folder, n)));
    for (const f of files) {
      if (!isFile(f)) {
        throw new DataError(`${f} is missing (the ${rel.folder}/ folder is incomplete). ${placementHint(rel, dir)}`, {
          file: f,
          url: rel.url,
        });
      }
    }
    const sizes = files.map((f) => statSync(f).size);
    const rec = rel.variant.labelBytes + 3072;
    names.forEach((n, i) => records.push({ name: n, path: files[i] as string, records: Math.floor((sizes[i] as number) / rec) }));
    // Check every file before allocating, so a bad size is reported with its own file name.
    const parser = new CifarRecordParser(rel.variant, sizes.reduce((a, s) => a + Math.floor(s / rec), 0));
    const buffer = new Uint8Array(rec * 1024);
    for (let i = 0; i < files.length; i++) {
      const file = files[i] as string;
      parser.beginFile(file, sizes[i] as number);
      // One reused read buffer: fresh stream chunks would fault in new pages for every 4 MB,
      // which costs as much as the decoding itself on a busy machine.
      const handle = await open(file, "r");
      try {
        for (;;) {
          const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
          if (bytesRead === 0) break;
          parser.push(buffer.subarray(0, bytesRead));
        }
      } finally {
        await handle.close();
      }
      parser.endFile();
    }
    return parser.finish();
  };
  return { train: await read(rel.trainFiles), test: await read(rel.testFiles), files: records };
}

/**
 * One streaming pass over the .tar.gz: the gunzip+tar parser hands us each member as a stream,
 * and the record parser decodes it into the final arrays, so the archive is never extracted to
 * disk nor held in memory.
 */
async function readArchive(rel: CifarRelease, archive: string, dir: string): Promise<{ train: CifarArrays; test: CifarArrays; files: FileRecords[] }> {
  const members = new Map<string, { kind: "train" | "test"; order: number }>();
  rel.trainFiles.forEach((f, i) => members.set(`${rel.folder}/${f}`, { kind: "train", order: i }));
  rel.testFiles.forEach((f, i) => members.set(`${rel.folder}/${f}`, { kind: "test", order: i }));
  // CIFAR-10 spreads train over five members; each is decoded on its own and joined at the end
  // (member sizes are only known from their headers, so the final array cannot be sized earlier).
  const seen = new Map<string, CifarArrays>();
  const pending: Promise<void>[] = [];
  await new Promise<void>((resolve, reject) => {
    const parser = new Parser({
      strict: true,
      filter: (path: string) => members.has(path.replace(/^\.\//, "")),
      onReadEntry: (entry: ReadEntry) => {
        const name = entry.path.replace(/^\.\//, "");
        const label = `${archive}:${name}`;
        const size = entry.size;
        const rec = rel.variant.labelBytes + 3072;
        let p: CifarRecordParser;
        try {
          p = new CifarRecordParser(rel.variant, Math.floor(size / rec));
          p.beginFile(label, size);
        } catch (err) {
          entry.resume();
          reject(err);
          return;
        }
        pending.push(
          new Promise<void>((res, rej) => {
            entry.on("data", (chunk: Buffer) => {
              try {
                p.push(chunk);
              } catch (err) {
                rej(err);
              }
            });
            entry.on("end", () => {
              try {
                p.endFile();
                seen.set(name, p.finish());
                res();
              } catch (err) {
                rej(err);
              }
            });
          }),
        );
      },
    });
    parser.on("error", (err: Error) =>
      reject(new DataError(`${archive}: not a readable .tar.gz (${err.message}); truncated or corrupt. ${placementHint(rel, dir)}`, { file: archive, url: rel.url }, { cause: err })),
    );
    parser.on("end", () => resolve());
    const input = createReadStream(archive, { highWaterMark: 4 << 20 });
    input.on("error", (err) => reject(err));
    input.pipe(parser);
  });
  await Promise.all(pending);
  const collect = (names: string[]): CifarArrays => {
    const parts = names.map((n) => {
      const a = seen.get(`${rel.folder}/${n}`);
      if (!a) {
        const hint = isAbsolute(n) ? "an absolute path cannot name an archive member; extract the archive or list member names" : placementHint(rel, dir);
        throw new DataError(`${archive} has no member ${rel.folder}/${n} (not the official archive, truncated, or a wrong train_files/test_files name). ${hint}`, {
          file: archive,
          url: rel.url,
        });
      }
      return a;
    });
    if (parts.length === 1) return parts[0] as CifarArrays;
    return concatArrays(parts);
  };
  const files = [...rel.trainFiles, ...rel.testFiles].map((n) => ({ name: n, path: `${archive}:${rel.folder}/${n}`, records: seen.get(`${rel.folder}/${n}`)?.count ?? 0 }));
  return { train: collect(rel.trainFiles), test: collect(rel.testFiles), files };
}

function concatArrays(parts: CifarArrays[]): CifarArrays {
  const count = parts.reduce((a, p) => a + p.count, 0);
  const images = new Uint8Array(count * 3072);
  const labels = new Int32Array(count);
  let n = 0;
  for (const p of parts) {
    images.set(p.images, n * 3072);
    labels.set(p.labels, n);
    n += p.count;
  }
  return { images, labels, count };
}
