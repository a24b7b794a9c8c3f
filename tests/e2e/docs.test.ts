/**
 * The generated docs are current (docs/configuration.md from the config schema, the package
 * diagram in docs/architecture.md from the package.json files), and the generators say what the
 * schema and the package files say. Regenerate with `npm run docs`.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { z } from "zod";
import { describe, expect, it } from "vitest";
import { configJsonSchema, defaultRegistry, definePlugin, experimentConfig } from "@mnemo/experiment";
import { MINIMAL_EXAMPLE, readConfigs, renderConfigurationDoc, type JsonSchema } from "../../tools/docs/config-doc.js";
import { renderDependencyDiagram, replaceBetweenMarkers } from "../../tools/docs/dependency-diagram.js";
import { ROOT, staleDocs } from "../../tools/docs/make-docs.js";

describe("generated docs", () => {
  it("docs/configuration.md and the diagram in docs/architecture.md are current", () => {
    const stale = staleDocs();
    expect(stale, `out of date: ${stale.join(", ")}. Regenerate with \`npm run docs\` and commit the result`).toEqual([]);
  });

  it("configuration.md lists every method with every key, its default and its description", () => {
    const doc = readFileSync(join(ROOT, "docs/configuration.md"), "utf8");
    for (const m of defaultRegistry.methods()) {
      expect(doc).toContain(`### \`method.name: ${m.name}\``);
      for (const [key, field] of Object.entries(m.schema.shape)) {
        if (key === "name") continue;
        expect(doc, `method ${m.name}: key ${key}`).toContain(`| \`${key}\` |`);
        const text = (field as z.ZodType).description;
        if (text) expect(doc).toContain(text.replace(/\|/g, "\\|"));
      }
    }
  });

  it("every key in configuration.md has a description (a .describe() text in its schema)", () => {
    const doc = readFileSync(join(ROOT, "docs/configuration.md"), "utf8");
    const bare = doc.split("\n").filter((l) => /^\| `[^`]+` \|.*\| {2}\|$/.test(l));
    expect(bare, `add a .describe() to these keys' schemas, then \`npm run docs\`:\n${bare.join("\n")}`).toEqual([]);
  });

  it("a registered plugin gets its own section, with its keys, types, defaults and an example", () => {
    const registry = defaultRegistry.clone();
    registry.registerPlugin(
      definePlugin({
        name: "probe",
        description: "a plugin for this test",
        schema: z.strictObject({
          name: z.literal("probe").describe("Records what it sees"),
          every: z.number().int().positive().default(10).describe("Record every N steps"),
          mode: z.enum(["fast", "slow"]).optional().describe("How"),
          target: z.string().describe("Where to"),
        }),
        build: () => ({ name: "probe" }),
      }),
    );
    const doc = renderConfigurationDoc(configJsonSchema(registry) as JsonSchema, []);
    expect(doc).toContain("### `plugins[].name: probe`");
    expect(doc).toContain("Records what it sees.");
    expect(doc).toContain("| `every` | integer > 0 | `10` | Record every N steps |");
    expect(doc).toContain("| `mode` | `fast` \\| `slow` | optional | How |");
    expect(doc).toContain("| `target` | string | **required** | Where to |");
    expect(doc).toContain("plugins:\n  - name: probe\n    every: 10\n    target: ...  # required: string");
  });

  it("the page's examples are valid configs", () => {
    expect(() => experimentConfig(parse(MINIMAL_EXAMPLE) as Record<string, unknown>, { source: "MINIMAL_EXAMPLE" })).not.toThrow();
    const configs = readConfigs(ROOT);
    expect(configs.map((c) => c.file)).toEqual(expect.arrayContaining(readdirSync(join(ROOT, "configs")).filter((f) => f.endsWith(".yaml")).map((f) => `configs/${f}`)));
  });

  it("the dependency diagram has one arrow per internal dependency, in the direction of the package.json files", () => {
    const diagram = renderDependencyDiagram(ROOT);
    const edges = new Set([...diagram.matchAll(/^ {2}(\w+) --> (\w+)$/gm)].map((m) => `${m[1]}->${m[2]}`));
    let count = 0;
    for (const dir of readdirSync(join(ROOT, "packages"))) {
      const pkg = JSON.parse(readFileSync(join(ROOT, "packages", dir, "package.json"), "utf8")) as { name: string; dependencies?: Record<string, string> };
      for (const dep of Object.keys(pkg.dependencies ?? {}).filter((d) => d.startsWith("@mnemo/"))) {
        expect(edges, `${pkg.name} -> ${dep}`).toContain(`${pkg.name.slice(7)}->${dep.slice(7)}`);
        count++;
      }
    }
    expect(edges.size).toBe(count);
    expect(edges).toContain("runtime->kernels");
    expect(edges).toContain("runtime->core");
    expect(edges).not.toContain("core->kernels");
    // Optional peers (needed by a subpath entry only) are their own kind of arrow.
    expect(diagram).toMatch(/^ {2}replay -\.->\|peer\| models$/m);
    expect(diagram).not.toMatch(/^ {2}replay --> models$/m);
  });

  it("markers: the generated block is replaced in place, and missing markers are an error that says what to add", () => {
    const text = "a\n<!-- generated:x (npm run docs) -->\nold\n<!-- /generated:x -->\nb\n";
    expect(replaceBetweenMarkers(text, "x", "new", "f.md")).toBe("a\n<!-- generated:x (npm run docs) -->\nnew\n<!-- /generated:x -->\nb\n");
    expect(() => replaceBetweenMarkers("a\n", "x", "new", "f.md")).toThrow(/f\.md: markers .*<!-- \/generated:x -->/);
  });
});
