/**
 * kill -9 at random instants: a child process logs a run through the journal and is SIGKILLed
 * mid-stream (while logging, while a request is in flight, while writing artifacts or closing);
 * it is restarted on the same run directory until it finishes. The store must then hold exactly
 * one FINISHED run whose every metric has each step exactly once, with the values of the stream.
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { MlflowTestServer, type ServerMetric } from "../src/testing/mlflow-test-server.js";
import { syncRunDir } from "../src/sync.js";
import { FAST_RETRY, tempDir } from "./helpers.js";
import { readMlflowFileStore } from "./mlflow-file-store-reader.js";

const child = fileURLToPath(new URL("./fixtures/journal-child.ts", import.meta.url));
const STEPS = 200;

/**
 * Runs the child; kills it with SIGKILL as soon as it reports step `killAtStep` (never, if undefined).
 * Killing at a step rather than after a delay keeps the kill inside the stream on a machine of any speed.
 */
function runChild(runDir: string, uri: string, killAtStep?: number): Promise<"killed" | "finished"> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ["--conditions=@mnemo/source", "--import", "tsx", child, runDir, uri, String(STEPS)], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    p.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      if (killAtStep !== undefined && out.includes(`step ${killAtStep}\n`) && !p.killed) p.kill("SIGKILL");
    });
    p.stderr.on("data", (d: Buffer) => (err += d.toString()));
    p.on("exit", (code, signal) => {
      if (signal === "SIGKILL") resolve("killed");
      else if (code === 0 && out.includes("finished")) resolve("finished");
      else reject(new Error(`child exited ${code}: ${err}`));
    });
  });
}

/** A seeded sequence of steps to kill at (multiples of 10, as the child reports them, below `maxStep`). */
function killSteps(seed: number, n: number, maxStep: number): number[] {
  let s = seed;
  return Array.from({ length: n }, () => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return 10 * Math.floor((s / 2 ** 31) * (maxStep / 10 + 1));
  });
}

function expectedPoints(): Map<string, number> {
  const m = new Map<string, number>();
  for (let s = 0; s < STEPS; s++) {
    m.set(`train_loss@${s}`, Math.sin(s) + 2);
    m.set(`lr@${s}`, 0.1 / (1 + s));
    if (s % 25 === 24) m.set(`accuracy/task_${(s + 1) / 25 - 1}@${s}`, s / 4);
  }
  m.set(`final_average_accuracy@${STEPS - 1}`, 42.5);
  m.set(`backward_transfer@${STEPS - 1}`, -1.25);
  return m;
}

function expectExactly(points: { key: string; step: number; value: number }[]): void {
  const want = expectedPoints();
  const seen = new Map<string, number>();
  for (const p of points) {
    const id = `${p.key}@${p.step}`;
    expect(seen.has(id), `${id} logged twice`).toBe(false);
    seen.set(id, p.value);
  }
  expect(seen.size).toBe(want.size);
  for (const [id, v] of want) expect(seen.get(id), id).toBe(v);
}

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => {
  tmp = tempDir("mnemo-kill-");
});
afterEach(() => tmp.cleanup());

describe("SIGKILL at random instants loses nothing and sends nothing twice", () => {
  it("file store: killed 4 times, restarted until done", async () => {
    const root = join(tmp.dir, "mlruns");
    const runDir = join(tmp.dir, "run");
    const outcomes: string[] = [];
    for (const step of killSteps(11, 4, 180)) outcomes.push(await runChild(runDir, root, step));
    outcomes.push(await runChild(runDir, root));
    expect(outcomes.filter((o) => o === "killed").length).toBeGreaterThan(0);
    const runs = readMlflowFileStore(root).experiments.find((e) => e.name === "kill-test")?.runs ?? [];
    expect(runs).toHaveLength(1);
    const run = runs[0]!;
    expect(run.info.status).toBe("FINISHED");
    expectExactly(Object.entries(run.metrics).flatMap(([key, ms]) => ms.map((m) => ({ key, step: m.step, value: m.value }))));
    expect(run.artifacts).toContain("plots/step_199.txt");
    expect(run.params).toEqual({ lr: "0.1", steps: String(STEPS) });
  }, 120_000);

  it("MLflow server (file-backed semantics, so a resend would duplicate): killed 4 times, server restarted mid-run", async () => {
    const server = await MlflowTestServer.start({ dedupeMetrics: false });
    try {
      const runDir = join(tmp.dir, "run");
      const outcomes: string[] = [];
      const ds = killSteps(5, 4, 180);
      for (const [i, step] of ds.entries()) {
        if (i === 2) {
          // The server goes away while a run is in progress, and comes back later.
          const run = runChild(runDir, server.url);
          await new Promise((r) => setTimeout(r, 40));
          await server.stop();
          await new Promise((r) => setTimeout(r, 150));
          await server.restart();
          outcomes.push(await run);
          continue;
        }
        // Some of the kills land right after a batch was applied: its response is lost with the process.
        if (i === 1) server.inject({ kind: "apply-then-drop" }, { path: "log-batch", times: 2 });
        outcomes.push(await runChild(runDir, server.url, step));
      }
      outcomes.push(await runChild(runDir, server.url));
      // Whatever the last process could not send is delivered by sync (no-op if all arrived).
      await syncRunDir(runDir, { env: {}, retry: FAST_RETRY });
      const runs = [...server.runs.values()].filter((r) => r.info.experiment_id !== "0");
      expect(runs).toHaveLength(1);
      expect(runs[0]?.info.status).toBe("FINISHED");
      expectExactly((runs[0]?.metrics ?? []).map((m: ServerMetric) => ({ key: m.key, step: m.step, value: m.value })));
    } finally {
      await server.close();
    }
  }, 120_000);
});
