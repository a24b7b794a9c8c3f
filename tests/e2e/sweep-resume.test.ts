/**
 * Sweeps that survive (issue 16): a 12-trial Split-MNIST sweep (real MNIST, 2 learning rates × 2
 * methods given as a zipped list × 3 seeds, steps capped so CI stays short) is SIGKILLed —
 * the whole process group, the sweep and its trial worker — in the middle of a trial that has a
 * mid-task checkpoint, and then rerun with the same command. The rerun must run only the
 * unfinished trials (the finished ones untouched, the killed one resumed from its checkpoint in
 * its own run directory), and its summary must equal, value for value, the summary of an
 * uninterrupted sweep (wall time aside). The uninterrupted sweep runs with `--workers 2`, the
 * killed one with `--workers 1` and the rerun in one process: the same trial ids and the same
 * numbers every way.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { groupRunning } from "./process-group.js";

const root = resolve(import.meta.dirname, "../..");
const bin = join(root, "packages/cli/bin/mnemo.mjs");
const work = mkdtempSync(join(tmpdir(), "mnemo-sweep-kill-"));
writeFileSync(
  join(work, "base.yaml"),
  `name: sweep-kill
seed: 0
stream:
  kind: class-incremental
  dataset: { name: mnist }
  order: dataset
  increment: 2
  limit_per_class: { train: 60, test: 20 }
  validation: { per_class: 10 }
model: { backbone: mlp, hidden: [32] }
training: { epochs: 1, batch_size: 16, max_steps_per_task: 8, optimizer: { name: adam } }
checkpoint: { every_steps: 3 }
`,
);
const sweepFile = join(work, "sweep.yaml");
writeFileSync(
  sweepFile,
  `name: kill12
base: base.yaml
seeds: [0, 1, 2]
grid:
  training.lr: [0.001, 0.003]
list:
  method: [{ name: finetune }, { name: er, memory_size: 40, replay_batch_size: 8 }]
`,
);

const env = (store: string): NodeJS.ProcessEnv => ({ ...process.env, MLFLOW_TRACKING_URI: join(work, store), MNEMO_DOWNLOAD: "0" });

function sweep(dir: string, store: string, extra: string[] = []) {
  return spawnSync(process.execPath, [bin, "sweep", sweepFile, "--dir", dir, "--quiet", ...extra], { cwd: work, env: env(store), encoding: "utf8", timeout: 600_000 });
}

interface Entry {
  status: string;
  attempts: number;
  runDir?: string;
  result?: Record<string, unknown>;
}
const manifest = (dir: string): Record<string, Entry> => (existsSync(join(dir, "manifest.json")) ? JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8")).trials : {});

/** The summary rows without what a kill legitimately changes (wall time). */
function summaryValues(dir: string): unknown[] {
  const s = JSON.parse(readFileSync(join(dir, "summary.json"), "utf8")) as { summary: Record<string, unknown>[] };
  return s.summary.map(({ wall_seconds: _w, ...rest }) => rest);
}

/** A trial's numbers, without where and when it ran. */
function trialValues(e: Entry): unknown {
  const { runDir: _r, host: _h, finishedAt: _f, wall_seconds: _w, ...rest } = e.result as Record<string, unknown>;
  return rest;
}

/** Run dirs of a trial (there is one unless the trial was restarted). */
const trialRuns = (dir: string, id: string): string[] => {
  const runs = join(dir, "trials", id, "runs", "sweep-kill");
  return existsSync(runs) ? readdirSync(runs).filter((n) => existsSync(join(runs, n, "run.json"))) : [];
};

