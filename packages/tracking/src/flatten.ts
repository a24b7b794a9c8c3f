import { TrackingError } from "@mnemo/core/errors";

export type ConfigValue = string | number | boolean | null | undefined | ConfigValue[] | { [key: string]: ConfigValue };

/**
 * Flattens a nested config into MLflow params: `{ stream: { increment: 10 } }` ->
 * `{ "stream.increment": "10" }`. Arrays are kept whole as JSON (`[2,3]`) because a param per
 * element would make runs with different list lengths incomparable in the MLflow UI.
 */
export function flattenConfig(config: Record<string, unknown>, prefix = ""): Record<string, string> {
  const out: Record<string, string> = {};
  const visit = (value: unknown, path: string, depth: number): void => {
    if (depth > 64) throw new TrackingError(`Config is nested deeper than 64 levels at '${path}'; is it cyclic?`);
    if (value !== null && typeof value === "object" && !Array.isArray(value)) {
      const entries = Object.entries(value as Record<string, unknown>);
      if (entries.length === 0 && path) out[path] = "{}";
      for (const [k, v] of entries) visit(v, path ? `${path}.${k}` : k, depth + 1);
      return;
    }
    if (!path) return;
    if (value === undefined) return;
    out[path] = stringifyParam(value);
  };
  visit(config, prefix, 0);
  return out;
}

function stringifyParam(value: unknown): string {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean" || value === null) return String(value);
  return JSON.stringify(value);
}
