/**
 * The TypeScript in the docs compiles. Every ```ts block of docs/*.md and packages/*\/README.md is
 * written as its own module under node_modules/.cache/mnemo-doc-snippets/ (inside the repository,
 * so `@mnemo/*` and tfjs resolve as they do for the packages) and type-checked with the
 * repository's compiler settings:
 *
 *   npm run docs:snippets     # exits 1 and lists each error at its .md file and line
 *
 * A block that is deliberately incomplete (a sketch with elided parts, a fragment that uses names
 * from the surrounding prose) is marked in its info string and skipped:
 *
 *   ```ts fragment
 *
 * Every other block must be a whole module: its imports, and a `declare const x: T;` for what it
 * takes as given. tests/e2e/doc-snippets.test.ts runs this check. (tsc reports syntax errors
 * before type errors: once a block parses, a rerun may show type errors elsewhere.)
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const FRAGMENT_MARKER = "fragment";

export interface Snippet {
  /** Markdown file, relative to the repository root. */
  file: string;
  /** 1-based line of the block's first code line in `file`. */
  line: number;
  code: string;
  fragment: boolean;
}

/** The markdown files whose ```ts blocks are checked. */
export function snippetFiles(root: string): string[] {
  const md = (dir: string): string[] =>
    readdirSync(join(root, dir))
      .filter((f) => f.endsWith(".md"))
      .map((f) => `${dir}/${f}`);
  const readmes = readdirSync(join(root, "packages"), { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => `packages/${d.name}/README.md`)
    .filter((f) => {
      try {
        readFileSync(join(root, f));
        return true;
      } catch {
        return false;
      }
    });
  return [...md("docs"), ...readmes].sort();
}

/** The ```ts / ```typescript blocks of a markdown text, with their info strings' fragment flag. */
export function extractSnippets(file: string, text: string): Snippet[] {
  const out: Snippet[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,})(ts|typescript)\b(.*)$/.exec(lines[i] as string);
    if (!open) continue;
    const [, indent, fence, , info] = open as unknown as [string, string, string, string, string];
    const start = i + 1;
    let end = start;
    while (end < lines.length && !(lines[end] as string).trimStart().startsWith(fence)) end++;
    const code = lines
      .slice(start, end)
      .map((l) => (l.startsWith(indent) ? l.slice(indent.length) : l))
      .join("\n");
    out.push({ file, line: start + 1, code, fragment: info.split(/\s+/).includes(FRAGMENT_MARKER) });
    i = end;
  }
  return out;
}

export interface SnippetError {
  file: string;
  line: number;
  message: string;
}

export interface SnippetReport {
  checked: Snippet[];
  skipped: Snippet[];
  errors: SnippetError[];
}

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

let runs = 0;

/**
 * Type-checks every non-fragment snippet (of the docs, or the `snippets` given); errors point at
 * the markdown file and line.
 */
export function checkSnippets(root = ROOT, snippets?: Snippet[]): SnippetReport {
  const all = snippets ?? snippetFiles(root).flatMap((f) => extractSnippets(f, readFileSync(join(root, f), "utf8")));
  const checked = all.filter((s) => !s.fragment);
  // One folder per check, so that two checks at once (parallel tests) do not share files.
  const dir = join(root, "node_modules/.cache/mnemo-doc-snippets", `${process.pid}-${runs++}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  try {
    return typeCheck(root, dir, all, checked);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function typeCheck(root: string, dir: string, all: Snippet[], checked: Snippet[]): SnippetReport {
  const byName = new Map<string, Snippet>();
  checked.forEach((s, k) => {
    const name = `${s.file.replace(/[^a-zA-Z0-9]+/g, "_")}_L${s.line}_${k}.ts`;
    byName.set(name, s);
    // `export {}` makes every block a module (top-level await, no clashes between blocks).
    writeFileSync(join(dir, name), `${s.code}\nexport {};\n`);
  });
  writeFileSync(
    join(dir, "tsconfig.json"),
    JSON.stringify({ extends: relative(dir, join(root, "tsconfig.base.json")), compilerOptions: { noEmit: true, customConditions: ["@mnemo/source"], noUnusedLocals: false, declaration: false, sourceMap: false }, include: ["*.ts"] }, null, 2),
  );
  const tsc = createRequire(join(root, "package.json")).resolve("typescript/bin/tsc");
  const run = spawnSync(process.execPath, [tsc, "-p", join(dir, "tsconfig.json"), "--pretty", "false"], { cwd: root, encoding: "utf8" });
  const errors: SnippetError[] = [];
  for (const line of `${run.stdout}\n${run.stderr}`.split("\n")) {
    const m = /^(?:.*[\\/])?([^\\/(]+\.ts)\((\d+),(\d+)\): (error .*)$/.exec(line);
    const snippet = m ? byName.get(m[1] as string) : undefined;
    if (m && snippet) errors.push({ file: snippet.file, line: snippet.line + Number(m[2]) - 1, message: m[4] as string });
    else if (line.trim().length > 0 && /error/.test(line)) errors.push({ file: "(tsc)", line: 0, message: line });
  }
  if (run.status !== 0 && errors.length === 0) errors.push({ file: "(tsc)", line: 0, message: `tsc exited ${run.status}: ${run.stderr || run.stdout}` });
  return { checked, skipped: all.filter((s) => s.fragment), errors };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const report = checkSnippets();
  for (const e of report.errors) process.stderr.write(`${e.file}:${e.line}: ${e.message}\n`);
  process.stderr.write(`${report.checked.length} ts blocks type-checked, ${report.skipped.length} marked \`ts ${FRAGMENT_MARKER}\` skipped, ${report.errors.length} errors\n`);
  process.exitCode = report.errors.length === 0 ? 0 : 1;
}
