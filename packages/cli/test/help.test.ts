/**
 * `--help` on every command comes from the definition the command parses argv with: every option
 * the help lists is accepted by the parser, every option the parser accepts is in the help, and
 * no command mistakes --help for an argument (run used to exit 2, schema dumped 76 KB of schema).
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { formatHelp, parseArgs } from "../src/args.js";
import { main } from "../src/main.js";
import { COMMAND_SPECS } from "../src/specs.js";

function capture(): { out: () => string; err: () => string } {
  let out = "";
  let err = "";
  vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => {
    err += String(chunk);
    return true;
  });
  return { out: () => out, err: () => err };
}

afterEach(() => {
  vi.restoreAllMocks();
});

/** The option names a help text lists in its options: section. */
function optionsInHelp(text: string): string[] {
  const section = text.split("\noptions:\n")[1]?.split("\n\n")[0] ?? "";
  return section.split("\n").flatMap((line) => [...line.matchAll(/(?:^|\s)(--[a-z][a-z-]*)/g)].map((m) => m[1] as string).slice(0, 1));
}

describe("mnemo <command> --help", () => {
  const names = ["run", "sweep", "worker", "report", "sync", "schema"];

  it("covers every command", () => {
    expect(COMMAND_SPECS.map((c) => c.name).sort()).toEqual([...names].sort());
  });

  for (const spec of COMMAND_SPECS) {
    it(`${spec.name} --help and -h print the usage, the options and exit 0`, async () => {
      for (const flag of ["--help", "-h"]) {
        const io = capture();
        // A positional next to --help must not make the command run.
        const code = await main([spec.name, ...(spec.positional ? ["some-file.yaml"] : []), flag]);
        vi.restoreAllMocks();
        expect(code, io.err()).toBe(0);
        expect(io.err()).toBe("");
        const text = io.out();
        expect(text.trimEnd()).toBe(formatHelp(spec).trimEnd());
        expect(text).toContain(`usage: mnemo ${spec.name}`);
        expect(text.length).toBeLessThan(4000); // help, not the 76 KB schema
        const listed = optionsInHelp(text);
        expect(listed.sort()).toEqual([...spec.options.map((o) => o.name), "--help"].sort());
      }
    });

    it(`${spec.name}: every option in the help is accepted by the parser`, () => {
      const positional = spec.positional && spec.positional.min > 0 ? ["x"] : [];
      for (const o of spec.options) {
        const argv = [...positional, o.name, ...(o.value ? ["v=1"] : [])];
        const parsed = parseArgs(spec, argv);
        expect(parsed.options.get(o.name)).toEqual([o.value ? "v=1" : "true"]);
        if (o.short) expect(parseArgs(spec, [...positional, o.short, ...(o.value ? ["v=1"] : [])]).options.has(o.name)).toBe(true);
      }
      expect(() => parseArgs(spec, [...positional, "--no-such-option"])).toThrow(/unknown option --no-such-option/);
    });
  }

  it("mnemo --help lists every command with its summary", async () => {
    const io = capture();
    expect(await main(["--help"])).toBe(0);
    vi.restoreAllMocks();
    for (const spec of COMMAND_SPECS) expect(io.out()).toContain(`${spec.name.padEnd(8)} ${spec.summary}`);
    expect(io.out()).toContain("npx mnemo");
  });

  it("an unknown command or option says what was probably meant", async () => {
    const io = capture();
    expect(await main(["rn"])).toBe(2);
    vi.restoreAllMocks();
    expect(io.err()).toContain('unknown command "rn" (did you mean "run"?)');
    expect(() => parseArgs(COMMAND_SPECS.find((c) => c.name === "run")!, ["configs/cil-mnist.yaml", "--quite"])).toThrow(/unknown option --quite \(did you mean --quiet\?\)/);
  });
});
