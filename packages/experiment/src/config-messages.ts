/**
 * Schema-validation problems in the project's words: what was expected, what was given, and the
 * fix when we can guess it (a close key, method or dataset name; `[256,256]` for a list written
 * as `256,256`; `output.dir=...` for a `--set` on a section). No schema-library jargon reaches
 * the user ("Invalid discriminator value", "Too small: expected number to be >=1").
 */
import type { z } from "zod";
// A function-level cycle with config.ts (which calls describeIssue): safe, nothing runs at import time.
import { closestMatches, didYouMean } from "@mnemo/core";
import { printable } from "./config-loader.js";

export type Segment = string | number;

/** The zod-internal definition fields this module reads (zod 4 `_zod.def`). */
interface Def {
  type: string;
  shape?: Record<string, z.ZodType>;
  innerType?: z.ZodType;
  in?: z.ZodType;
  out?: z.ZodType;
  options?: z.ZodType[];
  discriminator?: string;
  element?: z.ZodType;
  valueType?: z.ZodType;
  left?: z.ZodType;
  right?: z.ZodType;
  getter?: () => z.ZodType;
  values?: unknown[];
  entries?: Record<string, unknown>;
}

const defOf = (s: z.ZodType | undefined): Def | undefined => (s as unknown as { _zod?: { def?: Def } } | undefined)?._zod?.def;

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

/** Strips defaults, optionals and pipes; picks a discriminated union's option from the data. */
function unwrap(schema: z.ZodType | undefined, data: unknown): z.ZodType[] {
  const def = defOf(schema);
  if (!schema || !def) return [];
  switch (def.type) {
    case "default":
    case "prefault":
    case "optional":
    case "nullable":
    case "readonly":
    case "catch":
    case "nonoptional":
      return unwrap(def.innerType, data);
    case "pipe":
      return unwrap(def.in, data);
    case "lazy":
      return def.getter ? unwrap(def.getter(), data) : [];
    case "intersection":
      return [...unwrap(def.left, data), ...unwrap(def.right, data)];
    case "union": {
      const options = def.options ?? [];
      if (def.discriminator && isRecord(data)) {
        const chosen = options.filter((o) => literalValues(unwrap(o, data).map((u) => defOf(u)?.shape?.[def.discriminator as string])).includes(data[def.discriminator as string]));
        if (chosen.length > 0) return chosen.flatMap((o) => unwrap(o, data));
      }
      return options.flatMap((o) => unwrap(o, data));
    }
    default:
      return [schema];
  }
}

function literalValues(schemas: (z.ZodType | undefined)[]): unknown[] {
  return schemas.flatMap((s) => unwrap(s, undefined).flatMap((u) => {
    const d = defOf(u);
    if (d?.type === "literal") return d.values ?? [];
    if (d?.type === "enum") return Object.values(d.entries ?? {});
    return [];
  }));
}

/** The schema nodes at a key path (several where a plain union leaves it open). */
export function schemaAt(schema: z.ZodType, path: readonly Segment[], data: unknown): z.ZodType[] {
  let nodes = unwrap(schema, data);
  let cur = data;
  for (const seg of path) {
    const next: z.ZodType[] = [];
    for (const n of nodes) {
      const d = defOf(n);
      if (d?.type === "object" && typeof seg === "string" && d.shape?.[seg]) next.push(d.shape[seg]);
      else if (d?.type === "array" && d.element) next.push(d.element);
      else if (d?.type === "record" && d.valueType) next.push(d.valueType);
    }
    cur = cur !== null && typeof cur === "object" ? (cur as Record<string, unknown>)[seg as string] : undefined;
    nodes = next.flatMap((s) => unwrap(s, cur));
  }
  return nodes;
}

/** Keys an object accepts at this path (empty if it is not an object). */
export function keysAt(schema: z.ZodType, path: readonly Segment[], data: unknown): string[] {
  return [...new Set(schemaAt(schema, path, data).flatMap((n) => Object.keys(defOf(n)?.shape ?? {})))];
}

