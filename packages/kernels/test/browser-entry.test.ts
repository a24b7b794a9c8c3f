// The browser entry (package.json "browser" condition, src/browser.ts) offers what the Node entry
// does, and nothing it loads imports a Node built-in at run time (only prepare-wasm.ts, the Node
// thread shim, may). The page itself is checked end to end by tests/e2e/browser-example.test.ts.
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const src = resolve(import.meta.dirname, "../src");

/** Files reachable from `entry` through relative value imports (type-only imports are erased). */
function reachable(entry: string, seen = new Set<string>()): Set<string> {
  if (seen.has(entry)) return seen;
  seen.add(entry);
  const text = readFileSync(entry, "utf8");
  for (const m of text.matchAll(/^(?:import|export)\s+(?!type\b)[^;]*?from\s+"(\.[^"]+)"/gms)) {
    reachable(resolve(dirname(entry), (m[1] as string).replace(/\.js$/, ".ts")), seen);
  }
  return seen;
}

describe("@mnemo/kernels in a browser", () => {
  it("the browser entry exports every name of the Node entry, and the exports map points at it", async () => {
    const node = await import("../src/index.js");
    const browser = await import("../src/browser.js");
    expect(Object.keys(browser)).toEqual(expect.arrayContaining(Object.keys(node)));
    const pkg = JSON.parse(readFileSync(join(src, "../package.json"), "utf8")) as { exports: Record<string, { "@mnemo/source": Record<string, string>; browser: string }> };
    expect(pkg.exports["."]?.["@mnemo/source"]).toEqual({ browser: "./src/browser.ts", default: "./src/index.ts" }); // the repo's sources
    expect(pkg.exports["."]?.browser).toBe("./dist/browser.js"); // an installed package's build
  });

  it("nothing the browser entry loads imports a Node built-in", () => {
    const files = [...reachable(join(src, "browser.ts"))];
    expect(files.length).toBeGreaterThan(10);
    expect(files.some((f) => f.endsWith("prepare-wasm.ts"))).toBe(false);
    for (const f of files) {
      const valueImports = [...readFileSync(f, "utf8").matchAll(/^import\s+(?!type\b)[^;]*?from\s+"(node:[^"]+)"/gms)].map((m) => m[1]);
      expect(valueImports, f).toEqual([]);
      expect(readFileSync(f, "utf8"), f).not.toMatch(/\bprocess\.env\b/);
    }
  });
});
