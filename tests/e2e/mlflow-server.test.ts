/**
 * `mnemo run` with MLFLOW_TRACKING_URI=http://... logs the run to an MLflow server (here the
 * in-repo test server that follows MLflow's REST API), including through a transient outage.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MlflowTestServer } from "@mnemo/tracking/testing";
import { runFromConfig } from "@mnemo/experiment";

const root = resolve(import.meta.dirname, "../..");
let server: MlflowTestServer;

beforeAll(async () => {
  server = await MlflowTestServer.start({ dedupeMetrics: true });
});
afterAll(async () => {
  await server.close();
});

describe("mnemo run → MLflow server", () => {
  it("creates the experiment and a finished run with params, tags, metrics and artifacts", async () => {
    const out = mkdtempSync(join(tmpdir(), "mnemo-mlflow-"));
    process.env.MLFLOW_TRACKING_URI = server.url;
    // Two 500s during the run: retried, nothing lost.
    server.inject({ kind: "status", status: 500 }, { path: "log-batch", times: 2 });
    const { result, runDir } = await runFromConfig(
      { configFile: join(root, "configs/cil-mnist.yaml"), overrides: ["training.max_steps_per_task=10", "model.hidden=[32]", `output.dir=${out}`], quiet: true, log: () => {} },
    );
    delete process.env.MLFLOW_TRACKING_URI;

    const experiment = [...server.experiments.values()].find((e) => e.name === "cil-mnist");
    expect(experiment).toBeDefined();
    const runs = [...server.runs.values()].filter((r) => r.info.experiment_id === experiment!.experiment_id);
    expect(runs).toHaveLength(1);
    const run = runs[0]!;
    expect(run.info.status).toBe("FINISHED");
    expect(run.params.get("stream.increment")).toBe("2");
    expect(run.params.get("training.optimizer.name")).toBe("adam");
    expect(run.tags.get("mnemo.seed")).toBe("0");
    expect(run.tags.get("mnemo.runDir")).toBe(runDir);
    expect(run.tags.get("mnemo.backend")).toMatch(/^wasm/);
    // One accuracy row per task, each logged exactly once despite the injected failures.
    for (let j = 0; j < 5; j++) {
      const history = server.metricHistory(run.info.run_id, `accuracy_task${j}`);
      expect(history.map((m) => m.step)).toEqual([0, 1, 2, 3, 4]);
      expect(history.map((m) => m.value)).toEqual(result.matrix.map((row) => row[j]));
    }
    const final = server.metricHistory(run.info.run_id, "final_average_accuracy");
    expect(final).toHaveLength(1);
    expect(server.requestsTo("log-batch").some((r) => r.outcome === "500")).toBe(true);
    const artifactNames = [...server.artifacts.keys()].filter((k) => k.includes(run.info.run_id)).map((k) => k.split("/artifacts/").pop());
    expect(artifactNames).toEqual(expect.arrayContaining(["config.yaml", "accuracy_matrix.json", "accuracy_matrix.csv", "plots/accuracy_heatmap.svg"]));
  });
});
