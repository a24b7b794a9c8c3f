/**
 * Checkpoint files: `<dir>/manifest.json` (format, version, what the checkpoint belongs to, sha256
 * of the data, the encoded state tree) + `<dir>/data.bin` (all tensor and array bytes).
 * Written to a temporary folder and renamed into place, so a crash mid-write leaves the previous
 * checkpoint intact. Reading checks everything and fails with a CheckpointError that says what
 * is wrong — a damaged or foreign checkpoint never silently restarts a run.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CheckpointError } from "@mnemo/core";
import { decodeState, encodeState, type StateValue } from "./codec.js";

export const CHECKPOINT_FORMAT = "mnemo.checkpoint";
export const CHECKPOINT_VERSION = 1;

export interface CheckpointIdentity {
  /** sha256 of the resolved config that produced the run. */
  configHash: string;
  streamHash: string;
  seed: number;
  backend: string;
}

export interface CheckpointManifest extends CheckpointIdentity {
  format: typeof CHECKPOINT_FORMAT;
  version: number;
  createdAt: string;
  mnemoVersion: string;
  dataSha256: string;
  dataBytes: number;
  /** Human-readable position, e.g. { task: 3, epoch: 1, iteration: 40, complete: false }. */
  position: Record<string, number | boolean>;
  state: unknown;
}

export function writeCheckpoint(
  dir: string,
  identity: CheckpointIdentity,
  position: Record<string, number | boolean>,
  state: StateValue,
  mnemoVersion: string,
): void {
  const { tree, blob } = encodeState(state);
  const manifest: CheckpointManifest = {
    format: CHECKPOINT_FORMAT,
    version: CHECKPOINT_VERSION,
    createdAt: new Date().toISOString(),
    mnemoVersion,
    ...identity,
    dataSha256: createHash("sha256").update(blob).digest("hex"),
    dataBytes: blob.byteLength,
    position,
    state: tree,
  };
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  writeFileSync(join(tmp, "data.bin"), blob);
  writeFileSync(join(tmp, "manifest.json"), JSON.stringify(manifest) + "\n");
  const old = `${dir}.old`;
  rmSync(old, { recursive: true, force: true });
  if (existsSync(dir)) renameSync(dir, old);
  renameSync(tmp, dir);
  rmSync(old, { recursive: true, force: true });
}

export interface LoadedCheckpoint {
  manifest: CheckpointManifest;
  state: StateValue;
}

/** Reads and verifies a checkpoint; `expected` fields that differ are refused with an explanation. */
export function readCheckpoint(dir: string, expected?: Partial<CheckpointIdentity>): LoadedCheckpoint {
  const manifestFile = join(dir, "manifest.json");
  const dataFile = join(dir, "data.bin");
  if (!existsSync(manifestFile)) {
    const hint = existsSync(`${dir}.old`) ? ` (a previous checkpoint is in ${dir}.old: the last write was interrupted; rename it to ${dir} to use it)` : "";
    throw new CheckpointError(`no checkpoint here: ${manifestFile} is missing${hint}`, dir);
  }
  let manifest: CheckpointManifest;
  try {
    manifest = JSON.parse(readFileSync(manifestFile, "utf8")) as CheckpointManifest;
  } catch (err) {
    throw new CheckpointError(`manifest.json is not valid JSON (${(err as Error).message}); the checkpoint is damaged`, dir);
  }
  if (manifest.format !== CHECKPOINT_FORMAT) throw new CheckpointError(`not a Mnemo checkpoint (format "${String(manifest.format)}")`, dir);
  if (manifest.version !== CHECKPOINT_VERSION) {
    throw new CheckpointError(`checkpoint format version ${manifest.version} is not supported by this Mnemo (reads version ${CHECKPOINT_VERSION})`, dir);
  }
  if (!existsSync(dataFile)) throw new CheckpointError("data.bin is missing; the checkpoint is incomplete", dir);
  const blob = new Uint8Array(readFileSync(dataFile));
  if (blob.byteLength !== manifest.dataBytes) {
    throw new CheckpointError(`data.bin has ${blob.byteLength} bytes, the manifest says ${manifest.dataBytes}: the file is truncated or damaged`, dir);
  }
  const sha = createHash("sha256").update(blob).digest("hex");
  if (sha !== manifest.dataSha256) throw new CheckpointError("data.bin does not match its sha256 in manifest.json: the checkpoint is corrupt", dir);
  for (const key of ["configHash", "streamHash", "seed", "backend"] as const) {
    const want = expected?.[key];
    if (want !== undefined && manifest[key] !== want) {
      throw new CheckpointError(
        `checkpoint was made with a different ${key} (${String(manifest[key]).slice(0, 16)} vs ${String(want).slice(0, 16)} now); ` +
          (key === "backend" ? "resume on the same backend (MNEMO_BACKEND) for a bit-identical result" : "resume with the run's own config.yaml, unchanged"),
        dir,
      );
    }
  }
  return { manifest, state: decodeState(manifest.state, blob, dir) };
}
