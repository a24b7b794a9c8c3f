/**
 * `stream.kind: meta-learning` in the run config: accepted by the same schema as every other
 * stream, with file:line errors from the schema and from the stream builder, and the meta
 * methods refuse streams they cannot learn from, at the key to change.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError } from "@mnemo/core";
import { loadConfig } from "../src/config-loader.js";
import { buildExperiment, configSchema, defaultRegistry } from "@mnemo/experiment";

const schema = configSchema(defaultRegistry);
const dir = mkdtempSync(join(tmpdir(), "mnemo-meta-config-"));
const write = (name: string, text: string): string => {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
};

const base = `name: m
stream:
  kind: meta-learning
  dataset: { name: synthetic-blobs, num_classes: 15, train_per_class: 10, test_per_class: 6 }
  classes: { train: 5, validation: 5, test: 5 }
  episodes: { ways: 5, shots: 1, queries: 5 }
  test_episodes: { ways: 5, shots: 1, queries: 5, count: 20 }
method:
  name: maml
  iterations: 2
`;

async function errorOf(f: () => unknown): Promise<ConfigError> {
  try {
    await f();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error("expected a ConfigError");
}

describe("meta-learning configs", () => {
  it("a meta-learning stream with a meta method is a valid run config, defaults filled in", () => {
    const cfg = loadConfig(write("ok.yaml", base), schema).value;
    expect(cfg.stream.kind).toBe("meta-learning");
    expect(cfg.method).toMatchObject({ name: "maml", inner_lr: 0.5, meta_batch: 32, test_inner_steps: 10, iterations: 2 });
  });

  it("schema errors carry the line", async () => {
    const file = write("bad.yaml", base.replace("shots: 1, queries: 5 }\n  test", "shots: 0, queries: 5 }\n  test"));
    const err = await errorOf(() => loadConfig(file, schema));
    expect(err.line).toBe(6);
    expect(err.path).toBe("stream.episodes.shots");
  });

  it("stream-builder errors (too few images per class) come back at their line", async () => {
    const file = write("many.yaml", base.replace("queries: 5, count: 20", "queries: 16, count: 20"));
    const err = await errorOf(() => buildExperiment(loadConfig(file, schema), { quiet: true, log: () => {} }));
    expect(err.message).toContain(`${file}:7`);
    expect(err.path).toBe("stream.test_episodes.shots");
  });

  it("maml on a class-incremental stream is refused at method.name", async () => {
    const file = write("cil.yaml", "name: c\nstream:\n  kind: class-incremental\n  dataset: { name: synthetic-blobs, num_classes: 4 }\n  increment: 2\nmethod:\n  name: maml\n");
    const err = await errorOf(() => buildExperiment(loadConfig(file, schema), { quiet: true, log: () => {} }));
    expect(err.path).toBe("method.name");
    expect(err.message).toContain("stream.kind: meta-learning");
  });

  it("mamlcon without stream.continual is refused, naming the section to add", async () => {
    const file = write("nocont.yaml", base.replace("name: maml", "name: mamlcon"));
    const err = await errorOf(() => buildExperiment(loadConfig(file, schema), { quiet: true, log: () => {} }));
    expect(err.message).toContain("stream.continual");
  });
});
