/**
 * nx plugin: one `experiments:<name>` target per `configs/<name>.yaml`, inferred from the files so
 * that no list is kept by hand. The target's description is the config's leading comment.
 *   npx nx run experiments:cil-mnist-er      npx nx show project experiments
 */
import { readFileSync } from "node:fs";
import { basename, join } from "node:path";

/** The leading `#` comment block of a YAML file, joined into one line. */
export function leadingComment(text) {
  const lines = [];
  for (const line of text.split("\n")) {
    const m = /^#\s?(.*)$/.exec(line);
    if (!m) break;
    lines.push(m[1].trim());
  }
  return lines.join(" ").trim();
}

export function targetFor(configFile, text) {
  return {
    command: `node packages/cli/bin/mnemo.mjs run ${configFile}`,
    options: { cwd: "{workspaceRoot}" },
    cache: false,
    // The CLI runs its build (dist/): build it and everything it imports first (nx caches builds).
    dependsOn: ["^build"],
    metadata: { description: leadingComment(text) || `mnemo run ${configFile}` },
  };
}

export const createNodesV2 = [
  "configs/*.yaml",
  (files, _options, context) =>
    files.map((file) => {
      const name = basename(file, ".yaml");
      const text = readFileSync(join(context.workspaceRoot, file), "utf8");
      return [file, { projects: { experiments: { name: "experiments", root: "experiments", targets: { [name]: targetFor(file, text) } } } }];
    }),
];
