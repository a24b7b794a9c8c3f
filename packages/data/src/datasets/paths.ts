import { homedir } from "node:os";
import { join } from "node:path";
import { existsSync, statSync } from "node:fs";

/** `$MNEMO_DATA_DIR` if set, else ~/.cache/mnemo/datasets. An explicit option wins over both. */
export function resolveDataDir(explicit?: string): string {
  if (explicit && explicit.length > 0) return explicit;
  const env = process.env["MNEMO_DATA_DIR"];
  if (env && env.length > 0) return env;
  return join(homedir(), ".cache", "mnemo", "datasets");
}

export function isFile(path: string): boolean {
  return existsSync(path) && statSync(path).isFile();
}

export function isDir(path: string): boolean {
  return existsSync(path) && statSync(path).isDirectory();
}

/** Default connect timeout: option, then `$MNEMO_DOWNLOAD_TIMEOUT_MS`, then 10 s. */
export function resolveTimeoutMs(explicit?: number): number {
  if (explicit !== undefined) return explicit;
  const env = Number(process.env["MNEMO_DOWNLOAD_TIMEOUT_MS"]);
  return Number.isFinite(env) && env > 0 ? env : 10_000;
}

/** Whether missing files may be downloaded: the option, else `$MNEMO_DOWNLOAD` (0/false/no/off forbid), else yes. */
export function resolveDownload(explicit?: boolean): boolean {
  if (explicit !== undefined) return explicit;
  const env = (process.env["MNEMO_DOWNLOAD"] ?? "").trim().toLowerCase();
  if (["0", "false", "no", "off"].includes(env)) return false;
  return true;
}

/** URL of `file`: `<mirror>/<file>` when a mirror is given (option, then `$MNEMO_DATASET_MIRROR`), else the official one. */
export function resolveUrl(official: string, file: string, mirror?: string): string {
  const base = mirror ?? process.env["MNEMO_DATASET_MIRROR"];
  if (!base || base.length === 0) return official;
  return `${base.replace(/\/+$/, "")}/${file}`;
}

/** How a forbidden download is explained: which switch turned it off. */
export function downloadOffReason(explicit?: boolean): string {
  return explicit === false ? "download is disabled (download: false)" : "download is disabled (MNEMO_DOWNLOAD=0)";
}
