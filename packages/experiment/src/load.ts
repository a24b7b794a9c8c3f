/** Reading a run config: from a YAML file (file:line errors) or from an object built in code. */
import { loadConfig, type LoadedConfig } from "./config-loader.js";
import { stringify } from "yaml";
import { configSchema, type ExperimentConfig } from "./config-schema.js";
import { defaultRegistry } from "./default-registry.js";
import type { Registry } from "./registry.js";

export interface LoadOptions {
  /** `key.path=value` overrides, as `--set` gives them. */
  overrides?: string[];
  registry?: Registry;
}

/** Loads and validates a YAML run config; every error names the file, the line and the key. */
export function loadExperimentConfig(file: string, options: LoadOptions = {}): LoadedConfig<ExperimentConfig> {
  return loadConfig(file, configSchema(options.registry ?? defaultRegistry), { overrides: options.overrides });
}

/**
 * Validates a config written in code (the same keys as the YAML file) and fills in the defaults.
 * Errors name `source` and the key path.
 */
export function experimentConfig(value: Record<string, unknown>, options: LoadOptions & { source?: string } = {}): LoadedConfig<ExperimentConfig> {
  return loadConfig(options.source ?? "<code>", configSchema(options.registry ?? defaultRegistry), { overrides: options.overrides, text: stringify(value) });
}
