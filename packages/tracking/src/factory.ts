import { isAbsolute, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { TrackingError } from "@mnemo/core/errors";
import type { Tracker } from "@mnemo/core";
import { FileTracker } from "./file-tracker.js";
import { RestTracker } from "./rest-tracker.js";
import { FileStoreDestination, RestDestination } from "./destinations.js";
import { JournalTracker } from "./journal-tracker.js";
import { MlflowRestClient } from "./rest-client.js";
import type { TrackingAuth } from "./auth.js";
import type { RetryPolicy } from "./retry.js";
import type { Clock } from "./types.js";
import { redactUri } from "./redact.js";

export interface CreateTrackerOptions {
  /** Tracking URI; defaults to MLFLOW_TRACKING_URI, then `./mlruns`. */
  uri?: string;
  /** The run directory (`<runDir>/tracking-pending.jsonl` keeps what could not be sent). */
  runDir?: string;
  env?: NodeJS.ProcessEnv;
  /** Base for relative store paths; defaults to process.cwd(). */
  cwd?: string;
  auth?: TrackingAuth;
  retry?: Partial<RetryPolicy>;
  clock?: Clock;
  maxQueue?: number;
  flushIntervalMs?: number;
  onWarning?: (message: string) => void;
  /**
   * Journal everything in `<runDir>/tracking-journal.jsonl` before sending (JournalTracker):
   * nothing is lost to a kill, a resumed run continues the same MLflow run. Needs runDir.
   */
  journal?: boolean;
}

export type TrackingTarget = { kind: "rest"; uri: string } | { kind: "file"; root: string };

/** Decides where runs go: `http(s)://` -> MLflow server, `file:` or a path -> local file store. */
export function resolveTrackingTarget(uri: string | undefined, cwd: string = process.cwd()): TrackingTarget {
  const raw = (uri ?? "").trim() || "./mlruns";
  const shown = redactUri(raw);
  if (/^https?:\/\//i.test(raw)) {
    try {
      new URL(raw);
    } catch (cause) {
      throw new TrackingError(`MLFLOW_TRACKING_URI '${shown}' is not a valid URL; expected e.g. http://127.0.0.1:5000.`, {}, { cause });
    }
    return { kind: "rest", uri: raw };
  }
  if (/^file:/i.test(raw)) {
    if (/^file:\/\//i.test(raw)) {
      try {
        return { kind: "file", root: fileURLToPath(raw) };
      } catch (cause) {
        throw new TrackingError(`MLFLOW_TRACKING_URI '${shown}' is not a valid file URI; use file:///absolute/path/mlruns or a plain path.`, {}, { cause });
      }
    }
    // `file:relative/mlruns` is accepted by MLflow too.
    const path = decodeURIComponent(raw.slice("file:".length));
    return { kind: "file", root: isAbsolute(path) ? path : resolve(cwd, path) };
  }
  // A one-letter scheme is a Windows drive letter, not a URI scheme.
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]+):/.exec(raw);
  if (scheme) {
    throw new TrackingError(
      `MLFLOW_TRACKING_URI '${shown}' uses scheme '${scheme[1]}:', which Mnemo cannot write to directly. ` +
        `Use an MLflow server (e.g. \`mlflow server --backend-store-uri ${shown}\` and MLFLOW_TRACKING_URI=http://127.0.0.1:5000) ` +
        `or a local directory such as ./mlruns (then \`mlflow ui --backend-store-uri ./mlruns\`).`,
    );
  }
  return { kind: "file", root: isAbsolute(raw) ? raw : resolve(cwd, raw) };
}

/** The tracker for the configured URI: RestTracker for servers, FileTracker for local stores. */
export function createTracker(options: CreateTrackerOptions = {}): Tracker {
  const env = options.env ?? process.env;
  const target = resolveTrackingTarget(options.uri ?? env.MLFLOW_TRACKING_URI, options.cwd);
  if (options.journal) {
    if (!options.runDir) throw new TrackingError("createTracker({ journal: true }) needs runDir: the journal lives in the run directory.");
    const client = target.kind === "rest" ? new MlflowRestClient({ trackingUri: target.uri, env, auth: options.auth, retry: options.retry }) : undefined;
    return new JournalTracker({
      runDir: options.runDir,
      destination: client ? new RestDestination(client) : new FileStoreDestination((target as { root: string }).root),
      target: client ? { kind: "rest", uri: client.trackingUri } : target,
      clock: options.clock,
      flushIntervalMs: options.flushIntervalMs,
      onWarning: options.onWarning,
    });
  }
  if (target.kind === "rest") {
    return new RestTracker({
      trackingUri: target.uri,
      env,
      auth: options.auth,
      retry: options.retry,
      runDir: options.runDir,
      clock: options.clock,
      maxQueue: options.maxQueue,
      flushIntervalMs: options.flushIntervalMs,
      onWarning: options.onWarning,
    });
  }
  return new FileTracker({ root: target.root, clock: options.clock, flushIntervalMs: options.flushIntervalMs });
}