/** Kills the sweep's process group once `ready(dir)` holds (polled), or fails after the sweep ended by itself. */
function killWhen(dir: string, ready: () => boolean): Promise<{ killed: boolean; stderr: string }> {
  const child = spawn(process.execPath, [bin, "sweep", sweepFile, "--dir", dir, "--quiet", "--workers", "1"], { cwd: work, env: env("mlruns-killed"), detached: true, stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  return new Promise((done) => {
    let killed = false;
    const timer = setInterval(() => {
      if (!killed && ready()) {
        killed = true;
        process.kill(-(child.pid as number), "SIGKILL");
      }
    }, 10);
    child.on("exit", () => {
      clearInterval(timer);
      // The sweep is reaped; its trial worker may still be on its way out. Rerun once it is gone.
      void (async () => {
        for (let i = 0; i < 1000 && groupRunning(child.pid as number); i++) await new Promise((r) => setTimeout(r, 10));
        done({ killed, stderr });
      })();
    });
  });
}

describe("mnemo sweep: SIGKILL mid-way, rerun", () => {
  it("runs only the unfinished trials, resumes the killed one, and ends with the uninterrupted sweep's summary", { timeout: 900_000 }, async () => {
    const reference = join(work, "reference");
    const full = sweep(reference, "mlruns-reference", ["--workers", "2"]);
    expect(full.status, `--workers 2 sweep: ${full.stderr}`).toBe(0);
    const ref = manifest(reference);
    expect(Object.values(ref).filter((e) => e.status === "finished")).toHaveLength(12);

    // Kill once at least 4 trials finished and the running one has a mid-task checkpoint.
    const dir = join(work, "killed");
    let victim: string | undefined;
    const { killed, stderr } = await killWhen(dir, () => {
      const m = manifest(dir);
      if (Object.values(m).filter((e) => e.status === "finished").length < 4) return false;
      const running = Object.entries(m).find(([, e]) => e.status === "running" && e.runDir);
      if (!running) return false;
      const [id, e] = running;
      if (!existsSync(join(e.runDir as string, "checkpoint", "manifest.json"))) return false;
      victim = id;
      return true;
    });
    expect(killed, `the sweep finished before it could be killed: ${stderr}`).toBe(true);
    const before = manifest(dir);
    const finishedBefore = Object.entries(before).filter(([, e]) => e.status === "finished");
    expect(finishedBefore.length).toBeGreaterThanOrEqual(4);
    expect(finishedBefore.length).toBeLessThan(12);
    const victimDir = before[victim as string]!.runDir as string;
    const runJsonBefore = new Map(finishedBefore.map(([id, e]) => [id, readFileSync(join(e.runDir as string, "run.json"), "utf8")]));

    // The same command again (in one process this time): only the unfinished trials run.
    const rerun = sweep(dir, "mlruns-killed", []);
    expect(rerun.status, `rerun: ${rerun.stderr}`).toBe(0);
    const after = manifest(dir);
    expect(Object.values(after).filter((e) => e.status === "finished")).toHaveLength(12);
    for (const [id, e] of finishedBefore) {
      expect(after[id]!.attempts, `trial ${id} ran again`).toBe(e.attempts);
      expect(readFileSync(join(e.runDir as string, "run.json"), "utf8"), `trial ${id}'s run was touched`).toBe(runJsonBefore.get(id));
    }
    // The killed trial continued in its own run directory from its checkpoint.
    expect(after[victim as string]!.runDir).toBe(victimDir);
    expect(trialRuns(dir, victim as string)).toHaveLength(1);
    expect(after[victim as string]!.attempts).toBe(2);

    // Value for value: every trial's numbers (matrices included) and the summary table.
    for (const [id, e] of Object.entries(ref)) expect(trialValues(after[id]!), `trial ${id}`).toEqual(trialValues(e));
    expect(summaryValues(dir)).toEqual(summaryValues(reference));

    // MLflow: one parent, and every trial in exactly one FINISHED child run nested under it.
    const store = join(work, "mlruns-killed");
    const exp = readdirSync(store).filter((d) => /^\d+$/.test(d) && d !== "0");
    expect(exp).toHaveLength(1);
    const runs = readdirSync(join(store, exp[0] as string))
      .filter((r) => r !== "meta.yaml")
      .map((r) => {
        const at = join(store, exp[0] as string, r);
        const tag = (t: string): string | undefined => (existsSync(join(at, "tags", t)) ? readFileSync(join(at, "tags", t), "utf8") : undefined);
        return { id: r, status: /status: (\d)/.exec(readFileSync(join(at, "meta.yaml"), "utf8"))?.[1], parent: tag("mlflow.parentRunId"), trial: tag("mnemo.sweep.trial"), sweep: tag("mnemo.sweep") };
      });
    const parents = runs.filter((r) => r.sweep === "true");
    expect(parents).toHaveLength(1);
    expect(parents[0]!.status).toBe("3"); // FINISHED once the rerun completed the sweep
    const finishedChildren = runs.filter((r) => r.trial && r.status === "3");
    expect(finishedChildren.map((r) => r.trial).sort()).toEqual(Object.keys(ref).sort());
    expect(new Set(finishedChildren.map((r) => r.parent))).toEqual(new Set([parents[0]!.id]));
  });
});
