/**
 * Typed errors. Every message must tell the user what to do next: which file, which key,
 * which line, which URL. Catch by class (`instanceof DataError`) or by `code`.
 */
export class MnemoError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

export interface ConfigErrorLocation {
  /** Config file path as the user gave it (or "<--set>" / "<inline>"). */
  file?: string;
  /** 1-based line in the file, when known. */
  line?: number;
  /** Dotted key path, e.g. `stream.increment`. */
  path?: string;
}

/** A config that cannot be run. Formats as `file:line key.path: problem`. */
export class ConfigError extends MnemoError {
  readonly file?: string;
  readonly line?: number;
  readonly path?: string;
  readonly problem: string;
  constructor(problem: string, where: ConfigErrorLocation = {}, options?: { cause?: unknown }) {
    super("CONFIG", formatConfigMessage(problem, where), options);
    this.problem = problem;
    this.file = where.file;
    this.line = where.line;
    this.path = where.path;
  }
}

function formatConfigMessage(problem: string, where: ConfigErrorLocation): string {
  const place = where.file ? (where.line ? `${where.file}:${where.line}` : where.file) : "";
  const head = [place, where.path].filter((s) => s && s.length > 0).join(" ");
  return head ? `${head}: ${problem}` : problem;
}

export interface DataErrorDetails {
  file?: string;
  url?: string;
  offset?: number;
  expectedBytes?: number;
  actualBytes?: number;
  /** A well-formed file under an official name with another record count than the release (refused by `incomplete: "refuse"`). */
  incomplete?: boolean;
}

/** Missing, truncated, corrupt or mislabelled data. Names the file (and offset/URL when known). */
export class DataError extends MnemoError {
  readonly details: DataErrorDetails;
  constructor(message: string, details: DataErrorDetails = {}, options?: { cause?: unknown }) {
    super("DATA", message, options);
    this.details = details;
  }
}

/** A requested compute backend is missing or failed to initialise. */
export class BackendError extends MnemoError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("BACKEND", message, options);
  }
}

/** A checkpoint that is corrupt, from another version, or from another config. Never silently ignored. */
export class CheckpointError extends MnemoError {
  readonly file?: string;
  constructor(message: string, file?: string, options?: { cause?: unknown }) {
    super("CHECKPOINT", file ? `${file}: ${message}` : message, options);
    this.file = file;
  }
}

/** Tracking backend (MLflow server or file store) refused or failed a request. */
export class TrackingError extends MnemoError {
  readonly status?: number;
  readonly errorCode?: string;
  constructor(message: string, details: { status?: number; errorCode?: string } = {}, options?: { cause?: unknown }) {
    super("TRACKING", message, options);
    this.status = details.status;
    this.errorCode = details.errorCode;
  }
}

/** A shape, label or argument that breaks an API contract (a programming error, not bad data). */
export class ShapeError extends MnemoError {
  constructor(message: string) {
    super("SHAPE", message);
  }
}

/** Training stopped on request (Ctrl-C) between two steps; the state is consistent and can be saved. */
export class TrainingInterrupted extends MnemoError {
  readonly taskIndex: number;
  constructor(taskIndex: number) {
    super("INTERRUPTED", `training interrupted during task ${taskIndex}`);
    this.taskIndex = taskIndex;
  }
}

/**
 * How printed hints spell the command. After `npm ci` the `mnemo` binary lives in
 * node_modules/.bin, which is not on PATH: `npx mnemo` finds it, a bare `mnemo` does not.
 */
export const MNEMO_COMMAND = "npx mnemo";
