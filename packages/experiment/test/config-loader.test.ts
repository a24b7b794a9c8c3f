import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { closestMatches, ConfigError, didYouMean, editDistance } from "@mnemo/core";
import { loadConfig, positiveInt } from "../src/index.js";

// A small schema shaped like the run config: sections, a method and a dataset chosen by name.
const schema = z.strictObject({
  name: z.string().min(1),
  seed: z.number().int().min(0).default(0),
  backend: z.enum(["auto", "wasm", "cpu"]).default("auto"),
  stream: z.strictObject({
    kind: z.enum(["class-incremental", "task-incremental"]),
    dataset: z.discriminatedUnion("name", [z.strictObject({ name: z.literal("mnist") }), z.strictObject({ name: z.literal("cifar100") })]),
    increment: z.number().int().min(1),
  }),
  model: z.strictObject({ hidden: z.array(positiveInt()).min(1).default([400]) }).prefault({}),
  method: z
    .discriminatedUnion("name", [
      z.strictObject({ name: z.literal("finetune") }),
      z.strictObject({ name: z.literal("er"), memory_size: positiveInt(), replay_batch_size: positiveInt().default(10) }),
    ])
    .prefault({ name: "finetune" }),
  training: z.strictObject({ epochs: positiveInt().default(1), momentum: z.number().min(0).max(1).default(0.9) }).prefault({}),
  output: z.strictObject({ dir: z.string().min(1).default("runs") }).prefault({}),
});

const base = `name: t
stream:
  kind: class-incremental
  dataset:
    name: mnist
  increment: 2
training:
  epochs: 1
`;

const dir = mkdtempSync(join(tmpdir(), "mnemo-core-config-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function problem(text: string, overrides: string[] = []): string {
  try {
    loadConfig("c.yaml", schema, { text, overrides });
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).message;
  }
  throw new Error("expected a ConfigError");
}

describe("did you mean", () => {
  it("counts an adjacent swap as one edit and suggests only close names", () => {
    expect(editDistance("minst", "mnist")).toBe(1);
    expect(editDistance("trainig", "training")).toBe(1);
    expect(closestMatches("epoch", ["epochs", "batch_size", "lr"])).toEqual(["epochs"]);
    expect(closestMatches("xyz", ["epochs", "batch_size"])).toEqual([]);
    expect(didYouMean("cil-minst.yaml", ["cil-mnist.yaml", "cil-cifar.yaml"])).toBe(' (did you mean "cil-mnist.yaml"?)');
  });
});

describe("config errors say what to do, in the project's words", () => {
  it("a misspelt key suggests the right one", () => {
    expect(problem(base.replace("  epochs: 1", "  epoch: 1"))).toBe('c.yaml:8 training.epoch: unknown key "epoch": did you mean "epochs"?');
    expect(problem(base.replace("training:", "trainig:"))).toBe('c.yaml:7 trainig: unknown key "trainig": did you mean "training"?');
  });

  it("an unknown key with nothing close lists the valid keys of its section", () => {
    expect(problem(base + "method:\n  name: er\n  memory_size: 5\n  bufer: 3\n")).toBe("c.yaml:12 method.bufer: unknown key \"bufer\"; valid keys under method: name, memory_size, replay_batch_size");
  });

  it("a misspelt key is reported before the required key it leaves missing", () => {
    expect(problem(base + "method:\n  name: er\n  memory_sise: 5\n")).toBe('c.yaml:11 method.memory_sise: unknown key "memory_sise": did you mean "memory_size"?');
  });

  it("unknown method and dataset names: the close one and the choices, no 'Invalid discriminator value'", () => {
    const dataset = problem(base.replace("name: mnist", "name: minst"));
    expect(dataset).toBe('c.yaml:5 stream.dataset.name: unknown dataset "minst" (did you mean "mnist"?); expected one of: mnist, cifar100');
    const method = problem(base + "method:\n  name: err\n");
    expect(method).toBe('c.yaml:10 method.name: unknown method "err" (did you mean "er"?); expected one of: finetune, er');
    expect(problem(base + "backend: cpuu\n")).toBe('c.yaml:9 backend: unknown backend "cpuu" (did you mean "cpu"?); expected one of: auto, wasm, cpu');
    for (const m of [dataset, method]) expect(m).not.toMatch(/Invalid|discriminator/);
  });

  it("bounds are worded as the README shows, not 'Too small: expected number to be >=1'", () => {
    expect(problem(base.replace("increment: 2", "increment: -1"))).toBe("c.yaml:6 stream.increment: expected a positive integer, got -1");
    expect(problem(base.replace("increment: 2", "increment: 1.5"))).toBe("c.yaml:6 stream.increment: expected an integer, got 1.5");
    expect(problem(base + "  momentum: 2\n")).toBe("c.yaml:9 training.momentum: expected a number <= 1, got 2");
    expect(problem(base.replace("name: t", 'name: ""'))).toBe('c.yaml:1 name: expected a non-empty string, got ""');
    expect(problem(base.replace("name: t\n", ""))).toBe("c.yaml:1 name: required key is missing (expected a string)");
  });

  it("--set errors print the key once", () => {
    expect(problem(base, ["training.epochs=0"])).toBe("--set training.epochs: expected a positive integer, got 0");
    expect(problem(base, ["training.epochs=3", "seed=-1"])).toBe("--set seed: expected a non-negative integer, got -1");
  });

  it("--set k v suggests k=v", () => {
    expect(problem(base, ["training.epochs"])).toBe('--set: expected key=value as one argument, got "training.epochs": write --set training.epochs=<value> (no space around =)');
  });

  it("--set model.hidden=256,256 suggests [256,256]; the same in a file", () => {
    expect(problem(base, ["model.hidden=256,256"])).toBe('--set model.hidden: expected a list ([a, b]), got "256,256" (a list is written in brackets: --set model.hidden=[256,256])');
    expect(loadConfig("c.yaml", schema, { text: base, overrides: ["model.hidden=[256,256]"] }).value.model.hidden).toEqual([256, 256]);
    expect(problem(base + "model:\n  hidden: 256, 256\n")).toBe('c.yaml:10 model.hidden: expected a list ([a, b]), got "256, 256" (a list is written in brackets: hidden: [256, 256])');
  });

  it("--set output=/x suggests output.dir", () => {
    expect(problem(base, ["output=/x"])).toBe('--set output: expected a section of keys, got "/x": output is a section with keys dir; did you mean --set output.dir=/x?');
    expect(loadConfig("c.yaml", schema, { text: base, overrides: ["output.dir=/x"] }).value.output.dir).toBe("/x");
  });

  it("a missing config file suggests the closest file in its folder", () => {
    writeFileSync(join(dir, "cil-mnist.yaml"), base);
    writeFileSync(join(dir, "cil-cifar.yaml"), base);
    const err = (() => {
      try {
        loadConfig(join(dir, "cil-minst.yaml"), schema);
      } catch (e) {
        return e as ConfigError;
      }
      throw new Error("expected a ConfigError");
    })();
    expect(err.message).toBe(`${join(dir, "cil-minst.yaml")}: config file not found (did you mean ${join(dir, "cil-mnist.yaml")}?)`);
    expect(() => loadConfig(join(dir, "nope", "x.yaml"), schema)).toThrow(`config file not found (no directory ${join(dir, "nope")})`);
  });
});
