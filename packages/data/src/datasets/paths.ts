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
