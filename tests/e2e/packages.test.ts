/**
 * Every package under packages/ is publishable as it stands: the shared metadata rules of
 * tools/release/packages.ts (one version, exact internal pins, license, repository, engines,
 * sideEffects, dist exports, LICENSE copy), and `npm publish --dry-run` of each (after the build
 * that `npm test` runs first) packs exactly what a user needs: the built JavaScript with its
 * `.d.ts` and maps, README, LICENSE, the package's runtime assets; no sources, tests or configs.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { exportTargets, packageProblems, readJson, repoRoot, workspacePackages, type PackageJson } from "../../tools/release/packages.js";

const packages = workspacePackages();
const rootVersion = readJson<PackageJson>(join(repoRoot, "package.json")).version;
const rootLicense = readFileSync(join(repoRoot, "LICENSE"), "utf8");

interface DryRun {
  name: string;
  version: string;
  files: { path: string }[];
}

describe("packages", () => {
  it("share one version and the metadata a published package needs", () => {
    expect(packages.length).toBeGreaterThanOrEqual(16);
    expect(packages.flatMap((p) => packageProblems(p, rootVersion, rootLicense))).toEqual([]);
    expect(readFileSync(join(repoRoot, "CHANGELOG.md"), "utf8")).toContain(`## ${rootVersion}`);
  });

  it("the rules catch a wrong pin, a missing dist export and a bin that runs the sources", () => {
    const replay = packages.find((p) => p.dir === "replay")!;
    const broken = structuredClone(replay.json);
    broken.dependencies = { "@mnemo/core": "^0.1.0" };
    broken.exports = { ".": "./src/index.ts" };
    const problems = packageProblems({ ...replay, json: broken }, rootVersion, rootLicense);
    expect(problems.join("\n")).toMatch(/dependencies\.@mnemo\/core is "\^0\.1\.0"/);
    expect(problems.join("\n")).toMatch(/exports\["\."\] needs/);
  });

  it(
    "npm publish --dry-run succeeds for every package and packs dist, README, LICENSE and nothing it does not need",
    { timeout: 120_000 },
    () => {
      const r = spawnSync("npm", ["publish", "--dry-run", "--json", ...packages.flatMap((p) => ["-w", `packages/${p.dir}`])], {
        cwd: repoRoot,
        encoding: "utf8",
      });
      expect(r.status, r.stderr).toBe(0);
      // Without credentials npm says a real publish needs a login; anything else is a problem to fix.
      const warnings = r.stderr.split("\n").filter((l) => /npm (warn|error)/.test(l) && !/requires you to be logged in/.test(l));
      expect(warnings).toEqual([]);
      const results = JSON.parse(r.stdout) as Record<string, DryRun>;
      for (const pkg of packages) {
        const files = results[pkg.json.name]?.files.map((f) => f.path) ?? [];
        const where = `${pkg.json.name} tarball`;
        expect(files, where).toEqual(expect.arrayContaining(["package.json", "README.md", "LICENSE"]));
        for (const target of [
          ...exportTargets(pkg.json.exports ?? {}, "import"),
          ...exportTargets(pkg.json.exports ?? {}, "types"),
          ...exportTargets(pkg.json.exports ?? {}, "browser"),
        ]) {
          expect(files, `${where}: export target ${target} (is the package built? npm run build)`).toContain(target.replace(/^\.\//, ""));
        }
        for (const bin of Object.values(pkg.json.bin ?? {})) expect(files, where).toContain(bin.replace(/^\.\//, ""));
        const unneeded = files.filter(
          (f) =>
            /^(src|test|e2e)\//.test(f) ||
            /(^|\/)(tsconfig[^/]*\.json|vitest\.config\.ts|\.tsbuildinfo)$/.test(f) ||
            /\.test\.(js|d\.ts)$/.test(f),
        );
        expect(unneeded, where).toEqual([]);
        // Maps carry their sources (inlineSources): a debugger shows TypeScript without src/ shipped.
        const map = files.find((f) => f.startsWith("dist/") && f.endsWith(".js.map"));
        expect(map, where).toBeDefined();
        expect(JSON.parse(readFileSync(join(pkg.path, map!), "utf8")).sourcesContent?.[0], `${where}: ${map}`).toEqual(expect.any(String));
      }
    },
  );
});
