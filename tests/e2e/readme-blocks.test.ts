/**
 * The code blocks of every README other than TypeScript (those are type-checked by the docs
 * snippet test) are either checked here or marked as a fragment in their info string
 * (```text fragment, the marker the snippet test uses):
 *   - shell blocks: every `npx mnemo ...` / `npm run mnemo -- ...` line parses with that command's
 *     argument definitions and, for `run` and `sweep`, its config files load with the given
 *     --set overrides; every `npx nx run experiments:<name>` names a config that exists;
 *   - yaml blocks holding a `stream:` section validate against the stream schema;
 *   - text blocks reproduce what the program prints (the CLI usage, the error example).
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { loadConfig } from "@mnemo/experiment";
import { streamConfigSchema } from "@mnemo/data";
import { configSchema, defaultRegistry, importComponentsOf, loadExperimentConfig } from "@mnemo/experiment";
import { parse as parseYaml } from "yaml";
import { parseArgs } from "../../packages/cli/src/args.js";
import { parseRunArgs } from "../../packages/cli/src/commands/run.js";
import { sweepSchema } from "../../packages/cli/src/commands/sweep.js";
import { main } from "../../packages/cli/src/main.js";
import { COMMAND_SPECS } from "../../packages/cli/src/specs.js";

const root = resolve(import.meta.dirname, "../..");

interface Block {
  file: string;
  line: number;
  lang: string;
  fragment: boolean;
  code: string;
}

function readmes(): string[] {
  const files = ["README.md", "configs/README.md", "examples/README.md"];
  for (const p of readdirSync(join(root, "packages"))) if (existsSync(join(root, "packages", p, "README.md"))) files.push(`packages/${p}/README.md`);
  return files.filter((f) => existsSync(join(root, f)));
}

function blocks(file: string): Block[] {
  const lines = readFileSync(join(root, file), "utf8").split("\n");
  const out: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^\s*```(\S*)(.*)$/.exec(lines[i] as string);
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^\s*```\s*$/.test(lines[i] as string); i++) body.push(lines[i] as string);
    out.push({ file, line: start + 1, lang: open[1] ?? "", fragment: (open[2] ?? "").split(/\s+/).includes("fragment"), code: body.join("\n") });
  }
  return out;
}

const all = readmes().flatMap(blocks);
const shell = all.filter((b) => ["bash", "sh", "shell"].includes(b.lang) && !b.fragment);

const MNEMO = /^(?:[A-Z_]+=\S+\s+)*(?:npx mnemo|npm run mnemo --|node packages\/cli\/bin\/mnemo\.mjs)\s+(.*)$/;

/**
 * The mnemo commands of the shell blocks, and those written inline in the prose (`npx mnemo ...`),
 * as argv after `mnemo`. Inline ones with placeholders (`<run-dir>`, `runs/<name>/<run>`, `*`) are
 * parsed but name no file to load.
 */
