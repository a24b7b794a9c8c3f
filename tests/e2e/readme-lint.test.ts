/**
 * The TypeScript blocks of every README pass the repo's own lint (issue 13, item 9: the
 * prototypes README had `simple.weights().weights;`, an expression that does nothing). Unused
 * names are allowed: an example binds a result to show its type in a comment. Fragments
 * (```ts fragment) are skipped, as by the snippet type-check.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { ESLint } from "eslint";
import { describe, expect, it } from "vitest";

const root = resolve(import.meta.dirname, "../..");

function tsBlocks(file: string): { line: number; code: string }[] {
  const lines = readFileSync(join(root, file), "utf8").split("\n");
  const out: { line: number; code: string }[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^\s*```(ts|typescript)(.*)$/.exec(lines[i] as string);
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^\s*```\s*$/.test(lines[i] as string); i++) body.push(lines[i] as string);
    if (!(open[2] ?? "").split(/\s+/).includes("fragment")) out.push({ line: start + 1, code: body.join("\n") });
  }
  return out;
}

describe("README ts blocks", () => {
  it("pass the repo's lint", { timeout: 120_000 }, async () => {
    const files = ["README.md", ...readdirSync(join(root, "packages")).map((p) => `packages/${p}/README.md`), "examples/README.md"].filter((f) => existsSync(join(root, f)));
    const eslint = new ESLint({ cwd: root, overrideConfig: { rules: { "@typescript-eslint/no-unused-vars": "off" } } });
    const problems: string[] = [];
    let checked = 0;
    for (const file of files) {
      for (const b of tsBlocks(file)) {
        checked++;
        const [result] = await eslint.lintText(b.code, { filePath: join(root, file.replace(/README\.md$/, `README.md.line${b.line}.ts`)) });
        for (const m of result?.messages ?? []) if (m.severity === 2) problems.push(`${file}:${b.line + m.line} ${m.ruleId}: ${m.message}`);
      }
    }
    expect(checked).toBeGreaterThan(5);
    expect(problems).toEqual([]);
  });
});
