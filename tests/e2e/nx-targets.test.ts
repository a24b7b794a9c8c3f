/**
 * Every file in configs/ is an `experiments:<name>` target, inferred by tools/nx/config-targets.mjs
 * (no hand-kept list): the target list nx reports equals the list of config files.
 */
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { leadingComment } from "../../tools/nx/config-targets.mjs";

const root = resolve(import.meta.dirname, "../..");

describe("nx targets from configs/", () => {
  it("lists exactly one experiments target per config file, each with the config's description", () => {
    const r = spawnSync("npx", ["nx", "show", "project", "experiments", "--json"], {
      cwd: root,
      encoding: "utf8",
      env: { ...process.env, NX_DAEMON: "false", NX_NO_CLOUD: "true" },
    });
    expect(r.status, r.stderr).toBe(0);
    const targets = (JSON.parse(r.stdout) as { targets: Record<string, { options: { command: string }; metadata?: { description?: string } }> }).targets;
    const configs = readdirSync(resolve(root, "configs")).filter((f) => f.endsWith(".yaml")).map((f) => f.slice(0, -".yaml".length)).sort();
    expect(Object.keys(targets).sort()).toEqual(configs);
    for (const name of configs) {
      expect(targets[name]?.options.command).toBe(`node packages/cli/bin/mnemo.mjs run configs/${name}.yaml`);
      expect(targets[name]?.metadata?.description?.length ?? 0).toBeGreaterThan(10);
    }
  });

  it("takes the description from the leading comment block", () => {
    expect(leadingComment("# Split-MNIST, five tasks\n# of two digits.\nname: x\n# later comment\n")).toBe("Split-MNIST, five tasks of two digits.");
    expect(leadingComment("name: x\n")).toBe("");
  });
});
