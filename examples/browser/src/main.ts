/**
 * The page: selects the backend, fetches the Split-MNIST subset, runs each of DEFAULT_RUNS with
 * `runSplitMnist` (the code the Node comparison runs too), draws progress and the accuracy-matrix
 * heatmap as each task finishes, and offers the run's config, matrix and metrics as files.
 * For tests the DOM carries the outcome: body[data-status] = loading | running | done | error,
 * each run's section [data-matrix] (JSON, set when the run is complete) and #backend[data-backend].
 */
import { DEFAULT_RUNS, type BrowserRunConfig } from "./config.js";
import type { BackendInfo } from "@mnemo/core";
import { backendFromQuery, selectPageBackend } from "./backend.js";
import { runSplitMnist, taskClassesOf, type RunOutput, type RunProgress } from "./experiment.js";
import { decodeSubset } from "./subset.js";
import type { AccuracyMatrix } from "@mnemo/core/metrics";

const $ = <T extends HTMLElement>(selector: string, root: ParentNode = document): T => {
  const el = root.querySelector<T>(selector);
  if (!el) throw new Error(`page element ${selector} is missing`);
  return el;
};

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Partial<HTMLElementTagNameMap[K]> = {},
  children: (Node | string)[] = [],
): HTMLElementTagNameMap[K] {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
}

/** Accuracy 0..100 → a colour from pale to deep blue (text turns white on dark cells). */
function cellColour(value: number): { background: string; color: string } {
  const t = Math.max(0, Math.min(1, value / 100));
  const lerp = (a: number, b: number) => Math.round(a + (b - a) * t);
  return { background: `rgb(${lerp(247, 16)}, ${lerp(251, 63)}, ${lerp(255, 145)})`, color: t > 0.55 ? "#fff" : "#1d2430" };
}

function heatmap(matrix: AccuracyMatrix, taskClasses: number[][]): HTMLTableElement {
  const head = el("tr", {}, [
    el("th"),
    ...taskClasses.map((c, j) => el("th", { title: `digits ${c.join(", ")}` }, [`task ${j}`, el("br"), `(${c.join(",")})`])),
  ]);
  const rows = matrix.map((row, i) =>
    el("tr", {}, [
      el("th", {}, [`after ${i}`]),
      ...row.map((v) => {
        if (v === null) return el("td", { className: "empty" }, ["·"]);
        const td = el("td", {}, [v.toFixed(1)]);
        Object.assign(td.style, cellColour(v));
        return td;
      }),
    ]),
  );
  return el("table", { className: "heatmap" }, [el("thead", {}, [head]), el("tbody", {}, rows)]);
}

function download(link: HTMLAnchorElement, name: string, value: unknown): void {
  if (link.href) URL.revokeObjectURL(link.href);
  link.href = URL.createObjectURL(new Blob([`${JSON.stringify(value, null, 2)}\n`], { type: "application/json" }));
  link.download = name;
  link.removeAttribute("aria-disabled");
}

interface RunView {
  section: HTMLElement;
  update(progress: RunProgress): void;
  showMatrix(matrix: AccuracyMatrix): void;
  finish(output: RunOutput, backend: BackendInfo): void;
}

