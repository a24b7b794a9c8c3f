import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), "../src");

/** Every module reachable from `entry` through relative imports, with its bare (package) imports. */
function graph(entry: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const visit = (file: string): void => {
    if (out.has(file)) return;
    const text = readFileSync(join(SRC, file), "utf8");
    const specs = [...text.matchAll(/(?:import|export)\s[^'"]*?from\s+["']([^"']+)["']/g)].map((m) => m[1]);
    out.set(file, specs.filter((s) => !s.startsWith(".")));
    for (const s of specs.filter((x) => x.startsWith("./"))) visit(s.slice(2).replace(/\.js$/, ".ts"));
  };
  visit(entry);
  return out;
}

describe("package boundaries", () => {
  it("the main entry point never imports tensorflow (extraction is a separate entry)", () => {
    const g = graph("index.ts");
    expect(g.size).toBeGreaterThan(5);
    for (const [file, deps] of g) expect(deps.filter((d) => d.includes("tensorflow")), file).toEqual([]);
    expect(g.has("extract-features.ts")).toBe(false);
    expect(graph("extract-features.ts").get("extract-features.ts")).toContain("@tensorflow/tfjs");
  });

  it("package.json exposes the extraction entry point", () => {
    const pkg = JSON.parse(readFileSync(join(SRC, "../package.json"), "utf8")) as { exports: Record<string, Record<string, string>> };
    expect(pkg.exports["./extract"]).toEqual({ "@mnemo/source": "./src/extract-features.ts", types: "./dist/extract-features.d.ts", import: "./dist/extract-features.js" });
  });
});
