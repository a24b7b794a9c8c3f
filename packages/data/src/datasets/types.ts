import type { ImageSet } from "@mnemo/core";

/**
 * A labelled image collection with a fixed train/test split. Labels are the dataset's own
 * class ids (0..numClasses-1, e.g. CIFAR-100 fine labels); streams remap them later.
 */
export interface Dataset {
  /** Registry name, e.g. "cifar100". */
  readonly name: string;
  readonly classNames: readonly string[];
  readonly numClasses: number;
  /** [height, width, channels] of every image. */
  readonly shape: readonly [number, number, number];
  readonly train: ImageSet;
  readonly test: ImageSet;
  /** Per-channel mean/std on the 0..1 scale, when the dataset has published ones. */
  readonly normalization?: { mean: readonly number[]; std: readonly number[] };
  /** Where the data came from (file paths), for the run record and for error messages. */
  readonly source: string;
  /**
   * Problems that did not stop loading but change what the numbers mean, e.g. an official file
   * name holding fewer records than the release (`test_batch.bin: 1000 records, the official file
   * has 10000`). Callers print them where the user sees them (the run header) and record them.
   */
  readonly warnings?: readonly string[];
}

/** Progress of a download, reported while bytes arrive. */
export interface DownloadProgress {
  file: string;
  url: string;
  receivedBytes: number;
  /** Total size when the server sent Content-Length, else undefined. */
  totalBytes?: number;
}

export type ProgressCallback = (progress: DownloadProgress) => void;

/** Where and how a loader may look for files. */
export interface LoadOptions {
  /** Directory with local copies and the download cache (default `$MNEMO_DATA_DIR` or ~/.cache/mnemo/datasets). */
  dataDir?: string;
  /**
   * Download missing files (default true, so a machine with a network just works; offline the
   * error says which file to put where). `false` or `MNEMO_DOWNLOAD=0` forbids any network access.
   */
  download?: boolean;
  /**
   * Base URL to fetch the release files from instead of the official host (a local mirror):
   * `<mirror>/<file name>`. Default `$MNEMO_DATASET_MIRROR`. Checksums are still the official ones.
   */
  mirror?: string;
  /** md5 per file name, replacing the official ones (a mirror serving a modified or generated copy). */
  checksums?: Readonly<Record<string, string>>;
  /**
   * Official file names holding fewer (or more) records than the release: "warn" (default) loads
   * them and adds a warning to `Dataset.warnings`; "refuse" throws a DataError.
   */
  incomplete?: "warn" | "refuse";
  /** Connect timeout for downloads in ms (default 10 000, or `$MNEMO_DOWNLOAD_TIMEOUT_MS`). */
  downloadTimeoutMs?: number;
  /** Verify the md5 of official archives found locally (default true). Downloads are always verified. */
  verifyChecksum?: boolean;
  onProgress?: ProgressCallback;
}