export function describeValue(v: unknown): string {
  if (v === undefined) return "nothing";
  if (typeof v === "string") return printable(JSON.stringify(v));
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

function valueAt(data: unknown, path: readonly Segment[]): unknown {
  let cur: unknown = data;
  for (const seg of path) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<string | number, unknown>)[seg];
  }
  return cur;
}

const TYPE_WORDS: Record<string, string> = {
  string: "a string",
  number: "a number",
  int: "an integer",
  boolean: "true or false",
  array: "a list ([a, b])",
  object: "a section of keys",
  tuple: "a list",
  record: "a section of keys",
  null: "null",
};

const list = (xs: readonly unknown[]): string => xs.map((x) => (typeof x === "string" ? x : JSON.stringify(x))).join(", ");

/** A config key that is being set from the command line, with the text after `=`. */
export interface OverrideContext {
  key: string;
  text: string;
}

export interface IssueContext {
  /** The document after overrides. */
  data: unknown;
  /** The schema that was validated (to list a section's keys). */
  schema: z.ZodType;
  /** Set when the key at the issue's path came from `--set`. */
  override?: OverrideContext;
}

/** What a discriminator or enum value names, for "unknown method" / "unknown dataset". */
function noun(path: readonly Segment[]): string {
  const last = path[path.length - 1];
  const parent = path[path.length - 2];
  if (last === "name" && typeof parent === "string") return parent;
  if (last === "kind" && typeof parent === "string") return `${parent} kind`;
  return typeof last === "string" ? last : "value";
}

function unknownChoice(path: readonly Segment[], got: unknown, options: readonly unknown[]): string {
  const names = options.map(String);
  const hint = typeof got === "string" ? didYouMean(got, names) : "";
  return `unknown ${noun(path)} ${describeValue(got)}${hint}; expected one of: ${list(options)}`;
}

function bound(issue: { origin?: string; minimum?: unknown; maximum?: unknown; inclusive?: boolean }, small: boolean, isInt: boolean): string {
  const limit = Number(small ? issue.minimum : issue.maximum);
  const origin = issue.origin ?? "number";
  if (origin === "string") {
    if (small && limit === 1) return "expected a non-empty string";
    return `expected a string of ${small ? "at least" : "at most"} ${limit} characters`;
  }
  if (origin === "array" || origin === "set") {
    if (small && limit === 1) return "expected a non-empty list";
    return `expected a list of ${small ? "at least" : "at most"} ${limit} entr${limit === 1 ? "y" : "ies"}`;
  }
  if (small) {
    if (isInt && issue.inclusive !== false && limit === 1) return "expected a positive integer";
    if (isInt && issue.inclusive !== false && limit === 0) return "expected a non-negative integer";
    if (!isInt && issue.inclusive === false && limit === 0) return "expected a positive number";
  }
  const what = isInt ? "an integer" : "a number";
  if (small) return issue.inclusive === false ? `expected ${what} greater than ${limit}` : `expected ${what} >= ${limit}`;
  return issue.inclusive === false ? `expected ${what} less than ${limit}` : `expected ${what} <= ${limit}`;
}

/** Whether the number schema at the path only takes integers (`.int()`). */
function integerOnly(ctx: IssueContext, path: readonly Segment[]): boolean {
  return schemaAt(ctx.schema, path, ctx.data).some((n) =>
    ((defOf(n) as { checks?: unknown[] } | undefined)?.checks ?? []).some((c) => {
      const d = defOf(c as z.ZodType) as { check?: string; format?: string } | undefined;
      return d?.check === "number_format" && /int/.test(d.format ?? "");
    }),
  );
}

/** Messages written by our schemas ("expected a positive integer") are kept as they are. */
const houseStyle = (message: string): boolean => /^expected /.test(message);