function runView(config: BrowserRunConfig, taskClasses: number[][]): RunView {
  const title = config.method.name === "er" ? `Experience replay (reservoir of ${config.method.memory_size})` : "Fine-tuning (no replay)";
  const bar = el("div");
  const status = el("div", { className: "status" }, ["waiting"]);
  const table = el("div");
  const metrics = el("div", { className: "metrics" });
  const links = ["config.json", "accuracy_matrix.json", "metrics.json"].map((name) => {
    const a = el("a", { textContent: `⤓ ${name}` });
    a.setAttribute("aria-disabled", "true");
    a.dataset.file = name;
    return a;
  });
  const section = el("section", { className: "run" }, [
    el("h2", {}, [title]),
    el("div", { className: "muted" }, [config.name]),
    el("div", { className: "progress" }, [bar]),
    status,
    table,
    metrics,
    el("div", { className: "downloads" }, links),
  ]);
  section.dataset.run = config.name;
  const empty: AccuracyMatrix = taskClasses.map(() => taskClasses.map(() => null));
  table.replaceChildren(heatmap(empty, taskClasses));
  return {
    section,
    update(p) {
      const done = p.task + p.step / p.stepsInTask;
      bar.style.width = `${(100 * done) / p.numTasks}%`;
      status.textContent = `training task ${p.task} (${p.task + 1} of ${p.numTasks}): step ${p.step} of ${p.stepsInTask}`;
    },
    showMatrix(matrix) {
      table.replaceChildren(heatmap(matrix, taskClasses));
      const rows = matrix.filter((r) => r.some((v) => v !== null)).length;
      status.textContent = `evaluated after task ${rows - 1}`;
    },
    finish(output, backend) {
      bar.style.width = "100%";
      const m = output.metrics;
      const seconds = output.trainSeconds.reduce((a, b) => a + b, 0);
      status.textContent = `done: ${output.matrix.length} tasks, ${seconds.toFixed(1)} s of training on ${backend.description}`;
      metrics.replaceChildren(
        ...[
          ["ACC", m["acc_task_macro"]],
          ["BWT", m["bwt"]],
          ["Forgetting", m["forgetting"]],
          ["AIA", m["aia_sample_weighted"]],
        ].map(([label, v]) => el("div", {}, [el("b", {}, [typeof v === "number" ? v.toFixed(1) : "–"]), String(label)])),
      );
      const [cfg, matrix, metricsLink] = links as [HTMLAnchorElement, HTMLAnchorElement, HTMLAnchorElement];
      download(cfg, "config.json", { ...output.config, backend: backend.name });
      download(matrix, "accuracy_matrix.json", { matrix: output.matrix, taskClasses: output.taskClasses, testSizes: output.testSizes });
      download(metricsLink, "metrics.json", {
        final: output.metrics,
        backend: backend.description,
        trainSeconds: output.trainSeconds,
        paramsSha256: output.paramsSha256,
      });
      section.dataset.matrix = JSON.stringify(output.matrix);
      section.dataset.metrics = JSON.stringify(output.metrics);
      section.dataset.paramsSha256 = output.paramsSha256;
    },
  };
}

/** Lets the page repaint every ~50 ms of training; the run's numbers do not depend on it. */
function repaintYielder(): () => Promise<void> {
  let last = performance.now();
  return async () => {
    if (performance.now() - last < 50) return;
    await new Promise((r) => setTimeout(r, 0));
    last = performance.now();
  };
}

async function main(): Promise<void> {
  const params = new URLSearchParams(location.search);
  const choice = backendFromQuery(params.get("backend"));
  const backend = await selectPageBackend(choice);
  const backendEl = $("#backend");
  backendEl.textContent = backend.description;
  backendEl.dataset.backend = backend.name;
  $("#skipped").textContent = backend.skipped.length ? `(skipped: ${backend.skipped.map((s) => `${s.name}: ${s.reason}`).join("; ")})` : "";

  const response = await fetch(`${import.meta.env.BASE_URL}mnist-subset.bin`);
  if (!response.ok) throw new Error(`could not load the MNIST subset: HTTP ${response.status} for ${response.url}`);
  const data = decodeSubset(new Uint8Array(await response.arrayBuffer()));
  $("#data").textContent =
    `MNIST subset: ${data.train.count} training and ${data.test.count} test images (first of each digit), 1 epoch per task.`;

  const runs = DEFAULT_RUNS.map((c) => ({ ...c, backend: choice }));
  const numClasses = Math.max(...data.train.labels) + 1;
  const views = runs.map((c) => runView(c, taskClassesOf(numClasses, c.stream.increment)));
  $("#runs").replaceChildren(...views.map((v) => v.section));
  document.body.dataset.status = "running";
  for (const [k, config] of runs.entries()) {
    const view = views[k] as RunView;
    const repaint = repaintYielder();
    const output = await runSplitMnist(config, data, {
      onStep: async (p) => {
        view.update(p);
        await repaint();
      },
      onTask: async (_task, matrix) => {
        view.showMatrix(matrix);
        await new Promise((r) => setTimeout(r, 0));
      },
    });
    view.finish(output, backend);
  }
  document.body.dataset.status = "done";
}

main().catch((e: unknown) => {
  const error = $("#error");
  error.hidden = false;
  error.textContent = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  document.body.dataset.status = "error";
  console.error(e);
});
