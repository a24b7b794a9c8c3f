/**
 * docs/configuration.md from the run config's schema (`configJsonSchema(defaultRegistry)`): every
 * key with its type, default and `.describe()` text, one section per choice of a discriminated
 * union (`method.name`, `plugins[].name`, `stream.kind`, `stream.dataset.name`, ...), each with an
 * example taken from configs/*.yaml when one uses it, else the variant's defaults.
 *
 * Works on the JSON Schema rather than on zod internals, so a method or plugin registered by
 * anyone shows up without touching this file.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse, stringify } from "yaml";

/** The subset of JSON Schema that zod's toJSONSchema writes for the config. */
export interface JsonSchema {
  type?: string | string[];
  const?: unknown;
  enum?: unknown[];
  default?: unknown;
  description?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  /** Tuples: one schema per position. */
  prefixItems?: JsonSchema[];
  oneOf?: JsonSchema[];
  anyOf?: JsonSchema[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minItems?: number;
  minLength?: number;
  additionalProperties?: boolean | JsonSchema;
}

/** A discriminated union of objects: its variants and the key that tells them apart. */
interface Union {
  key: string;
  variants: { value: string; schema: JsonSchema }[];
}

/** A union section still to write: the config path (`plugins[]`, `stream.dataset`) and its schema. */
interface Pending {
  path: string;
  union: Union;
  description?: string;
  /** The choice it was found in (`stream.kind: few-shot-class-incremental`), when inside one. */
  within?: string;
}

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

function variantsOf(s: JsonSchema): JsonSchema[] | undefined {
  const list = s.oneOf ?? s.anyOf;
  if (!list || list.length === 0 || !list.every((v) => v.type === "object" && v.properties)) return undefined;
  return list;
}

/** The union's discriminator: a key every variant has as a distinct string constant. */
export function unionOf(s: JsonSchema): Union | undefined {
  const list = variantsOf(s) ?? (s.type === "object" && s.properties && typeof Object.values(s.properties)[0]?.const === "string" ? [s] : undefined);
  if (!list) return undefined;
  const first = list[0] as JsonSchema;
  for (const key of Object.keys(first.properties ?? {})) {
    const values = list.map((v) => v.properties?.[key]?.const);
    if (values.every((x) => typeof x === "string") && new Set(values).size === values.length) {
      return { key, variants: list.map((v, i) => ({ value: values[i] as string, schema: v })) };
    }
  }
  return undefined;
}

const code = (v: unknown): string => "`" + (typeof v === "string" ? v : JSON.stringify(v)) + "`";
/** Table cells cannot hold `|` or line breaks. */
const cell = (text: string): string => text.replace(/\|/g, "\\|").replace(/\n/g, " ");

/** A readable type: `integer > 0`, `"a" | "b"`, `list of string`, `auto | integer > 0`. */
export function typeOf(s: JsonSchema): string {
  if (s.const !== undefined) return code(s.const);
  if (s.enum) return s.enum.map(code).join(" | ");
  const alts = s.anyOf ?? s.oneOf;
  if (alts) return alts.map(typeOf).join(" | ");
  if (s.type === "array" && s.prefixItems) return `[${s.prefixItems.map(typeOf).join(", ")}]`;
  if (s.type === "array") return `list of ${s.items ? typeOf(s.items) : "any"}` + (s.minItems ? ` (at least ${s.minItems})` : "");
  if (s.type === "object") return "object";
  const base = Array.isArray(s.type) ? s.type.join(" | ") : (s.type ?? "any");
  const bounds: string[] = [];
  if (s.exclusiveMinimum !== undefined) bounds.push(`> ${s.exclusiveMinimum}`);
  if (s.minimum !== undefined && !(base === "integer" && s.minimum === -MAX_SAFE)) bounds.push(`≥ ${s.minimum}`);
  if (s.exclusiveMaximum !== undefined) bounds.push(`< ${s.exclusiveMaximum}`);
  if (s.maximum !== undefined && s.maximum !== MAX_SAFE) bounds.push(`≤ ${s.maximum}`);
  if (base === "string" && s.minLength) bounds.push("non-empty");
  return [base, ...bounds].join(" ");
}

const anchorOf = (title: string): string =>
  title
    .toLowerCase()
    .replace(/[^a-z0-9 _-]/g, "")
    .replace(/ /g, "-");

interface Row {
  key: string;
  type: string;
  default: string;
  description: string;
}

/** Rows of an object's keys, nested objects flattened to dotted keys; unions go to `pending`. */
function rowsOf(s: JsonSchema, prefix: string, pathPrefix: string, pending: Pending[], skip?: string, within?: string): Row[] {
  const rows: Row[] = [];
  const required = new Set(s.required ?? []);
  for (const [name, prop] of Object.entries(s.properties ?? {})) {
    if (name === skip) continue;
    const key = prefix ? `${prefix}.${name}` : name;
    const path = pathPrefix ? `${pathPrefix}.${name}` : name;
    const dflt = prop.default !== undefined ? code(prop.default) : required.has(name) ? "**required**" : "optional";
    const union = unionOf(prop);
    const itemUnion = prop.type === "array" && prop.items ? unionOf(prop.items) : undefined;
    if (union) {
      pending.push({ path, union, description: prop.description, within });
      rows.push({ key, type: `one of ${union.variants.map((v) => code(v.value)).join(", ")} by \`${union.key}\` ([below](#${anchorOf(path)}))`, default: dflt, description: prop.description ?? "" });
    } else if (itemUnion) {
      pending.push({ path: `${path}[]`, union: itemUnion, description: prop.description, within });
      rows.push({ key, type: `list of sections, each one of ${itemUnion.variants.map((v) => code(v.value)).join(", ")} by \`${itemUnion.key}\` ([below](#${anchorOf(path + "[]")}))`, default: dflt, description: prop.description ?? "" });
    } else if (prop.type === "object" && prop.properties) {
      if (prop.description) rows.push({ key, type: "object", default: dflt, description: prop.description });
      rows.push(...rowsOf(prop, key, path, pending, undefined, within));
    } else if (prop.type === "array" && prop.items && "not" in prop.items) {
      rows.push({ key, type: "list of sections (none registered)", default: dflt, description: prop.description ?? "" });
    } else {
      rows.push({ key, type: typeOf(prop), default: dflt, description: prop.description ?? "" });
    }
  }
  return rows;
}

function table(rows: Row[]): string {
  if (rows.length === 0) return "No further keys.\n";
  const lines = ["| key | type | default | description |", "|---|---|---|---|"];
  for (const r of rows) lines.push(`| \`${r.key}\` | ${cell(r.type)} | ${cell(r.default)} | ${cell(r.description)} |`);
  return lines.join("\n") + "\n";
}

/** The values of `path` (`plugins[]`, `stream.dataset`) in a parsed config, arrays expanded. */
function valuesAt(config: unknown, path: string): unknown[] {
  let current: unknown[] = [config];
  for (const part of path.split(".")) {
    const isList = part.endsWith("[]");
    const name = isList ? part.slice(0, -2) : part;
    current = current.flatMap((v) => {
      const next = v && typeof v === "object" ? (v as Record<string, unknown>)[name] : undefined;
      if (next === undefined) return [];
      return isList ? (Array.isArray(next) ? next : []) : [next];
    });
  }
  return current;
}

export interface ConfigFile {
  file: string;
  value: unknown;
}

/** Every configs/**.yaml (sweeps included), parsed, sorted by path. */
export function readConfigs(root: string): ConfigFile[] {
  const out: ConfigFile[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(join(root, dir), { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const rel = `${dir}/${entry.name}`;
      if (entry.isDirectory()) walk(rel);
      else if (entry.name.endsWith(".yaml") || entry.name.endsWith(".yml")) out.push({ file: rel, value: parse(readFileSync(join(root, rel), "utf8")) as unknown });
    }
  };
  walk("configs");
  return out;
}

/** The variant's keys at their defaults; keys without a default as YAML comments. */
function defaultsExample(path: string, key: string, value: string, s: JsonSchema): string {
  const section: Record<string, unknown> = { [key]: value };
  const missing: string[] = [];
  for (const [name, prop] of Object.entries(s.properties ?? {})) {
    if (name === key) continue;
    if (prop.default !== undefined) section[name] = prop.default;
    else if ((s.required ?? []).includes(name)) missing.push(`${name}: ...  # required: ${typeOf(prop).replace(/`/g, "")}`);
  }
  return wrap(path, section, missing);
}

/** `section` placed at `path` as YAML (`plugins[]` becomes a one-item list). */
function wrap(path: string, section: unknown, extraLines: string[] = []): string {
  const parts = path.split(".");
  let body = stringify(section).trimEnd();
  if (extraLines.length > 0) body += "\n" + extraLines.join("\n");
  for (let i = parts.length - 1; i >= 0; i--) {
    const part = parts[i] as string;
    const isList = part.endsWith("[]");
    const name = isList ? part.slice(0, -2) : part;
    const indented = body
      .split("\n")
      .map((l, k) => (isList ? (k === 0 ? "  - " : "    ") : "  ") + l)
      .join("\n");
    body = `${name}:\n${indented}`;
  }
  return body;
}

function unionSection(p: Pending, configs: ConfigFile[], pending: Pending[], level: number, qualified: boolean): string {
  const h = "#".repeat(level);
  const out: string[] = [`${h} \`${p.path}\`` + (qualified && p.within ? ` (with \`${p.within}\`)` : ""), ""];
  if (p.description) out.push(p.description + ".", "");
  out.push(`Choose with \`${p.path}.${p.union.key}\`: ${p.union.variants.map((v) => `[${code(v.value)}](#${anchorOf(`${p.path}.${p.union.key}: ${v.value}`)})`).join(", ")}.`, "");
  for (const v of p.union.variants) {
    const title = `${p.path}.${p.union.key}: ${v.value}`;
    out.push(`${h}# \`${title}\``, "");
    const about = v.schema.properties?.[p.union.key]?.description;
    if (about) out.push(about + ".", "");
    out.push(table(rowsOf(v.schema, "", p.path.replace(/\[\]$/, ""), pending, p.union.key, title)));
    const users = configs.filter((c) => valuesAt(c.value, p.path).some((x) => (x as Record<string, unknown> | null)?.[p.union.key] === v.value));
    const first = users[0];
    if (first) {
      const section = valuesAt(first.value, p.path).find((x) => (x as Record<string, unknown>)[p.union.key] === v.value);
      out.push(`Example (from [\`${first.file}\`](../${first.file})):`, "", "```yaml", wrap(p.path, section), "```", "");
      out.push(`Used by: ${users.map((u) => `[\`${u.file}\`](../${u.file})`).join(", ")}.`, "");
    } else {
      out.push("No config in `configs/` sets it; its defaults:", "", "```yaml", defaultsExample(p.path, p.union.key, v.value, v.schema), "```", "");
    }
  }
  return out.join("\n");
}

const HEADER = `<!-- Generated by \`npm run docs\` (tools/docs/make-docs.ts) from configSchema(defaultRegistry). Do not edit by hand: change the schema's .describe() texts and regenerate. -->

# Configuration reference

A run is one YAML file (\`configs/*.yaml\`, run with \`npm run mnemo -- run <file>\`). Every key
below is checked when the file loads: unknown keys, wrong types and out-of-range values are errors
that name the file, line and key (with a "did you mean" for misspellings). Keys may be overridden
from the command line with \`--set key=value\` (dotted paths, e.g. \`--set training.lr=0.05\`);
\`mnemo schema\` prints the same schema as JSON Schema.

Sections that are a *choice* (\`method\`, each \`plugins\` entry, \`stream\`, \`stream.dataset\`,
\`training.optimizer\`, \`training.schedule\`) are picked by their \`name\` (or \`kind\`) key, and each
choice has its own keys. The methods and plugins are whatever is registered
(\`@mnemo/experiment\`'s \`defaultRegistry\`, plus a config's \`imports:\`); this page lists the
built-in ones.

A minimal config:

\`\`\`yaml
`;

/** The minimal example the page opens with (checked against the schema by the docs test). */
export const MINIMAL_EXAMPLE = `name: my-split-mnist
stream:
  kind: class-incremental
  dataset:
    name: mnist
  increment: 2        # 5 tasks of 2 digits
method:
  name: er
  memory_size: 500
training:
  epochs: 1
  lr: 0.05
`;

/** The whole page. `schema` is `configJsonSchema(defaultRegistry)`; `configs` give the examples. */
export function renderConfigurationDoc(schema: JsonSchema, configs: ConfigFile[]): string {
  const pending: Pending[] = [];
  const top: Row[] = rowsOf(schema, "", "", pending);
  const out: string[] = [HEADER + MINIMAL_EXAMPLE + "```\n", "## Top-level keys", "", table(top)];
  const done = new Set<string>();
  const paths = new Set<string>();
  // Sections found while writing others (stream.dataset inside each stream.kind) are written once;
  // a path whose choices differ between the sections it occurs in gets one section per version.
  while (pending.length > 0) {
    const next = pending.shift() as Pending;
    const id = next.path + "\0" + JSON.stringify(next.union.variants.map((v) => v.schema));
    if (done.has(id)) continue;
    done.add(id);
    out.push(unionSection(next, configs, pending, 2, paths.has(next.path)));
    paths.add(next.path);
  }
  return out.join("\n").replace(/\n{3,}/g, "\n\n").trimEnd() + "\n";
}
