/**
 * Hostile run configs (issue 12), one test per case: names that would write outside
 * `output.dir`, and sizes that would overflow memory or never end, are each a one-line
 * ConfigError naming the key, raised before a run directory exists. (Malformed files — binary,
 * non-mappings, alias bombs, huge inputs — are @mnemo/core's config-hostile tests.)
 */
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError } from "@mnemo/core";
import { buildExperiment, checkSizes, loadExperimentConfig, runFromConfig } from "@mnemo/experiment";

const dir = mkdtempSync(join(tmpdir(), "mnemo-hostile-run-"));
const out = join(dir, "runs");

const base = `name: t
seed: 1
stream:
  kind: class-incremental
  dataset:
    name: synthetic-blobs
    num_classes: 4
  increment: 2
method: { name: er, memory_size: 20 }
training:
  epochs: 1
output: { dir: ${out} }
`;
const file = join(dir, "base.yaml");
writeFileSync(file, base);

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

async function runError(overrides: string[]): Promise<ConfigError> {
  try {
    await runFromConfig({ configFile: file, overrides, quiet: true, log: () => {}, handleSignals: false });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw new Error(`expected a ConfigError, got ${(err as Error).constructor.name}: ${(err as Error).message}`);
    expect(err.message.split("\n")).toHaveLength(1);
    // Refused before anything was written: no run directory, not even the experiment folder.
    expect(existsSync(out) ? readdirSync(out) : []).toEqual([]);
    return err;
  }
  throw new Error("expected a ConfigError, got none");
}

const load = (overrides: string[]) => () => loadExperimentConfig(file, { overrides });

describe("names and paths: a run writes only under output.dir", () => {
  it("--set name=../../../escaped is refused, naming the allowed characters", async () => {
    const err = await runError(["name=../../../escaped"]);
    expect(err.path).toBe("name");
    expect(err.message).toMatch(/^--set name: "\.\.\/\.\.\/\.\.\/escaped" cannot name a folder: use only letters, digits, "\.", "_" and "-"/);
    expect(existsSync(join(dir, "escaped"))).toBe(false);
  });

  it("a name with a separator (nested folders) is refused with its file and line", () => {
    writeFileSync(join(dir, "slash.yaml"), base.replace("name: t", "name: a/b"));
    const err = configError(() => loadExperimentConfig(join(dir, "slash.yaml")));
    expect(err.message).toMatch(new RegExp(`^${join(dir, "slash.yaml")}:1 name: "a/b" cannot name a folder`));
  });

  it("a backslash, '<>', a leading dot and '..' are refused", () => {
    for (const name of ["a\\\\b", "<script>", ".hidden", ".."]) expect(configError(load([`name=${name}`])).path).toBe("name");
  });

  it("control characters in a name are refused (by the --set check, before the schema) and not echoed raw", () => {
    const err = configError(load(["name=run\u0007x"]));
    expect(err.message).toMatch(/contains a control character/);
    // eslint-disable-next-line no-control-regex
    expect(err.message).not.toMatch(/[\u0000-\u001f]/);
  });

  it("a control character written as a YAML escape (\\a) reaches the schema, which refuses it without echoing it raw", () => {
    writeFileSync(join(dir, "bell.yaml"), base.replace("name: t", 'name: "run\\ax"'));
    const err = configError(() => loadExperimentConfig(join(dir, "bell.yaml")));
    expect(err.path).toBe("name");
    expect(err.line).toBe(1);
    // eslint-disable-next-line no-control-regex
    expect(err.message).not.toMatch(/[\u0000-\u001f]/);
  });

  it("ordinary names still work (letters, digits, '.', '_', '-')", () => {
    expect(loadExperimentConfig(file, { overrides: ["name=cil-mnist_er.v2"] }).value.name).toBe("cil-mnist_er.v2");
  });
});

describe("sizes that would overflow or never end are refused before a run directory is made", () => {
  it("training.epochs: 1e12", async () => {
    const err = await runError(["training.epochs=1e12"]);
    expect(err.message).toBe("--set training.epochs: expected an integer <= 100000, got 1000000000000");
  });

  it("training.batch_size: 1e15", async () => {
    const err = await runError(["training.batch_size=1e15"]);
    expect(err.path).toBe("training.batch_size");
    expect(err.message).toBe("--set training.batch_size: expected an integer <= 1048576, got 1000000000000000");
  });

  it("model.hidden: [100000000, 100000000] (was a RangeError from kaimingLinear)", async () => {
    const err = await runError(["model.hidden=[100000000, 100000000]"]);
    expect(err.message).toBe("--set model.hidden.0: expected an integer <= 1048576, got 100000000");
  });

  it("model.hidden within the per-layer bound but too big for the machine", () => {
    const loaded = loadExperimentConfig(file, { overrides: ["model.hidden=[1000000, 1000000]"] });
    const stream = { inputShape: [28, 28, 1] as const, numClasses: 10 };
    const err = configError(() => checkSizes(loaded.value, stream as never, loaded.errorAt, 16e9));
    // The 1000000 x 1000000 matrix between hidden.0 and hidden.1: named at the layer it feeds.
    expect(err.path).toBe("model.hidden.1");
    expect(err.message).toMatch(/a 1000000 × 1000000 weight matrix has 1\.00e\+12 entries, more than one tensor can hold/);
  });

  it("method.memory_size: 100000000 samples × 784 B is checked against the machine's memory", () => {
    const loaded = loadExperimentConfig(file, { overrides: ["method.memory_size=100000000"] });
    const err = configError(() => checkSizes(loaded.value, { inputShape: [28, 28, 1], numClasses: 10 } as never, loaded.errorAt, 16e9));
    expect(err.message).toBe("--set method.memory_size: 100000000 samples × 784 B = 78.4 GB exceeds half of this machine's memory (16.0 GB); use fewer samples");
  });

  it("method.memory_size far beyond any machine, through the whole run path", async () => {
    const err = await runError(["method.memory_size=1e13"]);
    expect(err.path).toBe("method.memory_size");
    expect(err.message).toMatch(/samples × \d+ B = .* exceeds half of this machine's memory/);
  });

  it("a buildable config is not refused by the size checks", async () => {
    const built = await buildExperiment(loadExperimentConfig(file), { quiet: true, log: () => {} });
    expect(built.config.method.name).toBe("er");
    built.method.learner.dispose();
  });
});
