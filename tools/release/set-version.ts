/**
 * Moves the whole monorepo to one new version (Mnemo's packages share their version, so a user
 * never has to match @mnemo/replay 0.3 with @mnemo/core 0.2): the root package.json, every
 * package's version and its pins on the other @mnemo packages, and a new CHANGELOG.md heading
 * for the release notes.
 *
 *   npm run release:version -- 0.2.0     then: npm install (refreshes the lockfile), edit CHANGELOG.md
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { readJson, repoRoot, workspacePackages, type PackageJson } from "./packages.js";

const version = process.argv[2];
if (!version || !/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/.test(version)) {
  console.error("usage: npm run release:version -- <major.minor.patch>   (e.g. 0.2.0)");
  process.exit(2);
}
const write = (file: string, json: unknown): void => writeFileSync(file, `${JSON.stringify(json, null, 2)}\n`);

const rootFile = join(repoRoot, "package.json");
const root = readJson<PackageJson>(rootFile);
const previous = root.version;
write(rootFile, { ...root, version });
for (const pkg of workspacePackages()) {
  const p: PackageJson = { ...pkg.json, version };
  for (const field of ["dependencies", "devDependencies", "peerDependencies"] as const) {
    const deps = p[field];
    if (deps) for (const name of Object.keys(deps)) if (name.startsWith("@mnemo/")) deps[name] = version;
  }
  write(join(pkg.path, "package.json"), p);
}
const changelogFile = join(repoRoot, "CHANGELOG.md");
const changelog = readFileSync(changelogFile, "utf8");
const firstRelease = changelog.indexOf("\n## ");
const heading = `\n## ${version} (unreleased)\n\n- \n`;
writeFileSync(
  changelogFile,
  firstRelease < 0 ? changelog + heading : changelog.slice(0, firstRelease) + heading + changelog.slice(firstRelease),
);
console.log(`every package: ${previous} -> ${version}; now run npm install and write the notes under "## ${version}" in CHANGELOG.md`);
