/**
 * YAML configs validated into typed objects. Every error names the file, the 1-based line and
 * the key path: `configs/cil-cifar.yaml:12 stream.increment: expected a positive integer, got -1`.
 * Unknown keys are errors (schemas are strict). `--set a.b=value` overrides are parsed as YAML
 * scalars and reported as `--set a.b: problem` when they are wrong. Problems are worded by
 * config-messages.ts (with "did you mean" where a close name exists).
 */
import { closeSync, existsSync, fstatSync, openSync, readdirSync, readSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { isMap, isScalar, LineCounter, parseDocument, visit, type Document, type Node as YamlNode, type Pair } from "yaml";
import { z } from "zod";
import { describeIssue } from "./config-messages.js";
import { ConfigError, didYouMean } from "@mnemo/core";

export type PathSegment = string | number;

export interface LoadConfigOptions {
  /** `key.path=value` overrides applied after reading the file. */
  overrides?: string[];
  /** Text to parse instead of reading `file` (tests, inline configs). */
  text?: string;
}

export interface LoadedConfig<T> {
  value: T;
  file: string;
  /** The raw document after overrides (for re-serialising the resolved config). */
  raw: unknown;
  /** Where a key path lives: its line in the file, or the --set that gave it. */
  locate(path: readonly PathSegment[] | string): { file: string; line?: number };
  /** A ConfigError at a key path (for checks that run after schema validation). */
  errorAt(path: readonly PathSegment[] | string, problem: string): ConfigError;
}

function splitPath(path: readonly PathSegment[] | string): PathSegment[] {
  if (typeof path !== "string") return [...path];
  return path
    .replace(/\[(\d+)\]/g, ".$1")
    .split(".").filter((p) => p.length > 0).map((p) => (/^\d+$/.test(p) ? Number(p) : p));
}

export function formatPath(path: readonly PathSegment[]): string {
  return path.map(String).join(".");
}

/*
 * Hostile input. A config is a small UTF-8 YAML mapping; anything else is refused with a
 * ConfigError before the YAML parser, `--set` or the schema see it, and the offending bytes
 * are described (hex, code point), never echoed: a binary file must not write to the terminal.
 */

/** Config files are a few KiB; past this the file is refused before it is read in full. */
export const MAX_CONFIG_BYTES = 1024 * 1024;
/** Alias references resolved per document (yaml's own default; stops "billion laughs"). */
export const MAX_YAML_ALIASES = 100;
/** Flow-collection nesting (`[[[...]]]`); the parser's recursion would otherwise hit the stack limit slowly. */
export const MAX_YAML_NESTING = 64;
const MAX_SET_LENGTH = 10_000;
const FORBIDDEN_SEGMENTS = new Set(["__proto__", "constructor", "prototype"]);

/** Makes any text safe to print on one line: control and format characters become escapes, long text is cut. */
export function printable(text: string, max = 80): string {
  // eslint-disable-next-line no-control-regex
  const safe = text.replace(/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff\ufffd]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
  return safe.length > max ? `${safe.slice(0, max - 3)}...` : safe;
}

function lineOf(text: string, index: number): number {
  let line = 1;
  for (let i = 0; i < index && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

function readConfigBytes(file: string): Buffer {
  let fd: number;
  try {
    fd = openSync(file, "r");
  } catch (err) {
    const code = (err as { code?: string }).code;
    throw new ConfigError(code === "ENOENT" ? fileNotFound(file) : `cannot read config file (${code ?? "error"}); check the path and its permissions`, { file });
  }
  try {
    const stat = fstatSync(fd);
    if (stat.isDirectory()) throw new ConfigError("is a directory, not a config file; give the path of a .yaml file", { file });
    if (stat.isFile() && stat.size > MAX_CONFIG_BYTES) {
      throw new ConfigError(`file is ${stat.size} bytes; a config file is at most ${MAX_CONFIG_BYTES} bytes (1 MiB). Is this the right file?`, { file });
    }
    // Read at most one byte past the limit, so that pipes and devices that report no size are bounded too.
    const buf = Buffer.alloc(MAX_CONFIG_BYTES + 1);
    let n = 0;
    for (;;) {
      const got = readSync(fd, buf, n, buf.length - n, null);
      if (got === 0) break;
      n += got;
      if (n > MAX_CONFIG_BYTES) throw new ConfigError(`input is larger than ${MAX_CONFIG_BYTES} bytes (1 MiB), the limit for a config file. Is this the right file?`, { file });
    }
    return buf.subarray(0, n);
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(`cannot read config file (${(err as { code?: string }).code ?? (err as Error).message}); check the path and its permissions`, { file });
  } finally {
    closeSync(fd);
  }
}

function decodeUtf8(bytes: Buffer, file: string): string {
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    // Find the first bad byte for the message (the decoder does not say where).
    let offset = 0;
    for (let lo = 0, hi = bytes.length; lo < hi; ) {
      const mid = (lo + hi) >> 1;
      try {
        new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(0, mid + 1), { stream: true });
        lo = mid + 1;
        offset = lo;
      } catch {
        hi = mid;
        offset = mid;
      }
    }
    const line = 1 + bytes.subarray(0, offset).filter((b) => b === 10).length;
    const b = bytes[offset] ?? 0;
    throw new ConfigError(`not UTF-8 text (byte 0x${b.toString(16).padStart(2, "0")} at offset ${offset}); a config must be a UTF-8 YAML file. Is this a binary file?`, { file, line });
  }
}

/** Text checks shared by files and inline text: no control characters, bounded size and nesting. */
function checkConfigText(text: string, file: string): void {
  if (text.length > MAX_CONFIG_BYTES) throw new ConfigError(`config text is ${text.length} characters; the limit is ${MAX_CONFIG_BYTES}`, { file });
  // eslint-disable-next-line no-control-regex
  const ctrl = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\ufffe\uffff]/.exec(text);
  if (ctrl) {
    throw new ConfigError(
      `contains the control character U+${ctrl[0].charCodeAt(0).toString(16).padStart(4, "0").toUpperCase()}; a config must be plain YAML text (tabs, newlines and printable characters). Is this a binary file?`,
      { file, line: lineOf(text, ctrl.index) },
    );
  }
  let depth = 0;
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "\n") quote = undefined;
    else if (quote) {
      if (c === quote) quote = undefined;
    } else if (c === "'" || c === '"') quote = c;
    else if (c === "#" && (i === 0 || /\s/.test(text[i - 1] ?? ""))) {
      const nl = text.indexOf("\n", i);
      i = nl < 0 ? text.length : nl - 1;
    } else if (c === "[" || c === "{") {
      if (++depth > MAX_YAML_NESTING) throw new ConfigError(`YAML nested more than ${MAX_YAML_NESTING} levels deep; a config needs a handful`, { file, line: lineOf(text, i) });
    } else if (c === "]" || c === "}") depth = Math.max(0, depth - 1);
  }
}

