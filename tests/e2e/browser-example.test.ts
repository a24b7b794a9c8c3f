/**
 * examples/browser end to end: `vite build` of the page into a temporary folder, a static server on
 * a free loopback port, headless Chromium (Debian's, through playwright-core) running the page on
 * the wasm backend (`?backend=wasm`) until both runs finish. The matrices the page shows (and the
 * accuracy_matrix.json it offers for download) must equal, bit for bit, those the same configs give
 * in Node through the same `runSplitMnist` on the same backend (wasm, one thread, Mnemo's kernels),
 * and so must the SHA-256 of the final parameters: the whole training trajectory is identical.
 * The run must also mean something: fine-tuning forgets, replay much less. Nothing is written
 * into the repository (the screenshot in docs/ comes from `npm run example:browser:screenshot`).
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import type { Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser } from "playwright-core";
import {
  buildExample,
  CHROMIUM,
  chromiumPresent,
  launchChromium,
  serveStatic,
  waitForRun,
} from "../../examples/browser/scripts/harness.js";
import { runInNode } from "../../examples/browser/scripts/run-node.js";
import { DEFAULT_RUNS } from "../../examples/browser/src/config.js";

const available = chromiumPresent();

if (!available && process.env.CI) {
  describe("browser example in headless Chromium", () => {
    it(`needs ${CHROMIUM}`, () => {
      throw new Error(`${CHROMIUM} is missing; install it with \`apt-get install -y chromium\` (required when CI is set).`);
    });
  });
} else if (!available) {
  describe.skip(`browser example in headless Chromium (skipped: ${CHROMIUM} missing; apt-get install -y chromium)`, () => {
    it("runs", () => {});
  });
} else {
  describe("browser example in headless Chromium", () => {
    let out: string;
    let server: Server | undefined;
    let url: string;
    let browser: Browser | undefined;

    beforeAll(async () => {
      out = mkdtempSync(join(tmpdir(), "mnemo-browser-example-"));
      await buildExample(out);
      ({ url, server } = await serveStatic(out));
      browser = await launchChromium();
    }, 180_000);

    afterAll(async () => {
      await browser?.close();
      server?.close();
      if (out) rmSync(out, { recursive: true, force: true });
    });

    it("completes both runs in the page with the matrices and parameters Node gets on wasm, bit for bit", async () => {
      const page = await browser!.newPage();
      const consoleLines: string[] = [];
      page.on("console", (m) => consoleLines.push(`${m.type()}: ${m.text()}`));
      page.on("pageerror", (e) => consoleLines.push(`pageerror: ${e.message}`));
      const kernelModules: number[] = [];
      page.on("response", (r) => {
        if (/mnemo-kernels[^/]*\.wasm$/.test(r.url())) kernelModules.push(r.status());
      });
      await page.goto(`${url}?backend=wasm`);
      // Node's run of the same configs, on the same bytes, while the page trains (two cores).
      const subset = new Uint8Array(readFileSync(join(out, "mnist-subset.bin")));
      const node = await runInNode("wasm", subset);
      await waitForRun(page, 150_000, consoleLines);

      const backend = await page.locator("#backend").textContent();
      expect(backend).toBe(node.backend); // "wasm (1 thread, simd)" on both sides
      // Mnemo's SIMD kernel module was fetched and attached (no fallback warning).
      expect(kernelModules).toEqual([200]);
      expect(consoleLines.filter((l) => l.includes("[mnemo/kernels]"))).toEqual([]);

      for (const [k, config] of DEFAULT_RUNS.entries()) {
        const section = page.locator(`section[data-run="${config.name}"]`);
        const matrix = JSON.parse((await section.getAttribute("data-matrix")) ?? "null") as unknown;
        const expected = node.outputs[k]!;
        expect(JSON.stringify(matrix), config.name).toBe(JSON.stringify(expected.matrix));
        expect(await section.getAttribute("data-params-sha256"), config.name).toBe(expected.paramsSha256);
        // The file the page offers is the same matrix.
        const [download] = await Promise.all([
          page.waitForEvent("download"),
          section.locator('a[data-file="accuracy_matrix.json"]').click(),
        ]);
        const file = JSON.parse(readFileSync((await download.path()) as string, "utf8")) as { matrix: unknown; taskClasses: number[][] };
        expect(file.matrix).toEqual(expected.matrix);
        expect(file.taskClasses).toEqual([
          [0, 1],
          [2, 3],
          [4, 5],
          [6, 7],
          [8, 9],
        ]);
      }

      // Meaningful: fine-tuning forgets every old task; replay keeps most of them.
      const [finetune, er] = node.outputs as [(typeof node.outputs)[0], (typeof node.outputs)[0]];
      expect(finetune.metrics["bwt"]).toBeLessThan(-80);
      expect(er.metrics["acc_task_macro"]! - finetune.metrics["acc_task_macro"]!).toBeGreaterThan(30);
      await page.close();
    }, 240_000);

    it("chooses its backend itself and shows what it skipped (no GPU here: wasm, not software webgl)", async () => {
      const page = await browser!.newPage();
      await page.goto(url); // ?backend absent: auto
      const backend = page.locator("#backend[data-backend]");
      await backend.waitFor({ timeout: 60_000 });
      const name = await backend.getAttribute("data-backend");
      const skipped = (await page.locator("#skipped").textContent()) ?? "";
      if (name === "wasm") {
        // webgpu found no (hardware) adapter and webgl only a software rasterizer: each says why.
        expect(skipped).toMatch(/webgpu: .+; webgl: .+/);
        expect(await backend.textContent()).toBe("wasm (1 thread, simd)");
      } else {
        expect(["webgpu", "webgl"]).toContain(name); // a machine with a GPU
      }
      await page.close();
    }, 90_000);
  });
}
