/**
 * Kill-and-resume: a run stopped mid-task (as by Ctrl-C) or killed outright (SIGKILL) and then
 * resumed with `mnemo run --resume` ends with the bit-identical accuracy matrix of a run that was
 * never interrupted. The config exercises every piece of state: augmentation RNG, validation-based
 * best-epoch selection, optimizer slots, the expanding head.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const root = resolve(import.meta.dirname, "../..");
const bin = join(root, "packages/cli/bin/mnemo.mjs");
const work = mkdtempSync(join(tmpdir(), "mnemo-resume-"));
const config = join(work, "resume.yaml");
writeFileSync(
  config,
  `name: resume
seed: 5
stream:
  kind: class-incremental
  dataset: { name: mnist }
  order: dataset
  increment: 2
  limit_per_class: { train: 400, test: 100 }
  validation: { fraction: 0.1 }
model: { backbone: mlp, hidden: [64] }
training:
  epochs: 3
  batch_size: 64
  lr: 0.001
  optimizer: { name: adam }
  select_best: true
  augment: { crop: { padding: 2 } }
`,
);

function run(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [bin, ...args, "--quiet"], {
    cwd: root,
    env: { ...process.env, MLFLOW_TRACKING_URI: join(work, "mlruns"), ...env },
    encoding: "utf8",
    timeout: 170_000,
  });
}

function onlyRunDir(out: string): string {
  const exp = join(out, "resume");
  const runs = readdirSync(exp);
  expect(runs).toHaveLength(1);
  return join(exp, runs[0] as string);
}

const matrix = (dir: string): number[][] => JSON.parse(readFileSync(join(dir, "accuracy_matrix.json"), "utf8")).matrix;

let reference: number[][] | undefined;
function referenceMatrix(): number[][] {
  if (!reference) {
    const out = join(work, "full");
    const r = run(["run", config, "--set", `output.dir=${out}`]);
    expect(r.status, r.stderr).toBe(0);
    reference = matrix(onlyRunDir(out));
  }
  return reference;
}

describe("mnemo run --resume", () => {
  it("continues a run stopped mid-task to the bit-identical matrix", () => {
    const out = join(work, "stopped");
    // 5 tasks x ~3 epochs x 12 steps: step 50 falls inside the second task.
    const stopped = run(["run", config, "--set", `output.dir=${out}`], { MNEMO_STOP_AFTER_STEPS: "50" });
    expect(stopped.status, stopped.stderr).toBe(130);
    const dir = onlyRunDir(out);
    expect(JSON.parse(readFileSync(join(dir, "run.json"), "utf8")).status).toBe("KILLED");
    const manifest = JSON.parse(readFileSync(join(dir, "checkpoint", "manifest.json"), "utf8"));
    expect(manifest.position).toEqual({ task: 1, complete: false });
    // The hint is a command that works as printed after `npm ci` (no global install, no PATH change).
    const hint = /Continue with: (.+)$/m.exec(stopped.stdout)?.[1] ?? "";
    expect(hint).toBe(`npx mnemo run --resume ${dir}`);
    const resumed = spawnSync("sh", ["-c", `${hint} --quiet`], {
      cwd: root,
      env: { ...process.env, MLFLOW_TRACKING_URI: join(work, "mlruns") },
      encoding: "utf8",
      timeout: 170_000,
    });
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(resumed.stdout).toContain("resuming at task 1 (2 of 5)");
    expect(matrix(dir)).toEqual(referenceMatrix());
    expect(JSON.parse(readFileSync(join(dir, "run.json"), "utf8")).status).toBe("FINISHED");
    expect(existsSync(join(dir, "checkpoint"))).toBe(false); // finished: the bulky state is gone
  });

  it("continues a run killed with SIGKILL from its last checkpoint to the bit-identical matrix", async () => {
    const out = join(work, "killed");
    const child = spawn(process.execPath, [bin, "run", config, "--quiet", "--set", `output.dir=${out}`], {
      cwd: root,
      env: { ...process.env, MLFLOW_TRACKING_URI: join(work, "mlruns") },
      stdio: "ignore",
    });
    // Kill hard as soon as the checkpoint after task 2 exists.
    await new Promise<void>((done, fail) => {
      const deadline = Date.now() + 150_000;
      const timer = setInterval(() => {
        try {
          const exp = join(out, "resume");
          const runs = existsSync(exp) ? readdirSync(exp) : [];
          const file = runs[0] ? join(exp, runs[0], "checkpoint", "manifest.json") : "";
          if (file && existsSync(file) && JSON.parse(readFileSync(file, "utf8")).position.task >= 1) {
            clearInterval(timer);
            child.kill("SIGKILL");
            done();
          } else if (Date.now() > deadline) {
            clearInterval(timer);
            child.kill("SIGKILL");
            fail(new Error("no checkpoint appeared"));
          }
        } catch {
          /* a checkpoint being renamed into place: look again on the next tick */
        }
      }, 50);
    });
    await new Promise((r) => child.once("exit", r));
    const dir = onlyRunDir(out);
    expect(JSON.parse(readFileSync(join(dir, "run.json"), "utf8")).status).toBe("RUNNING"); // it never got to say otherwise
    const resumed = run(["run", "--resume", dir]);
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(matrix(dir)).toEqual(referenceMatrix());
  });

  it("stops on a real SIGINT after the current step, saves a checkpoint and exits 130", async () => {
    // A long first task, so the signal lands in training (not in evaluation or after the run).
    const long = join(work, "long.yaml");
    writeFileSync(long, readFileSync(config, "utf8").replace("epochs: 3", "epochs: 1000"));
    const out = join(work, "sigint");
    const child = spawn(process.execPath, [bin, "run", long, "--quiet", "--set", `output.dir=${out}`], {
      cwd: root,
      env: { ...process.env, MLFLOW_TRACKING_URI: join(work, "mlruns") },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
    // Signal once the run directory exists and training has had a few seconds.
    const deadline = Date.now() + 60_000;
    while (!(existsSync(join(out, "resume")) && readdirSync(join(out, "resume")).length > 0) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
    }
    await new Promise((r) => setTimeout(r, 3000));
    const signalledAt = Date.now();
    child.kill("SIGINT");
    const code = await exited;
    // Synchronous training must still let the handler run (the event loop turns every step).
    expect(Date.now() - signalledAt).toBeLessThan(15_000);
    expect(code, output).toBe(130);
    expect(output).toContain("stopping after this step");
    const dir = onlyRunDir(out);
    const manifest = JSON.parse(readFileSync(join(dir, "checkpoint", "manifest.json"), "utf8"));
    expect(manifest.position).toEqual({ task: 0, complete: false });
  });

  it("refuses a run whose config was changed, and a finished run", () => {
    const dir = onlyRunDir(join(work, "stopped"));
    const r = run(["run", "--resume", dir]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/already finished/);
    const out = join(work, "changed");
    expect(run(["run", config, "--set", `output.dir=${out}`], { MNEMO_STOP_AFTER_STEPS: "5" }).status).toBe(130);
    const changed = onlyRunDir(out);
    const yaml = readFileSync(join(changed, "config.yaml"), "utf8").replace("lr: 0.001", "lr: 0.002");
    writeFileSync(join(changed, "config.yaml"), yaml);
    const refused = run(["run", "--resume", changed]);
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toMatch(/different configHash/);
  });
});

