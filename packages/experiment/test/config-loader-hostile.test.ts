/**
 * Hostile config input: every case is a ConfigError with the file (and line where there is one),
 * one line of text, no raw bytes; never a YAML/zod/Range/Reference error escaping.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { ConfigError } from "@mnemo/core";
import { loadConfig, MAX_CONFIG_BYTES, positiveInt, printable } from "../src/index.js";

const dir = mkdtempSync(join(tmpdir(), "mnemo-hostile-"));
let n = 0;
function write(content: string | Uint8Array): string {
  const file = join(dir, `c${n++}.yaml`);
  writeFileSync(file, content);
  return file;
}

const schema = z.strictObject({
  name: z.string().min(1),
  seed: z.number().int().min(0).default(0),
  training: z.strictObject({ epochs: positiveInt().default(1), lr: z.number().positive().default(0.1) }).prefault({}),
  model: z.strictObject({ hidden: z.array(positiveInt()).default([4]) }).prefault({}),
});

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw new Error(`expected a ConfigError, got ${(err as Error).constructor.name}: ${(err as Error).message}`);
    expect(err.message.split("\n")).toHaveLength(1);
    return err;
  }
  throw new Error("expected a ConfigError, got none");
}

describe("hostile config files", () => {
  it("binary garbage is refused as not UTF-8, naming the byte, not echoing it", () => {
    const file = write(Uint8Array.from([0x6e, 0x61, 0x6d, 0x65, 0x3a, 0x20, 0x0a, 0xff, 0xfe, 0x00, 0x9b, 0x5b, 0x32, 0x4a]));
    const err = configError(() => loadConfig(file, schema, { overrides: ["seed=3"] }));
    expect(err.file).toBe(file);
    expect(err.line).toBe(2);
    expect(err.message).toContain("not UTF-8 text (byte 0xff at offset 7)");
    // eslint-disable-next-line no-control-regex
    expect(err.message).not.toMatch(/[\u0000-\u0008\u001b\u009b\ufffd]/);
  });

  it("binary garbage without --set is refused the same way, its bytes never echoed", () => {
    const file = write(Uint8Array.from([0x1b, 0x5b, 0x32, 0x4a, 0xc3, 0x28, 0x9b, 0x07, 0x00]));
    const err = configError(() => loadConfig(file, schema));
    expect(err.file).toBe(file);
    expect(err.message).toBe(`${file}:1: not UTF-8 text (byte 0x28 at offset 5); a config must be a UTF-8 YAML file. Is this a binary file?`);
    // eslint-disable-next-line no-control-regex
    expect(err.message).not.toMatch(/[\u0000-\u0008\u001b\u009b\ufffd]/);
  });

  it("valid UTF-8 with control characters (an escape sequence, a NUL) is refused before --set", () => {
    const file = write("name: a\nseed: 1\x1b[2J\x00\n");
    const err = configError(() => loadConfig(file, schema, { overrides: ["name.x=1"] }));
    expect(err.line).toBe(2);
    expect(err.message).toContain("control character U+001B");
    expect(err.message).not.toContain("\x1b");
  });

  it("a top-level list with --set is a ConfigError, not a crash", () => {
    const file = write("- name: a\n- seed: 2\n");
    const err = configError(() => loadConfig(file, schema, { overrides: ["seed=3"] }));
    expect(err.message).toBe(`${file}:1: expected a YAML mapping of keys (e.g. "name: split-mnist"), got a list`);
  });

  it("a scalar document and an empty one are refused as non-mappings", () => {
    expect(configError(() => loadConfig(write("just words\n"), schema)).message).toMatch(/got a single string$/);
    expect(configError(() => loadConfig(write(""), schema, { overrides: ["name=x"] })).message).toMatch(/got an empty document$/);
  });

  it("an alias bomb is stopped and reported with the line of the first alias", () => {
    const bomb = [
      "name: bomb",
      'a: &a ["x","x","x","x","x","x","x","x","x"]',
      "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]",
      "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]",
      "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]",
      "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]",
      "",
    ].join("\n");
    const file = write(bomb);
    const err = configError(() => loadConfig(file, schema));
    expect(err.line).toBe(3);
    expect(err.message).toContain("YAML aliases (*name) expand to more than 100 references");
  });

  it("a few aliases are still fine", () => {
    const file = write("name: &n ok\nmodel:\n  hidden: &h [3, 3]\n");
    expect(loadConfig(file, schema).value.model.hidden).toEqual([3, 3]);
  });

  it("an input over the size limit is refused without being parsed (fast)", () => {
    const file = write("name: big\n" + `# ${"x".repeat(100)}\n`.repeat(Math.ceil((50 * 1024 * 1024) / 103)));
    const t0 = performance.now();
    const err = configError(() => loadConfig(file, schema));
    // Not a timing assertion on the machine's speed: parsing 50 MB takes tens of seconds, a stat does not.
    expect(performance.now() - t0).toBeLessThan(5000);
    expect(err.message).toMatch(/is at most 1048576 bytes/);
    expect(MAX_CONFIG_BYTES).toBe(1048576);
  });

  it("deep flow nesting is refused before the parser recurses", () => {
    const file = write(`name: x\nmodel: ${"[".repeat(100_000)}${"]".repeat(100_000)}\n`);
    expect(configError(() => loadConfig(file, schema)).message).toMatch(/:2: YAML nested more than 64 levels deep/);
    // Brackets inside quoted strings and comments do not count.
    const ok = write(`name: "${"[".repeat(100)}" # ${"{".repeat(100)}\n`);
    expect(loadConfig(ok, schema).value.name).toBe("[".repeat(100));
  });

  it("a directory is not a config", () => {
    expect(configError(() => loadConfig(dir, schema)).message).toMatch(/is a directory/);
  });

  it("--set through a scalar, with control characters, or at __proto__ is a ConfigError", () => {
    const file = write("name: a\n");
    expect(configError(() => loadConfig(file, schema, { overrides: ["name.x=1"] })).message).toMatch(/^--set name\.x: cannot set name\.x/);
    expect(configError(() => loadConfig(file, schema, { overrides: ["seed=1\x1b[31m"] })).message).toContain("\\u001b");
    expect(configError(() => loadConfig(file, schema, { overrides: ["__proto__.polluted=1"] })).message).toMatch(/is not a config key/);
    expect(configError(() => loadConfig(file, schema, { overrides: ["seed=*a"] })).message).toMatch(/^--set seed:/);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("long string values are cut in messages, not echoed whole", () => {
    const file = write(`name: a\nseed: "${"9".repeat(5000)}"\n`);
    const err = configError(() => loadConfig(file, schema));
    expect(err.message.length).toBeLessThan(300);
  });

  it("printable() escapes terminal control and bidi characters", () => {
    expect(printable("a\x1b[2Jb\u202ec")).toBe("a\\u001b[2Jb\\u202ec");
    expect(printable("x".repeat(100), 10)).toBe("xxxxxxx...");
  });
});

describe("fuzz: random and mutated YAML gives a one-line ConfigError or a valid config", () => {
  const seedDoc = "name: fuzz\nseed: 3\ntraining:\n  epochs: 2\n  lr: 0.05\nmodel:\n  hidden: [8, 8]\n";
  const check = (content: string | Uint8Array, overrides: string[]): void => {
    const file = write(content);
    try {
      loadConfig(file, schema, { overrides });
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      if (err.message.includes("\n")) throw new Error(`multi-line message: ${JSON.stringify(err.message)}`);
      if (err.file === undefined) throw new Error(`no file in: ${err.message}`);
      // eslint-disable-next-line no-control-regex
      if (/[\u0000-\u0008\u000b-\u001f\u007f\u009b]/.test(err.message)) throw new Error(`raw control bytes in: ${JSON.stringify(err.message)}`);
    }
  };
  const setArb = fc.array(fc.tuple(fc.constantFrom("name", "seed", "training.epochs", "model.hidden", "training", "x.y", "model.hidden.0"), fc.string({ maxLength: 12 })).map(([k, v]) => `${k}=${v}`), { maxLength: 2 });

  it("mutated copies of a valid config (byte flips, insertions, truncations)", () => {
    const base = Buffer.from(seedDoc);
    const mutation = fc.record({
      at: fc.nat({ max: base.length - 1 }),
      kind: fc.constantFrom("flip", "insert", "truncate", "dup"),
      bytes: fc.uint8Array({ minLength: 1, maxLength: 6 }),
      text: fc.constantFrom("&a ", "*a", "[", "{", "]", ": ", "- ", "!!binary ", "\t", "'", '"', "#", "---\n", "? ", "|\n", "1e400", "-1", "<<: *a\n"),
    });
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 4 }), setArb, (muts, sets) => {
        let buf: Buffer = Buffer.from(base);
        for (const m of muts) {
          const at = Math.min(m.at, buf.length);
          if (m.kind === "flip") buf = Buffer.concat([buf.subarray(0, at), Buffer.from(m.bytes), buf.subarray(at + m.bytes.length)]);
          else if (m.kind === "insert") buf = Buffer.concat([buf.subarray(0, at), Buffer.from(m.text), buf.subarray(at)]);
          else if (m.kind === "truncate") buf = buf.subarray(0, at);
          else buf = Buffer.concat([buf.subarray(0, at), buf.subarray(0, at), buf.subarray(at)]);
        }
        check(buf, sets);
      }),
      { numRuns: 300, seed: 12 },
    );
  });

  it("random YAML-ish text and random bytes", () => {
    const yamlish = fc.array(fc.constantFrom("name", ":", " ", "\n", "  ", "- ", "[", "]", "{", "}", ",", "&x", "*x", "'", '"', "seed", "3", "-2", "null", "~", "training", "epochs", "!!str", "#", "\t", "0x1F", ".inf"), { maxLength: 40 }).map((parts) => parts.join(""));
    fc.assert(fc.property(yamlish, setArb, (text, sets) => check(text, sets)), { numRuns: 300, seed: 7 });
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), setArb, (bytes, sets) => check(bytes, sets)), { numRuns: 200, seed: 5 });
  });
});
