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
  /** Allow downloading missing files (default false: fail with instructions). */
  download?: boolean;
  /** Connect timeout for downloads in ms (default 10 000, or `$MNEMO_DOWNLOAD_TIMEOUT_MS`). */
  downloadTimeoutMs?: number;
  /** Verify the md5 of official archives found locally (default true). Downloads are always verified. */
  verifyChecksum?: boolean;
  onProgress?: ProgressCallback;
}
