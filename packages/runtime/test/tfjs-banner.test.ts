/** tfjs's "install our node backend" banner (printed by its CPU backend in Node) does not reach Mnemo's users. */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const fixture = join(import.meta.dirname, "fixtures", "cpu-tensor.ts");
const run = (args: string[]) => spawnSync(process.execPath, ["--import", "tsx", fixture, ...args], { cwd: join(import.meta.dirname, ".."), encoding: "utf8", timeout: 60_000 });

describe("tfjs Node banner", () => {
  it("is printed by bare tfjs and not once @mnemo/runtime is loaded", () => {
    const bare = run([]);
    expect(bare.stdout).toContain("sum 3");
    expect(bare.stderr + bare.stdout).toMatch(/looks like you are running TensorFlow\.js in Node\.js/);
    const withRuntime = run(["--with-runtime"]);
    expect(withRuntime.status, withRuntime.stderr).toBe(0);
    expect(withRuntime.stdout).toContain("sum 3");
    expect(withRuntime.stderr + withRuntime.stdout).not.toMatch(/running TensorFlow\.js in Node/);
  }, 120_000);
});
