/**
 * The published packages and the rules they share: one version for the whole monorepo (the root
 * package.json's), internal dependencies pinned to exactly that version, and the metadata and
 * files every tarball needs. `tests/e2e/packages.test.ts` checks these rules; `set-version.ts`
 * moves every package to a new version at once.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

export interface PackageJson {
  name: string;
  version: string;
  private?: boolean;
  license?: string;
  repository?: { type: string; url: string; directory?: string };
  engines?: { node?: string };
  sideEffects?: boolean | string[];
  exports?: Record<string, unknown>;
  types?: string;
  bin?: Record<string, string>;
  files?: string[];
  publishConfig?: { access?: string };
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

export interface WorkspacePackage {
  /** Folder under packages/. */
  dir: string;
  path: string;
  json: PackageJson;
}

export const repoRoot = join(import.meta.dirname, "..", "..");

export function readJson<T>(file: string): T {
  return JSON.parse(readFileSync(file, "utf8")) as T;
}

/** Every package under packages/ (all of them are published). */
export function workspacePackages(root = repoRoot): WorkspacePackage[] {
  return readdirSync(join(root, "packages"))
    .filter((d) => existsSync(join(root, "packages", d, "package.json")))
    .sort()
    .map((dir) => ({ dir, path: join(root, "packages", dir), json: readJson<PackageJson>(join(root, "packages", dir, "package.json")) }));
}

/** The files an export target resolves to under a condition (`import`, `types`, `browser`). */
export function exportTargets(exportsField: Record<string, unknown>, condition: string): string[] {
  const out: string[] = [];
  for (const target of Object.values(exportsField)) {
    if (typeof target === "object" && target !== null) {
      const t = (target as Record<string, unknown>)[condition];
      if (typeof t === "string") out.push(t);
    }
  }
  return out;
}

/** What is wrong with a package's metadata under the shared rules (empty: nothing). */
export function packageProblems(pkg: WorkspacePackage, rootVersion: string, rootLicense: string): string[] {
  const p = pkg.json;
  const where = `packages/${pkg.dir}/package.json`;
  const problems: string[] = [];
  if (p.private) problems.push(`${where}: "private": true, but every package under packages/ is published`);
  if (p.version !== rootVersion)
    problems.push(`${where}: version ${p.version}, the monorepo's is ${rootVersion} (run: npm run release:version -- ${rootVersion})`);
  for (const field of ["dependencies", "devDependencies", "peerDependencies"] as const) {
    for (const [name, range] of Object.entries(p[field] ?? {})) {
      if (name.startsWith("@mnemo/") && range !== rootVersion)
        problems.push(`${where}: ${field}.${name} is "${range}", must be exactly "${rootVersion}"`);
    }
  }
  if (p.license !== "MIT") problems.push(`${where}: license must be "MIT"`);
  if (p.repository?.directory !== `packages/${pkg.dir}`) problems.push(`${where}: repository.directory must be "packages/${pkg.dir}"`);
  if (!p.engines?.node) problems.push(`${where}: engines.node is missing`);
  if (p.sideEffects === undefined) problems.push(`${where}: sideEffects is missing (false unless importing a module does something)`);
  if (p.publishConfig?.access !== "public")
    problems.push(`${where}: publishConfig.access must be "public" (scoped packages are private by default)`);
  if (!p.files?.includes("dist")) problems.push(`${where}: files must include "dist"`);
  if (!p.types?.startsWith("./dist/")) problems.push(`${where}: types must point into ./dist`);
  for (const [key, target] of Object.entries(p.exports ?? {})) {
    const t = target as Record<string, unknown>;
    if (
      typeof target !== "object" ||
      !t["@mnemo/source"] ||
      !String(t.types).startsWith("./dist/") ||
      !String(t.import).startsWith("./dist/")
    ) {
      problems.push(`${where}: exports["${key}"] needs "@mnemo/source" (the repo's sources), "types" and "import" (./dist/...) conditions`);
    }
  }
  for (const [name, bin] of Object.entries(p.bin ?? {})) {
    if (!readFileSync(join(pkg.path, bin), "utf8").includes("../dist/"))
      problems.push(`${where}: bin ${name} must run the built JS (../dist/...)`);
  }
  if (!existsSync(join(pkg.path, "README.md"))) problems.push(`packages/${pkg.dir}/README.md is missing`);
  const license = join(pkg.path, "LICENSE");
  if (!existsSync(license) || readFileSync(license, "utf8") !== rootLicense)
    problems.push(`packages/${pkg.dir}/LICENSE must be a copy of the root LICENSE (cp LICENSE packages/${pkg.dir}/)`);
  return problems;
}
