import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { TrackingError } from "@mnemo/core";
import { createTracker, resolveTrackingTarget } from "../src/factory.js";
import { FileTracker } from "../src/file-tracker.js";
import { RestTracker } from "../src/rest-tracker.js";

describe("createTracker / resolveTrackingTarget", () => {
  it("defaults to ./mlruns when MLFLOW_TRACKING_URI is unset or empty", () => {
    expect(resolveTrackingTarget(undefined, "/work")).toEqual({ kind: "file", root: "/work/mlruns" });
    expect(resolveTrackingTarget("  ", "/work")).toEqual({ kind: "file", root: "/work/mlruns" });
    const t = createTracker({ env: {}, cwd: "/work" });
    expect(t).toBeInstanceOf(FileTracker);
    expect((t as FileTracker).store.root).toBe("/work/mlruns");
  });

  it("maps paths and file: URIs to the file store", () => {
    expect(resolveTrackingTarget("/data/mlruns")).toEqual({ kind: "file", root: "/data/mlruns" });
    expect(resolveTrackingTarget("runs/mlruns", "/w")).toEqual({ kind: "file", root: join("/w", "runs/mlruns") });
    expect(resolveTrackingTarget("file:///data/ml%20runs")).toEqual({ kind: "file", root: "/data/ml runs" });
    expect(resolveTrackingTarget("file:./mlruns", "/w")).toEqual({ kind: "file", root: "/w/mlruns" });
  });

  it("maps http(s) URIs to the REST tracker, from options or MLFLOW_TRACKING_URI", () => {
    expect(resolveTrackingTarget("https://mlflow.example.org/prefix")).toEqual({ kind: "rest", uri: "https://mlflow.example.org/prefix" });
    expect(createTracker({ env: { MLFLOW_TRACKING_URI: "http://127.0.0.1:5000" } })).toBeInstanceOf(RestTracker);
    expect(createTracker({ uri: "http://127.0.0.1:5000", env: { MLFLOW_TRACKING_URI: "/tmp/x" } })).toBeInstanceOf(RestTracker);
  });

  it("rejects other schemes with an actionable TrackingError", () => {
    for (const uri of ["sqlite:///mlflow.db", "databricks://profile", "postgresql://u@h/db", "s3://bucket/mlruns"]) {
      const err = (() => {
        try {
          resolveTrackingTarget(uri);
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      expect(err, uri).toBeInstanceOf(TrackingError);
      expect((err as Error).message).toMatch(/mlflow server --backend-store-uri/);
    }
    expect(() => resolveTrackingTarget("http://exa mple.org")).toThrow(TrackingError);
  });
});
