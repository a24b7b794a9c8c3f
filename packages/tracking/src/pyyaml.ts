/**
 * Emits a flat mapping the way MLflow writes meta.yaml (PyYAML `safe_dump`, block style,
 * sorted keys), so files written by Mnemo are byte-identical to MLflow's for the same values.
 * Only the scalar kinds MLflow's meta files contain are supported.
 */
export type YamlScalar = string | number | null | readonly [];

export function dumpFlatYaml(data: Record<string, YamlScalar>): string {
  return Object.keys(data)
    .sort()
    .map((key) => `${key}: ${scalar(data[key])}\n`)
    .join("");
}

function scalar(value: YamlScalar): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "[]";
  if (typeof value === "number") {
    if (!Number.isInteger(value)) throw new Error(`dumpFlatYaml: only integers are supported, got ${value}`);
    return String(value);
  }
  return quoteIfNeeded(value as string);
}

// PyYAML's implicit resolvers (YAML 1.1): a plain string that matches one of these would load
// back as another type, so PyYAML quotes it.
const IMPLICIT = [
  /^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$/,
  /^[-+]?(?:0b[0-1_]+|0[0-7_]+|(?:0|[1-9][0-9_]*)|0x[0-9a-fA-F_]+|[1-9][0-9_]*(?::[0-5]?[0-9])+)$/,
  /^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9_]+(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/,
  /^(?:~|null|Null|NULL|)$/,
  /^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$/,
  /^(?:<<|=)$/,
];

function quoteIfNeeded(s: string): string {
  // Non-printable characters and line breaks need PyYAML's double-quoted style.
  // eslint-disable-next-line no-control-regex -- matching control characters is the point here
  if (/[\x00-\x08\x0b-\x1f\x7f\n\r\t]/.test(s)) return JSON.stringify(s);
  const needsQuotes =
    IMPLICIT.some((re) => re.test(s)) ||
    /^\s|\s$/.test(s) ||
    /^[#,[\]{}&*!|>'"%@`]/.test(s) ||
    /^[-?:](?: |$)/.test(s) ||
    /: |:$| #/.test(s);
  return needsQuotes ? `'${s.replace(/'/g, "''")}'` : s;
}