/** A zod issue → the one-line problem (without the `file:line key` location). */
export function describeIssue(issue: z.core.$ZodIssue, ctx: IssueContext): string {
  const path = issue.path as Segment[];
  const got = valueAt(ctx.data, path);
  switch (issue.code) {
    case "unrecognized_keys": {
      const parent = path;
      const valid = keysAt(ctx.schema, parent, ctx.data);
      const key = issue.keys[0] as string;
      const present = isRecord(valueAt(ctx.data, parent)) ? Object.keys(valueAt(ctx.data, parent) as object) : [];
      // Prefer keys not given yet (the typo is of a key the user has not written), else any valid key.
      const free = valid.filter((k) => !present.includes(k));
      const close = closestMatches(key, free, 2).length ? closestMatches(key, free, 2) : closestMatches(key, valid, 2);
      const more = issue.keys.length > 1 ? ` (and ${issue.keys.slice(1, 6).map((k) => `"${printable(k, 40)}"`).join(", ")}${issue.keys.length > 6 ? ", ..." : ""})` : "";
      const shown = printable(key, 60);
      if (close.length) return `unknown key "${shown}"${more}: did you mean ${close.map((c) => `"${c}"`).join(" or ")}?`;
      const where = parent.length ? `under ${printable(parent.join("."), 60)}` : "at the top level";
      return `unknown key "${shown}"${more}; valid keys ${where}: ${valid.length ? valid.join(", ") : "(none)"}`;
    }
    case "invalid_union": {
      const u = issue as { discriminator?: string; options?: unknown[] };
      if (u.options && u.options.length > 0) return unknownChoice(path, got, u.options);
      if (got === undefined) return "required key is missing";
      return `${describeValue(got)} is not allowed here${ctx.override ? "" : ""}; see \`mnemo schema\` for what this key takes`;
    }
    case "invalid_value": {
      const values = (issue as { values?: unknown[] }).values ?? [];
      if (values.length === 1) return `expected ${describeValue(values[0])}, got ${describeValue(got)}`;
      return unknownChoice(path, got, values);
    }
    case "invalid_type": {
      const expected = String(issue.expected);
      const words = houseStyle(issue.message) ? issue.message.replace(/^expected /, "") : (TYPE_WORDS[expected] ?? expected);
      if (got === undefined) return `required key is missing (expected ${words})`;
      return `expected ${words}, got ${describeValue(got)}${typeFix(expected, got, path, ctx)}`;
    }
    case "too_small":
    case "too_big": {
      const text = houseStyle(issue.message) ? issue.message : bound(issue as never, issue.code === "too_small", integerOnly(ctx, path));
      return `${text}, got ${describeValue(got)}`;
    }
    case "invalid_format":
      return `${houseStyle(issue.message) ? issue.message : `expected a ${(issue as { format?: string }).format ?? "valid"} string`}, got ${describeValue(got)}`;
    case "not_multiple_of":
      return `expected a multiple of ${String((issue as { divisor?: unknown }).divisor)}, got ${describeValue(got)}`;
    default:
      return `${issue.message}, got ${describeValue(got)}`;
  }
}

/** The likely fix for a value of the wrong type. */
function typeFix(expected: string, got: unknown, path: readonly Segment[], ctx: IssueContext): string {
  const key = path.join(".");
  if (expected === "array" && typeof got === "string" && got.includes(",")) {
    const items = got.split(",").map((s) => s.trim()).filter((s) => s.length > 0);
    const asList = `[${items.join(",")}]`;
    return ctx.override ? ` (a list is written in brackets: --set ${key}=${asList})` : ` (a list is written in brackets: ${key.split(".").pop()}: [${items.join(", ")}])`;
  }
  if (expected === "array" && (typeof got === "number" || typeof got === "string")) {
    return ctx.override ? ` (a list is written in brackets: --set ${key}=[${String(got)}])` : ` (a list is written in brackets: [${String(got)}])`;
  }
  if (expected === "object") {
    const keys = keysAt(ctx.schema, path, ctx.data);
    if (keys.length === 0) return "";
    const example = `${key}.${keys[0]}`;
    if (ctx.override) return `: ${key} is a section with keys ${keys.join(", ")}; did you mean --set ${example}=${printable(ctx.override.text, 60)}?`;
    return `: ${key} is a section with keys ${keys.join(", ")}`;
  }
  return "";
}
