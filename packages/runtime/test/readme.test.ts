/** The README's example, run as written (first ts block) in a fresh Node process. */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect, it } from "vitest";

const dir = join(import.meta.dirname, "..");

it("README example selects a backend and draws progress", () => {
  const readme = readFileSync(join(dir, "README.md"), "utf8");
  const code = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(code).toContain("selectBackend");
  // The block is plain JavaScript as well as TypeScript, so Node evaluates it directly; cpu keeps it quick.
  const child = spawnSync(process.execPath, ["--conditions=@mnemo/source", "--import", "tsx", "--input-type=module", "-e", code as string], {
    cwd: dir,
    env: { ...process.env, MNEMO_BACKEND: "cpu" },
    encoding: "utf8",
    timeout: 60_000,
  });
  expect(child.status, child.stderr).toBe(0);
  expect(child.stdout.split("\n")[0]).toBe("cpu");
  expect(child.stderr).toMatch(/^task 0 \(1 of 5\) 100% 1000\/1000 \d+ img\/s loss 0\.53$/m);
}, 90_000);
