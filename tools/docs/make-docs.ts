/**
 * Regenerates the generated parts of the docs:
 *
 *   npm run docs            # writes docs/configuration.md and the diagram in docs/architecture.md
 *   npm run docs -- --check # exits 1 (naming the stale files) when a committed file is out of date
 *
 * docs/configuration.md comes from the run config's schema (tools/docs/config-doc.ts), the package
 * diagram from the package.json files (tools/docs/dependency-diagram.ts). tests/e2e/docs.test.ts
 * runs the same functions, so a change to a schema or a package.json without `npm run docs` fails CI.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { configJsonSchema, defaultRegistry } from "@mnemo/experiment";
import { readConfigs, renderConfigurationDoc, type JsonSchema } from "./config-doc.js";
import { renderDependencyDiagram, replaceBetweenMarkers } from "./dependency-diagram.js";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/** Each generated file with the content it should have now. */
export function generatedDocs(root = ROOT): { file: string; content: string }[] {
  const architecture = join(root, "docs/architecture.md");
  return [
    { file: "docs/configuration.md", content: renderConfigurationDoc(configJsonSchema(defaultRegistry) as JsonSchema, readConfigs(root)) },
    { file: "docs/architecture.md", content: replaceBetweenMarkers(readFileSync(architecture, "utf8"), "dependency-diagram", renderDependencyDiagram(root), "docs/architecture.md") },
  ];
}

/** The generated files whose committed content differs from what the generators give. */
export function staleDocs(root = ROOT): string[] {
  return generatedDocs(root)
    .filter(({ file, content }) => {
      try {
        return readFileSync(join(root, file), "utf8") !== content;
      } catch {
        return true;
      }
    })
    .map((d) => d.file);
}

function main(): number {
  if (process.argv.includes("--check")) {
    const stale = staleDocs();
    if (stale.length === 0) return 0;
    process.stderr.write(`out of date: ${stale.join(", ")}; regenerate with \`npm run docs\` and commit the result\n`);
    return 1;
  }
  for (const { file, content } of generatedDocs()) {
    writeFileSync(join(ROOT, file), content);
    process.stderr.write(`wrote ${file}\n`);
  }
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = main();
}