function describeKind(node: unknown): string {
  if (node === null || node === undefined) return "an empty document";
  const js = isScalar(node) ? node.value : undefined;
  if (isScalar(node)) return typeof js === "string" ? "a single string" : `a single ${js === null ? "null" : typeof js}`;
  return (node as { items?: unknown }).items !== undefined ? "a list" : "something else";
}

/** The document as plain JS; alias bombs and runaway recursion become ConfigErrors at their line. */
function documentToJs(doc: Document, lineCounter: LineCounter, file: string): unknown {
  try {
    return doc.toJS({ maxAliasCount: MAX_YAML_ALIASES });
  } catch (err) {
    if (err instanceof ReferenceError && /alias/i.test(err.message)) {
      let line: number | undefined;
      visit(doc, {
        Alias(_key, node) {
          if (node.range) line = lineCounter.linePos(node.range[0]).line;
          return visit.BREAK;
        },
      });
      throw new ConfigError(`YAML aliases (*name) expand to more than ${MAX_YAML_ALIASES} references; write the values out instead of nesting aliases`, { file, line });
    }
    if (err instanceof RangeError) throw new ConfigError("YAML too deeply nested or too large to read; a config is a small mapping of keys", { file });
    throw err;
  }
}

function fileNotFound(file: string): string {
  const dir = dirname(file);
  if (!existsSync(dir)) return `config file not found (no directory ${dir})`;
  let names: string[] = [];
  try {
    names = readdirSync(dir).filter((n) => /\.ya?ml$/.test(n));
  } catch {
    return "config file not found";
  }
  return `config file not found${didYouMean(basename(file), names, (n) => join(dir, n))}`;
}