describe("mnemo run --resume, few-shot class-incremental (TEEN)", () => {
  const fscil = join(work, "fscil.yaml");
  writeFileSync(
    fscil,
    `name: resume
seed: 3
stream:
  kind: few-shot-class-incremental
  dataset: { name: mnist }
  split: seeded
  order: dataset
  base_classes: 6
  ways: 2
  shots: 5
  sessions: 2
  validation: { fraction: 0.1 }
  limit_per_class: { train: 300, test: 100 }
model: { backbone: mlp, hidden: [64] }
method: { name: teen, alpha: 0.1 }
training:
  epochs: 3
  batch_size: 64
  lr: 0.05
  optimizer: { name: sgd, momentum: 0.9 }
  select_best: true
evaluation: { future_tasks: false }
`,
  );

  it("continues a run stopped inside the base session's training to the bit-identical matrix", () => {
    const full = join(work, "fscil-full");
    const reference = run(["run", fscil, "--set", `output.dir=${full}`]);
    expect(reference.status, reference.stderr).toBe(0);

    const out = join(work, "fscil-stopped");
    // ~1,620 base images / 64 = 26 steps per epoch: step 40 is inside the base session's second epoch.
    const stopped = run(["run", fscil, "--set", `output.dir=${out}`], { MNEMO_STOP_AFTER_STEPS: "40" });
    expect(stopped.status, stopped.stderr).toBe(130);
    const dir = onlyRunDir(out);
    const manifest = JSON.parse(readFileSync(join(dir, "checkpoint", "manifest.json"), "utf8"));
    expect(manifest.position).toEqual({ task: 0, complete: false });

    const resumed = run(["run", "--resume", dir]);
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(matrix(dir)).toEqual(matrix(onlyRunDir(full)));
  });
});
