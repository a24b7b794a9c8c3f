/**
 * The ```ts blocks of docs/*.md and packages/*\/README.md type-check (tools/docs/snippets.ts, also
 * `npm run docs:snippets`); blocks marked ```ts fragment are skipped.
 */
import { describe, expect, it } from "vitest";
import { checkSnippets, extractSnippets, FRAGMENT_MARKER } from "../../tools/docs/snippets.js";

describe("code in the docs", () => {
  it("every ts block of the docs compiles", { timeout: 300_000 }, () => {
    const report = checkSnippets();
    expect(report.checked.length).toBeGreaterThan(20);
    const where = report.errors.map((e) => `${e.file}:${e.line}: ${e.message}`).join("\n");
    expect(report.errors, `fix these blocks (a whole module: imports, \`declare const x: T;\` for what it takes as given), or mark a deliberate sketch \`\`\`ts ${FRAGMENT_MARKER}:\n${where}`).toEqual([]);
  });

  it("finds ts blocks with their line numbers, indented ones too, and flags fragments", () => {
    const md = ["# t", "```ts", "const a = 1;", "```", "text", "  ```ts fragment", "  f(...);", "  ```", "```js", "x", "```", "```typescript", "let b = 2;", "```"].join("\n");
    const s = extractSnippets("t.md", md);
    expect(s.map((x) => [x.line, x.code, x.fragment])).toEqual([
      [3, "const a = 1;", false],
      [7, "f(...);", true],
      [13, "let b = 2;", false],
    ]);
  });

  it("reports a type error at its markdown file and line, and skips fragments", { timeout: 300_000 }, () => {
    const report = checkSnippets(undefined, [
      { file: "docs/x.md", line: 10, code: 'import { SeededRng } from "@mnemo/core";\nconst n: number = new SeededRng(0).seed;\nconst s: string = n;', fragment: false },
      { file: "docs/y.md", line: 3, code: "this is not TypeScript", fragment: true },
    ]);
    expect(report.skipped).toHaveLength(1);
    expect(report.errors).toHaveLength(1);
    expect(report.errors[0]).toMatchObject({ file: "docs/x.md", line: 12 });
    expect(report.errors[0]?.message).toMatch(/TS2322/);
  });
});
