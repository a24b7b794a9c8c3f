import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError } from "@mnemo/core";
import { loadConfig } from "../src/config-loader.js";
import { configSchema, defaultRegistry, runFromConfig } from "@mnemo/experiment";

const experimentConfigSchema = configSchema(defaultRegistry);

const dir = mkdtempSync(join(tmpdir(), "mnemo-config-"));

function write(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

const base = `name: t
seed: 1
stream:
  kind: class-incremental
  dataset:
    name: synthetic-blobs
    num_classes: 6
  increment: 2
training:
  epochs: 1
`;

async function errorOf(p: Promise<unknown> | (() => unknown)): Promise<ConfigError> {
  try {
    if (typeof p === "function") p();
    else await p;
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error("expected a ConfigError");
}

describe("config errors name the file, the line and the key", () => {
  it("a valid config gets its defaults filled in", () => {
    const file = write("ok.yaml", base);
    const cfg = loadConfig(file, experimentConfigSchema).value;
    expect(cfg.training.batch_size).toBe(128);
    expect(cfg.model.backbone).toBe("mlp");
    expect(cfg.training.optimizer).toEqual({ name: "sgd", momentum: 0.9, nesterov: false, weight_decay: 0 });
  });

  it("wrong type", async () => {
    const file = write("type.yaml", base.replace("epochs: 1", "epochs: many"));
    const err = await errorOf(() => loadConfig(file, experimentConfigSchema));
    expect(err.message).toBe(`${file}:10 training.epochs: expected a positive integer, got "many"`);
  });

  it("negative increment, as in the issue's example", async () => {
    const file = write("neg.yaml", base.replace("increment: 2", "increment: -1"));
    const err = await errorOf(() => loadConfig(file, experimentConfigSchema));
    expect(err.line).toBe(8);
    expect(err.path).toBe("stream.increment");
    expect(err.message).toMatch(new RegExp(`^${file}:8 stream\\.increment: .*got -1$`));
  });

  it("unknown key", async () => {
    const file = write("unknown.yaml", base.replace("  epochs: 1", "  epochs: 1\n  epohcs: 3"));
    const err = await errorOf(() => loadConfig(file, experimentConfigSchema));
    expect(err.message).toBe(`${file}:11 training.epohcs: unknown key "epohcs": did you mean "epochs"?`);
  });

  it("an increment that does not divide the classes (checked by the stream builder)", async () => {
    const file = write("divide.yaml", base.replace("increment: 2", "increment: 4"));
    const err = await errorOf(runFromConfig({ configFile: file, overrides: [], quiet: true, log: () => {} }));
    expect(err.file).toBe(file);
    expect(err.line).toBe(8);
    expect(err.message.split("\n")).toHaveLength(1);
    expect(err.message).toMatch(new RegExp(`^${file}:8 stream\\.increment: 6 classes do not split`));
  });

  it("missing file", async () => {
    const err = await errorOf(() => loadConfig(join(dir, "nope.yaml"), experimentConfigSchema));
    expect(err.message.startsWith(`${join(dir, "nope.yaml")}: config file not found`)).toBe(true);
  });

  it("YAML syntax error", async () => {
    const file = write("syntax.yaml", base.replace("increment: 2", "increment: [2"));
    const err = await errorOf(() => loadConfig(file, experimentConfigSchema));
    expect(err.message).toMatch(new RegExp(`^${file}:\\d+: YAML syntax error`));
  });

  it("--set overrides are validated and named", async () => {
    const file = write("set.yaml", base);
    expect(loadConfig(file, experimentConfigSchema, { overrides: ["training.epochs=3", "seed=9"] }).value.training.epochs).toBe(3);
    const err = await errorOf(() => loadConfig(file, experimentConfigSchema, { overrides: ["training.lr=-0.1"] }));
    expect(err.message).toBe("--set training.lr: expected a positive number, got -0.1");
  });
});
