/**
 * `imports:` in a config: modules from the user's own packages that register methods or plugins.
 * They are imported before validation, so their schemas are part of the config schema. A module
 * either exports `register(registry)` or registers into `defaultRegistry` when imported.
 */
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, isAbsolute, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { ConfigError } from "@mnemo/core";
import { isMap, isSeq, parse, parseDocument } from "yaml";
import type { Registry } from "./registry.js";

const imported = new WeakMap<Registry, Set<string>>();

/** Where an `imports:` entry points: a path relative to the config file, or a package resolved from there. */
export function resolveImport(specifier: string, configFile: string): string {
  const base = dirname(resolve(configFile));
  if (specifier.startsWith(".") || isAbsolute(specifier)) {
    const path = resolve(base, specifier);
    if (!existsSync(path)) throw new ConfigError(`${specifier} not found (looked for ${path})`, { file: configFile, path: "imports" });
    return path;
  }
  try {
    return createRequire(resolve(base, "noop.js")).resolve(specifier);
  } catch {
    throw new ConfigError(
      `cannot find package "${specifier}" from ${base}; install it (npm install ${specifier}) or give a relative path`,
      { file: configFile, path: "imports" },
    );
  }
}

/** The `imports:` list of a YAML file, read without validating the rest (that comes after). */
export function importsOf(text: string): string[] {
  const doc = parseDocument(text);
  if (doc.errors.length > 0 || !isMap(doc.contents)) return [];
  const node = doc.contents.get("imports", true);
  if (!isSeq(node)) return [];
  return node.items.map((i) => (i && typeof i === "object" && "value" in i ? String((i as { value: unknown }).value) : String(i)));
}

const TYPESCRIPT = /\.(c|m)?tsx?$/;
/** This module runs from its TypeScript source: a TypeScript loader (tsx, vitest) is active already. */
const RUNNING_FROM_SOURCE = import.meta.url.endsWith(".ts");
let typescriptLoader: Promise<void> | undefined;

/**
 * Imports a user's module. Built JavaScript needs no loader; for a TypeScript file (a method
 * written next to the config) the installed library registers tsx's loader first, on first use
 * only, so that the CLI runs without a TypeScript loader unless a config asks for one. (Registering
 * after a failed import would not help: Node caches the failure for that URL.)
 */
async function importModule(path: string, configFile: string): Promise<unknown> {
  if (TYPESCRIPT.test(path) && !RUNNING_FROM_SOURCE) {
    typescriptLoader ??= import("tsx/esm/api").then(
      (tsx) => void tsx.register(),
      () => {
        throw new ConfigError(
          `${path} is TypeScript and no TypeScript loader is available; install tsx (npm install tsx) or import the module's built JavaScript`,
          { file: configFile, path: "imports" },
        );
      },
    );
    await typescriptLoader;
  }
  return import(pathToFileURL(path).href);
}

/** Imports each module once per registry and lets it register its components. */
export async function importComponents(specifiers: readonly string[], configFile: string, registry: Registry): Promise<string[]> {
  const done = imported.get(registry) ?? new Set<string>();
  imported.set(registry, done);
  const resolved: string[] = [];
  for (const s of specifiers) {
    const path = resolveImport(s, configFile);
    resolved.push(path);
    if (done.has(path)) continue;
    const mod = (await importModule(path, configFile)) as { register?: (registry: Registry) => void };
    if (typeof mod.register === "function") mod.register(registry);
    done.add(path);
  }
  return resolved;
}

/** Reads a config file's `imports:` and imports them (a missing or unreadable file is left to the loader's error). */
export async function importComponentsOf(configFile: string, registry: Registry, overrides: readonly string[] = []): Promise<string[]> {
  let text: string;
  try {
    text = readFileSync(configFile, "utf8");
  } catch {
    return [];
  }
  // `--set imports=[...]` replaces the file's list, as it will in the validated config.
  const set = overrides.filter((o) => o.startsWith("imports=")).pop();
  let specifiers = importsOf(text);
  if (set !== undefined) {
    const value: unknown = parse(set.slice("imports=".length));
    specifiers = Array.isArray(value) ? value.map(String) : [];
  }
  return importComponents(specifiers, configFile, registry);
}
