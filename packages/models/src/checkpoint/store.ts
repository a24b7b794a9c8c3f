/**
 * Checkpoint files: `<dir>/manifest.json` (format, version, what the checkpoint belongs to, sha256
 * of the data, the encoded state tree) + `<dir>/data.bin` (all tensor and array bytes).
 * Written to a temporary folder (files fsync'd) and renamed into place; the previous checkpoint
 * is kept as `<dir>.old` until the new one is in place, and read from there if a crash hit the
 * window between the two renames. Reading checks everything and fails with a CheckpointError that says what
 * is wrong — a damaged or foreign checkpoint never silently restarts a run.
 */
import type * as NodeCrypto from "node:crypto";
import type * as NodeFs from "node:fs";
import type * as NodePath from "node:path";
import { CheckpointError } from "@mnemo/core";
import { decodeState, encodeState, type StateValue } from "./codec.js";

interface NodeModules {
  fs: typeof NodeFs;
  path: typeof NodePath;
  crypto: typeof NodeCrypto;
}

/**
 * Checkpoint files are Node's. Its modules are taken when a checkpoint is written or read
 * (`process.getBuiltinModule`, Node >= 20.16), not imported, so that this package's root also
 * loads in a browser page (examples/browser), where calling these throws.
 */
function nodeModules(dir: string): NodeModules {
  const get = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process?.getBuiltinModule;
  if (!get) throw new CheckpointError("checkpoint files need Node.js >= 20.16 (there is no file system here)", dir);
  return { fs: get("node:fs") as typeof NodeFs, path: get("node:path") as typeof NodePath, crypto: get("node:crypto") as typeof NodeCrypto };
}

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
): { bytes: number } {
  const { fs, path, crypto } = nodeModules(dir);
  const { existsSync, mkdirSync, renameSync, rmSync } = fs;
  const { dirname, join } = path;
  const { tree, blob } = encodeState(state);
  const manifest: CheckpointManifest = {
    format: CHECKPOINT_FORMAT,
    version: CHECKPOINT_VERSION,
    createdAt: new Date().toISOString(),
    mnemoVersion,
    ...identity,
    dataSha256: crypto.createHash("sha256").update(blob).digest("hex"),
    dataBytes: blob.byteLength,
    position,
    state: tree,
  };
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const manifestText = JSON.stringify(manifest) + "\n";
  writeDurable(fs, join(tmp, "data.bin"), blob);
  writeDurable(fs, join(tmp, "manifest.json"), manifestText);
  fsyncDir(fs, tmp);
  const old = `${dir}.old`;
  // Only a complete `dir` may replace `.old`: after a crash between the renames below, `.old` is
  // the only checkpoint there is.
  if (existsSync(join(dir, "manifest.json"))) {
    rmSync(old, { recursive: true, force: true });
    renameSync(dir, old);
  } else rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  fsyncDir(fs, dirname(dir));
  rmSync(old, { recursive: true, force: true });
  return { bytes: blob.byteLength + Buffer.byteLength(manifestText) };
}

function writeDurable(fs: typeof NodeFs, file: string, content: Uint8Array | string): void {
  const { closeSync, fsyncSync, openSync, writeSync } = fs;
  const fd = openSync(file, "w");
  try {
    const bytes = typeof content === "string" ? Buffer.from(content, "utf8") : content;
    // writeSync may write less than asked (large buffers): loop until all of it is out.
    for (let off = 0; off < bytes.byteLength; ) off += writeSync(fd, bytes, off, bytes.byteLength - off);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Makes a rename durable; some filesystems refuse fsync on a directory, which then costs only durability. */
function fsyncDir(fs: typeof NodeFs, dir: string): void {
  const { closeSync, fsyncSync, openSync } = fs;
  try {
    const fd = openSync(dir, "r");
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // e.g. EISDIR/EINVAL on some platforms: the rename itself is still atomic
  }
}

export interface LoadedCheckpoint {
  manifest: CheckpointManifest;
  state: StateValue;
}

/** Reads and verifies a checkpoint; `expected` fields that differ are refused with an explanation. */
export function readCheckpoint(dir: string, expected?: Partial<CheckpointIdentity>): LoadedCheckpoint {
  const { fs, path, crypto } = nodeModules(dir);
  const { existsSync, readFileSync } = fs;
  const { join } = path;
  // A crash between writeCheckpoint's two renames leaves the previous, complete checkpoint in `.old`.
  if (!existsSync(join(dir, "manifest.json")) && existsSync(join(`${dir}.old`, "manifest.json"))) dir = `${dir}.old`;
  const manifestFile = join(dir, "manifest.json");
  const dataFile = join(dir, "data.bin");
  if (!existsSync(manifestFile)) {
    throw new CheckpointError(`no checkpoint here: ${manifestFile} is missing`, dir);
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
  const sha = crypto.createHash("sha256").update(blob).digest("hex");
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
