/**
 * `npm ci` ends without "install scripts not yet covered by allowScripts" warnings: every installed
 * package with an install script has a reviewed entry in the root package.json's `allowScripts`
 * (npm >= 11 blocks unreviewed scripts and warns about each; a newcomer reads that as a failure).
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const root = resolve(import.meta.dirname, "../..");

function packagesWithInstallScripts(dir: string): string[] {
  const found: string[] = [];
  const visit = (modules: string): void => {
    if (!existsSync(modules)) return;
    for (const name of readdirSync(modules)) {
      if (name.startsWith(".")) continue;
      if (name.startsWith("@")) {
        for (const sub of readdirSync(join(modules, name))) check(join(modules, name, sub));
      } else check(join(modules, name));
    }
  };
  const check = (pkgDir: string): void => {
    const file = join(pkgDir, "package.json");
    if (!existsSync(file)) return;
    const pkg = JSON.parse(readFileSync(file, "utf8")) as { name?: string; scripts?: Record<string, string> };
    const s = pkg.scripts ?? {};
    if (pkg.name && (s.preinstall || s.install || s.postinstall)) found.push(pkg.name);
    visit(join(pkgDir, "node_modules"));
  };
  visit(join(dir, "node_modules"));
  return [...new Set(found)].sort();
}

describe("npm install scripts", () => {
  it("every dependency with an install script is reviewed in allowScripts", () => {
    const allow = (JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { allowScripts?: Record<string, boolean> }).allowScripts ?? {};
    const reviewed = new Set(Object.keys(allow).map((k) => k.replace(/(.)@.*$/, "$1")));
    const withScripts = packagesWithInstallScripts(root).filter((n) => !n.startsWith("@mnemo/") && n !== "mnemo");
    expect(withScripts.length).toBeGreaterThan(0); // esbuild, nx, core-js at the time of writing
    expect(withScripts.filter((n) => !reviewed.has(n))).toEqual([]);
  });
});