function mnemoCommands(): { where: string; argv: string[]; placeholder: boolean }[] {
  const out: { where: string; argv: string[]; placeholder: boolean }[] = [];
  for (const b of shell) {
    b.code.split("\n").forEach((raw, k) => {
      const m = MNEMO.exec(raw.replace(/\s+#.*$/, "").trim());
      if (m) out.push({ where: `${b.file}:${b.line + 1 + k}`, argv: (m[1] as string).split(/\s+/), placeholder: false });
    });
  }
  for (const file of readmes()) {
    readFileSync(join(root, file), "utf8").split("\n").forEach((text, k) => {
      for (const span of text.matchAll(/`([^`]+)`/g)) {
        const m = MNEMO.exec((span[1] as string).trim());
        if (m && !/\.\.\./.test(m[1] as string)) out.push({ where: `${file}:${k + 1}`, argv: (m[1] as string).split(/\s+/), placeholder: /[<*]/.test(m[1] as string) });
      }
    });
  }
  return out;
}

describe("README code blocks", () => {
  it("every block other than ts is a kind this test checks, or marked fragment", () => {
    const unchecked = all.filter((b) => !b.fragment && !["ts", "typescript", "bash", "sh", "shell", "yaml", "text"].includes(b.lang)).map((b) => `${b.file}:${b.line} (${b.lang || "no language"})`);
    expect(unchecked).toEqual([]);
  });

  it("mnemo commands in shell blocks parse, and the configs they name load with their overrides", async () => {
    const commands = mnemoCommands();
    expect(commands.length).toBeGreaterThan(5);
    for (const { where, argv, placeholder } of commands) {
      const [name, ...rest] = argv as [string, ...string[]];
      if (name.startsWith("<")) continue; // `npx mnemo <command> --help`
      if (name.startsWith("-")) {
        expect(["--help", "-h", "--version"], where).toContain(name);
        continue;
      }
      const spec = COMMAND_SPECS.find((c) => c.name === name);
      expect(spec, `${where}: unknown command ${name}`).toBeDefined();
      expect(() => parseArgs(spec!, rest), where).not.toThrow();
      // A placeholder, or an option named in the prose (`npx mnemo run --offline`): nothing to load.
      if (placeholder || parseArgs(spec!, rest).positionals.length === 0) continue;
      if (name === "run" && !rest.includes("--resume") && !rest.includes("--help")) {
        const args = parseRunArgs(rest);
        const file = join(root, args!.configFile);
        await importComponentsOf(file, defaultRegistry, args!.overrides); // a config's imports: register its methods first
        expect(() => loadExperimentConfig(file, { overrides: args!.overrides }), where).not.toThrow();
      }
      if (name === "sweep") expect(() => loadConfig(join(root, rest[0] as string), sweepSchema), where).not.toThrow();
    }
  });

  it("nx experiment targets in shell blocks exist", () => {
    for (const b of shell) {
      for (const m of b.code.matchAll(/npx nx run experiments:([\w-]+)/g)) expect(existsSync(join(root, "configs", `${m[1]}.yaml`)), `${b.file}:${b.line}: ${m[0]}`).toBe(true);
    }
  });

  it("yaml blocks with a stream: section are valid stream configs", () => {
    const yaml = all.filter((b) => b.lang === "yaml" && !b.fragment);
    for (const b of yaml) {
      const doc = parseYaml(b.code) as Record<string, unknown>;
      if (doc && typeof doc === "object" && "stream" in doc) {
        const r = streamConfigSchema.safeParse(doc.stream);
        expect(r.success, `${b.file}:${b.line}: ${r.success ? "" : JSON.stringify(r.error.issues[0])}`).toBe(true);
      } else {
        // A whole run config.
        expect(configSchema(defaultRegistry).safeParse(doc).success, `${b.file}:${b.line}`).toBe(true);
      }
    }
  });

  it("text blocks print what the program prints", async () => {
    const text = all.filter((b) => b.lang === "text" && !b.fragment);
    for (const b of text) {
      if (b.code.startsWith("usage: mnemo <command>")) {
        let out = "";
        vi.spyOn(process.stdout, "write").mockImplementation((c: string | Uint8Array) => ((out += String(c)), true));
        expect(await main(["--help"])).toBe(0);
        vi.restoreAllMocks();
        expect(out, `${b.file}:${b.line}`).toContain(b.code);
      } else if (b.code.startsWith("mnemo: configs/")) {
        // An error example: the same mistake made in that file gives the same line.
        const m = /^mnemo: (configs\/[\w-]+\.yaml):(\d+) ([\w.]+): expected a positive integer, got (-?\d+)$/.exec(b.code.trim());
        expect(m, `${b.file}:${b.line}: an error example this test knows how to reproduce`).not.toBeNull();
        const [, file, line, key] = m as unknown as [string, string, string, string];
        const leaf = key.split(".").pop() as string;
        const lines = readFileSync(join(root, file), "utf8").split("\n");
        const at = lines.findIndex((l) => new RegExp(`^\\s*${leaf}:`).test(l));
        lines[at] = (lines[at] as string).replace(/:\s*\S+/, ": -1");
        let message = "";
        try {
          loadConfig(file, configSchema(defaultRegistry), { text: lines.join("\n") });
        } catch (err) {
          message = (err as Error).message;
        }
        expect(`mnemo: ${message}`, `${b.file}:${b.line}`).toBe(b.code.trim());
        expect(at + 1).toBe(Number(line));
      } else {
        expect.fail(`${b.file}:${b.line}: a text block this test cannot check; mark it \`\`\`text fragment if it is an illustration`);
      }
    }
  });
});