function setOverride(doc: Document, raw: string): { path: PathSegment[]; text: string } {
  if (raw.length > MAX_SET_LENGTH) throw new ConfigError(`a --set is ${raw.length} characters long; the limit is ${MAX_SET_LENGTH}`, { file: "--set" });
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0008\u000a-\u001f\u007f]/.test(raw)) throw new ConfigError(`--set "${printable(raw)}" contains a control character; give key.path=value as plain text`, { file: "--set" });
  const eq = raw.indexOf("=");
  if (eq < 0) {
    const key = printable(raw.trim());
    throw new ConfigError(`expected key=value as one argument, got "${printable(raw)}": write --set ${key || "key.path"}=<value> (no space around =)`, { file: "--set" });
  }
  if (eq === 0) throw new ConfigError(`expected key=value, got "${printable(raw)}": the key is missing before =`, { file: "--set" });
  const path = splitPath(raw.slice(0, eq).trim());
  if (path.length === 0) throw new ConfigError(`expected key.path=value, got "${printable(raw)}"`, { file: "--set" });
  const bad = path.find((p) => typeof p === "string" && FORBIDDEN_SEGMENTS.has(p));
  if (bad !== undefined) throw new ConfigError(`"${String(bad)}" is not a config key`, { file: "--set", path: printable(formatPath(path)) });
  const valueText = raw.slice(eq + 1);
  const parsed = parseDocument(valueText, { logLevel: "error" });
  if (parsed.errors.length > 0) throw new ConfigError(`cannot parse value "${printable(valueText)}" (lists are written [a,b], text with spaces in quotes)`, { file: "--set", path: formatPath(path) });
  let value: unknown;
  try {
    value = parsed.toJS({ maxAliasCount: MAX_YAML_ALIASES });
  } catch {
    throw new ConfigError(`cannot use value "${printable(valueText)}" (aliases are not allowed in --set)`, { file: "--set", path: formatPath(path) });
  }
  try {
    doc.setIn(path, doc.createNode(value));
  } catch {
    // The path runs through a scalar or list (e.g. --set name.x=1 where name is a string).
    throw new ConfigError(`cannot set ${formatPath(path)}: a key on the way is not a mapping in the config`, { file: "--set", path: formatPath(path) });
  }
  return { path, text: valueText };
}

