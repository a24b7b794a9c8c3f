/** The command-line mistakes of the issue, each answered with the fix (issue 13, item 8). */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadExperimentConfig } from "@mnemo/experiment";
import { describe, expect, it } from "vitest";
import { parseRunArgs } from "../src/commands/run.js";

const config = "configs/cil-mnist.yaml";
const root = join(import.meta.dirname, "../../..");

function messageOf(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error("expected an error");
}

const withSet = (...sets: string[]) => messageOf(() => loadExperimentConfig(join(root, config), { overrides: sets }));

describe("--set mistakes", () => {
  it("--set k v suggests --set k=v", () => {
    const m = messageOf(() => parseRunArgs([config, "--set", "training.epochs", "2"]));
    expect(m).toContain("--set training.epochs=2");
  });

  it("--set k alone says key=value", () => {
    expect(withSet("training.epochs")).toContain("--set training.epochs=<value>");
  });

  it("a comma list suggests brackets", () => {
    expect(withSet("model.hidden=256,256")).toContain("--set model.hidden=[256,256]");
  });

  it("a value for a section suggests its key", () => {
    expect(withSet("output=/x")).toContain("did you mean --set output.dir=/x?");
  });

  it("misspelt keys get a did-you-mean, located at the --set, and the key is printed once", () => {
    const m = withSet("training.epoch=2");
    expect(m).toBe('--set training.epoch: unknown key "epoch": did you mean "epochs"?');
    const section = withSet("trainig.lr=0.1");
    expect(section).toBe('--set trainig: unknown key "trainig": did you mean "training"?');
    const bad = withSet("training.lr=-1");
    expect(bad.match(/training\.lr/g)).toHaveLength(1);
    expect(bad).toMatch(/^--set training\.lr: expected a positive number, got -1$/);
  });
});

describe("mnemo run --resume", () => {
  it("a run directory that does not exist is named as such, with the closest one", () => {
    const work = mkdtempSync(join(tmpdir(), "mnemo-resume-args-"));
    const run = join(work, "exp", "2026-01-01_12-00-00-seed0");
    mkdirSync(run, { recursive: true });
    writeFileSync(join(run, "config.yaml"), "name: exp\n");
    const missing = messageOf(() => parseRunArgs(["--resume", join(work, "exp", "2026-01-01_12-00-00-seed1")]));
    expect(missing).toContain(`run directory ${join(work, "exp", "2026-01-01_12-00-00-seed1")} does not exist`);
    expect(missing).toContain(`did you mean ${run}?`);
    expect(missing).not.toContain("config file not found");
    expect(messageOf(() => parseRunArgs(["--resume", "runs/nope"]))).toMatch(/^--resume: run directory runs\/nope does not exist/);
    // The experiment folder instead of a run folder: which runs it holds.
    expect(messageOf(() => parseRunArgs(["--resume", join(work, "exp")]))).toContain(`is not a run directory (no config.yaml); it holds 1 run, e.g. ${run}`);
    expect(parseRunArgs(["--resume", run])?.configFile).toBe(join(run, "config.yaml"));
  });

  it("--resume with a config file or --set says why not", () => {
    expect(messageOf(() => parseRunArgs([config, "--resume", "x"]))).toContain("do not give a config file too");
  });
});

describe("file names", () => {
  it("a misspelt config file suggests the one that exists", () => {
    expect(messageOf(() => loadExperimentConfig(join(root, "configs/cil-minst.yaml")))).toContain(`did you mean ${join(root, "configs/cil-mnist.yaml")}?`);
  });
});
