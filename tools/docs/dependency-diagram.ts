/**
 * The package dependency diagram of docs/architecture.md, from the package.json files: an arrow
 * A --> B means A's package.json lists B under `dependencies` (solid), under `peerDependencies`
 * (dotted, "peer": optional, needed by a subpath entry only) or `devDependencies` only (dotted,
 * "dev": tests and tools). Written between markers so the rest of the page stays hand-written.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

interface PackageJson {
  name: string;
  description?: string;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

const SCOPE = "@mnemo/";

function packages(root: string): PackageJson[] {
  return readdirSync(join(root, "packages"), { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => {
      try {
        return JSON.parse(readFileSync(join(root, "packages", d.name, "package.json"), "utf8")) as PackageJson;
      } catch {
        return undefined; // a folder without package.json is not a package
      }
    })
    .filter((p): p is PackageJson => p !== undefined && p.name.startsWith(SCOPE))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** Mermaid `graph` source (without the fence): one node per package, one edge per internal dependency. */
export function renderDependencyDiagram(root: string): string {
  const pkgs = packages(root);
  const id = (name: string): string => name.slice(SCOPE.length).replace(/[^a-zA-Z0-9]/g, "_");
  const lines = ["graph TD"];
  for (const p of pkgs) lines.push(`  ${id(p.name)}["${p.name}"]`);
  for (const p of pkgs) {
    const deps = Object.keys(p.dependencies ?? {}).filter((d) => d.startsWith(SCOPE)).sort();
    const peers = Object.keys(p.peerDependencies ?? {}).filter((d) => d.startsWith(SCOPE) && !deps.includes(d)).sort();
    const dev = Object.keys(p.devDependencies ?? {}).filter((d) => d.startsWith(SCOPE) && !deps.includes(d) && !peers.includes(d)).sort();
    for (const d of deps) lines.push(`  ${id(p.name)} --> ${id(d)}`);
    for (const d of peers) lines.push(`  ${id(p.name)} -.->|peer| ${id(d)}`);
    for (const d of dev) lines.push(`  ${id(p.name)} -.->|dev| ${id(d)}`);
  }
  return "```mermaid\n" + lines.join("\n") + "\n```";
}

/** `text` with the part between `<!-- generated:NAME ... -->` and `<!-- /generated:NAME -->` replaced. */
export function replaceBetweenMarkers(text: string, name: string, content: string, file: string): string {
  const begin = new RegExp(`<!-- generated:${name}\\b[^>]*-->\\n`);
  const end = `<!-- /generated:${name} -->`;
  const b = begin.exec(text);
  const e = text.indexOf(end);
  if (!b || e < b.index) {
    throw new Error(`${file}: markers for the generated "${name}" block are missing; put "<!-- generated:${name} (npm run docs) -->" and "${end}" on their own lines where it goes`);
  }
  return text.slice(0, b.index + b[0].length) + content + "\n" + text.slice(e);
}
