/**
 * One definition per command: its positionals and options. `parseArgs` reads argv from it and
 * `formatHelp` prints `--help` from it, so the help can never list an option the parser does not
 * take (or miss one it does).
 */
import { ConfigError, didYouMean } from "@mnemo/core";

export interface OptionSpec {
  /** Long name with the dashes: `--set`. */
  name: string;
  /** Short form: `-q`. */
  short?: string;
  /** Placeholder of the value (`key.path=value`); absent for a flag. */
  value?: string;
  /** May be given more than once (values are collected in order). */
  repeatable?: boolean;
  help: string;
}

export interface PositionalSpec {
  /** Placeholder: `<config.yaml>`. */
  name: string;
  help: string;
  /** How many are needed and allowed (max Infinity: any number). */
  min: number;
  max: number;
}

export interface CommandSpec {
  name: string;
  /** One line for `mnemo --help` and the top of `mnemo <name> --help`. */
  summary: string;
  /** Further usage lines when a command has more than one form (`run --resume <run-dir>`). */
  forms?: string[];
  positional?: PositionalSpec;
  options: OptionSpec[];
  /** Paragraphs after the options (what the command writes, environment variables). */
  notes?: string[];
  examples?: string[];
}

/** Every command takes --help. */
export const HELP_OPTION: OptionSpec = { name: "--help", short: "-h", help: "print this help and exit" };

export interface ParsedArgs {
  positionals: string[];
  /** Values by long option name (`--set` -> ["a=1", "b=2"]); a flag holds `["true"]`. */
  options: Map<string, string[]>;
  help: boolean;
}

/** A mistake on the command line: exit code 2 and the command's usage line. */
export function usageError(spec: CommandSpec, problem: string): ConfigError {
  return new ConfigError(`${problem}\n${usageLine(spec)}\n(see mnemo ${spec.name} --help)`, { file: spec.name });
}

function allOptions(spec: CommandSpec): OptionSpec[] {
  return [...spec.options, HELP_OPTION];
}

/** Reads argv as `spec` defines it. `--help` anywhere wins over every other problem. */
export function parseArgs(spec: CommandSpec, argv: readonly string[]): ParsedArgs {
  const options = allOptions(spec);
  if (argv.some((a) => a === HELP_OPTION.name || a === HELP_OPTION.short)) return { positionals: [], options: new Map(), help: true };
  const byName = new Map<string, OptionSpec>();
  for (const o of options) {
    byName.set(o.name, o);
    if (o.short) byName.set(o.short, o);
  }
  const values = new Map<string, string[]>();
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!a.startsWith("-") || a === "-") {
      positionals.push(a);
      continue;
    }
    const eq = a.startsWith("--") ? a.indexOf("=") : -1;
    const flagName = eq > 0 ? a.slice(0, eq) : a;
    const opt = byName.get(flagName);
    if (!opt) {
      const names = options.flatMap((o) => (o.short ? [o.name, o.short] : [o.name]));
      throw usageError(spec, `unknown option ${a}${didYouMean(flagName, names, (n) => n)}`);
    }
    let value: string;
    if (opt.value === undefined) {
      if (eq > 0) throw usageError(spec, `${opt.name} takes no value (got ${a})`);
      value = "true";
    } else if (eq > 0) {
      value = a.slice(eq + 1);
    } else {
      const next = argv[i + 1];
      if (next === undefined) throw usageError(spec, `${opt.name} needs a value: ${opt.name} ${opt.value}`);
      value = next;
      i++;
    }
    const list = values.get(opt.name) ?? [];
    if (list.length > 0 && !opt.repeatable) throw usageError(spec, `${opt.name} is given twice; give it once`);
    list.push(value);
    values.set(opt.name, list);
  }
  const p = spec.positional;
  const min = p?.min ?? 0;
  const max = p?.max ?? 0;
  if (positionals.length > max) {
    const extra = positionals[max] as string;
    throw usageError(spec, max === 0 ? `unexpected argument "${extra}"` : `unexpected argument "${extra}": give ${max === 1 ? "one" : `at most ${max}`} ${p?.name ?? "argument"}`);
  }
  if (positionals.length < min && p) throw usageError(spec, `missing ${p.name}`);
  return { positionals, options: values, help: false };
}

/** The first value of an option, or undefined. */
export function option(parsed: ParsedArgs, name: string): string | undefined {
  return parsed.options.get(name)?.[0];
}

export function flag(parsed: ParsedArgs, name: string): boolean {
  return parsed.options.has(name);
}

function optionLabel(o: OptionSpec): string {
  const names = o.short ? `${o.short}, ${o.name}` : `    ${o.name}`;
  return o.value === undefined ? names : `${names} ${o.value}`;
}

/** `mnemo run <config.yaml> [--set key.path=value ...] [--quiet]`. */
export function usageLine(spec: CommandSpec): string {
  const parts = [`mnemo ${spec.name}`];
  const p = spec.positional;
  if (p) parts.push(p.min === 0 ? `[${p.name}${p.max > 1 ? " ..." : ""}]` : `${p.name}${p.max > 1 ? "..." : ""}`);
  for (const o of spec.options) parts.push(`[${o.name}${o.value ? ` ${o.value}` : ""}${o.repeatable ? " ..." : ""}]`);
  return `usage: ${parts.join(" ")}`;
}

/** The text of `mnemo <command> --help`. */
export function formatHelp(spec: CommandSpec): string {
  const lines = [`mnemo ${spec.name}: ${spec.summary}`, "", usageLine(spec)];
  for (const f of spec.forms ?? []) lines.push(`       mnemo ${spec.name} ${f}`);
  const opts = allOptions(spec);
  const width = Math.max(spec.positional?.name.length ?? 0, ...opts.map((o) => optionLabel(o).length)) + 2;
  if (spec.positional) lines.push("", "arguments:", `  ${spec.positional.name.padEnd(width)} ${spec.positional.help}`);
  lines.push("", "options:");
  for (const o of opts) lines.push(`  ${optionLabel(o).padEnd(width)} ${o.help}`);
  for (const n of spec.notes ?? []) lines.push("", n);
  if (spec.examples?.length) lines.push("", "examples:", ...spec.examples.map((e) => `  ${e}`));
  return lines.join("\n") + "\n";
}