/** Reads, applies overrides and validates. Throws ConfigError (never a raw zod or yaml error). */
export function loadConfig<S extends z.ZodType>(file: string, schema: S, options: LoadConfigOptions = {}): LoadedConfig<z.output<S>> {
  const text = options.text ?? decodeUtf8(readConfigBytes(file), file);
  checkConfigText(text, file);
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true, logLevel: "error" });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const line = e.linePos?.[0]?.line ?? lineCounter.linePos(e.pos[0]).line;
    throw new ConfigError(`YAML syntax error: ${printable(e.message.split("\n")[0] ?? "", 160)}`, { file, line });
  }
  // Overrides and key lookups assume a mapping; refuse anything else first.
  if (!isMap(doc.contents)) {
    throw new ConfigError(`expected a YAML mapping of keys (e.g. "name: split-mnist"), got ${describeKind(doc.contents)}`, { file, line: 1 });
  }
  const original = doc.clone();
  const overrides = (options.overrides ?? []).map((o) => setOverride(doc, o));
  const overrideOf = (key: string): { path: PathSegment[]; text: string } | undefined =>
    [...overrides].reverse().find((o) => key === formatPath(o.path) || key.startsWith(formatPath(o.path) + "."));

  const locate = (pathIn: readonly PathSegment[] | string): { file: string; line?: number } => {
    const path = splitPath(pathIn);
    const key = formatPath(path);
    // The key is printed once, after the location: `--set training.lr: expected ...`.
    if (overrideOf(key)) return { file: "--set" };
    // A key only a --set created (a misspelt section, `--set trainig.lr=...`) is the --set's, not the file's.
    if (path.length > 0 && !original.hasIn(path) && overrides.some((o) => formatPath(o.path).startsWith(key + "."))) return { file: "--set" };
    // Walk down as far as the document goes: a missing key is reported at its parent.
    for (let n = path.length; n >= 0; n--) {
      const node = (n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true)) as YamlNode | undefined;
      const range = node && (node as { range?: [number, number, number] }).range;
      if (range) {
        // For a key inside a map, point at the key's line rather than the value's.
        const pairLine = n > 0 ? keyLine(doc, path.slice(0, n), lineCounter) : undefined;
        return { file, line: pairLine ?? lineCounter.linePos(range[0]).line };
      }
    }
    return { file };
  };

  const raw: unknown = documentToJs(doc, lineCounter, file);
  const result = schema.safeParse(raw);
  if (!result.success) {
    // An unknown key first: a misspelt key is usually why a required one looks missing.
    const issue = result.error.issues.find((i) => i.code === "unrecognized_keys") ?? result.error.issues[0]!;
    let path = issue.path as PathSegment[];
    if (issue.code === "unrecognized_keys" && issue.keys.length > 0) path = [...path, issue.keys[0]!];
    const where = locate(path);
    const o = overrideOf(formatPath(issue.path as PathSegment[]));
    const problem = describeIssue(issue, { data: raw, schema, override: o && { key: formatPath(o.path), text: o.text } });
    throw new ConfigError(problem, { file: where.file, line: where.line, path: formatPath(path) });
  }
  return {
    value: result.data,
    file,
    raw,
    locate,
    errorAt(pathIn, problem) {
      const path = splitPath(pathIn);
      const where = locate(path);
      return new ConfigError(problem, { file: where.file, line: where.line, path: formatPath(path) });
    },
  };
}

function keyLine(doc: Document, path: PathSegment[], lc: LineCounter): number | undefined {
  const parent = path.length === 1 ? doc.contents : doc.getIn(path.slice(0, -1), true);
  if (!isMap(parent)) return undefined;
  const last = path[path.length - 1];
  const pair = (parent.items as Pair[]).find((p) => isScalar(p.key) && String(p.key.value) === String(last));
  const range = pair && isScalar(pair.key) ? pair.key.range : undefined;
  return range ? lc.linePos(range[0]).line : undefined;
}

/** Reusable schema pieces with messages in the house style. */
export const positiveInt = () => z.number({ error: "expected a positive integer" }).int("expected a positive integer").positive("expected a positive integer");
export const nonNegativeInt = () => z.number({ error: "expected a non-negative integer" }).int("expected a non-negative integer").min(0, "expected a non-negative integer");
export const positiveNumber = () => z.number({ error: "expected a positive number" }).positive("expected a positive number");
export const probability = () => z.number({ error: "expected a number in [0, 1]" }).min(0, "expected a number in [0, 1]").max(1, "expected a number in [0, 1]");

/** Letters, digits, ".", "_" and "-", not starting with "." (so never ".." or a hidden folder). */
const SAFE_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/;
export const MAX_NAME_LENGTH = 100;

/**
 * A string that becomes a folder name (the experiment name under `output.dir`): no separators,
 * no "..", no control characters, so a run can never write outside `output.dir`.
 */
export const folderName = () =>
  z.string({ error: "expected a name" }).refine((v) => v.length <= MAX_NAME_LENGTH && SAFE_NAME.test(v), {
    error: (issue) =>
      `${JSON.stringify(printable(String(issue.input), 40))} cannot name a folder: use only letters, digits, ".", "_" and "-" (not first: "."), at most ${MAX_NAME_LENGTH} characters; no "/", "\\", "..", spaces or control characters`,
  });
