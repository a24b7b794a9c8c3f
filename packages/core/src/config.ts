/**
 * YAML configs validated into typed objects. Every error names the file, the 1-based line and
 * the key path: `configs/cil-cifar.yaml:12 stream.increment: expected a positive integer, got -1`.
 * Unknown keys are errors (schemas are strict). `--set a.b=value` overrides are parsed as YAML
 * scalars and reported as `--set a.b` when they are wrong.
 */
import { readFileSync } from "node:fs";
import { isMap, isScalar, LineCounter, parseDocument, type Document, type Node as YamlNode, type Pair } from "yaml";
import { z } from "zod";
import { ConfigError } from "./errors.js";

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

function describeValue(v: unknown): string {
  if (v === undefined) return "nothing";
  if (typeof v === "string") return JSON.stringify(v);
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

function valueAt(data: unknown, path: readonly PathSegment[]): unknown {
  let cur: unknown = data;
  for (const seg of path) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<string | number, unknown>)[seg];
  }
  return cur;
}

/** Zod issue → the one-line problem text (without location). */
function describeIssue(issue: z.core.$ZodIssue, data: unknown): string {
  const got = valueAt(data, issue.path as PathSegment[]);
  switch (issue.code) {
    case "unrecognized_keys":
      return `unknown key${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => `"${k}"`).join(", ")}`;
    case "invalid_type":
      if (got === undefined) return `required key is missing (expected ${issue.expected})`;
      return `${issue.message.startsWith("expected") ? issue.message : `expected ${issue.expected}`}, got ${describeValue(got)}`;
    case "invalid_union":
    case "invalid_value":
    case "too_small":
    case "too_big":
    case "invalid_format":
    case "not_multiple_of":
    case "custom":
    default:
      return `${issue.message}, got ${describeValue(got)}`;
  }
}

function setOverride(doc: Document, raw: string): PathSegment[] {
  const eq = raw.indexOf("=");
  if (eq <= 0) throw new ConfigError(`expected key.path=value, got "${raw}"`, { file: "--set" });
  const path = splitPath(raw.slice(0, eq).trim());
  const valueText = raw.slice(eq + 1);
  const parsed = parseDocument(valueText);
  if (parsed.errors.length > 0) throw new ConfigError(`cannot parse value "${valueText}"`, { file: "--set", path: formatPath(path) });
  doc.setIn(path, doc.createNode(parsed.toJS()));
  return path;
}

/** Reads, applies overrides and validates. Throws ConfigError (never a raw zod or yaml error). */
export function loadConfig<S extends z.ZodType>(file: string, schema: S, options: LoadConfigOptions = {}): LoadedConfig<z.output<S>> {
  let text = options.text;
  if (text === undefined) {
    try {
      text = readFileSync(file, "utf8");
    } catch (err) {
      const code = (err as { code?: string }).code;
      throw new ConfigError(code === "ENOENT" ? "config file not found" : `cannot read config file: ${(err as Error).message}`, { file });
    }
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const line = e.linePos?.[0]?.line ?? lineCounter.linePos(e.pos[0]).line;
    throw new ConfigError(`YAML syntax error: ${e.message.split("\n")[0]}`, { file, line });
  }
  const overridden: PathSegment[][] = [];
  for (const o of options.overrides ?? []) overridden.push(setOverride(doc, o));

  const locate = (pathIn: readonly PathSegment[] | string): { file: string; line?: number } => {
    const path = splitPath(pathIn);
    const key = formatPath(path);
    if (overridden.some((o) => key === formatPath(o) || key.startsWith(formatPath(o) + "."))) return { file: `--set ${key}` };
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

  const raw: unknown = doc.toJS();
  const result = schema.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    let path = issue.path as PathSegment[];
    if (issue.code === "unrecognized_keys" && issue.keys.length > 0) path = [...path, issue.keys[0]!];
    const where = locate(path);
    throw new ConfigError(describeIssue(issue, raw), { file: where.file, line: where.line, path: formatPath(path) });
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
