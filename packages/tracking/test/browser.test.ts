import { existsSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chromium, type Browser } from "playwright-core";
import { writeReport } from "../src/report.js";
import { runJson, writeRunDir } from "./fixtures.js";
import { writeFileSync } from "node:fs";
import { tempDir } from "./helpers.js";

// Overridable only so the skip/fail branches themselves can be exercised.
const CHROMIUM = process.env.MNEMO_CHROMIUM_PATH ?? "/usr/bin/chromium";
const available = existsSync(CHROMIUM);

if (!available && process.env.CI) {
  // In CI the browser is part of the contract: a missing one must fail, not skip.
  describe("report in headless Chromium", () => {
    it(`needs ${CHROMIUM}`, () => {
      throw new Error(`${CHROMIUM} is missing; install it with \`apt-get install -y chromium\` (required when CI is set).`);
    });
  });
} else if (!available) {
  describe.skip(`report in headless Chromium (skipped: ${CHROMIUM} missing; apt-get install -y chromium)`, () => {
    it("renders", () => {});
  });
} else {
  describe("report in headless Chromium", () => {
    let browser: Browser;
    const tmp = tempDir();

    beforeAll(async () => {
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        timeout: 30_000,
      });
    }, 40_000);
    afterAll(async () => {
      await browser?.close();
      tmp.cleanup();
    });

    it("shows each run's heatmap and curves with non-zero size", async () => {
      const a = writeRunDir(join(tmp.dir, "a"));
      const b = writeRunDir(join(tmp.dir, "b"), runJson({ runName: "replay" }), [[95, null], [70, 96]]);
      const out = writeReport([a, b], join(tmp.dir, "report.html"));
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(e.message));
      await page.goto(pathToFileURL(out).href, { timeout: 15_000 });
      for (const id of ["accuracy-heatmap-0", "accuracy-heatmap-1", "accuracy-curves-0"]) {
        const box = await page.locator(`svg#${id}`).boundingBox({ timeout: 5_000 });
        expect(box, id).not.toBeNull();
        expect(box!.width).toBeGreaterThan(100);
        expect(box!.height).toBeGreaterThan(100);
      }
      // The cells are rendered shapes, not just markup: a cell rect has its own size.
      const cell = await page.locator("svg#accuracy-heatmap-0 rect title").count();
      expect(cell).toBe(6);
      expect(await page.locator("#final-metrics tbody tr").count()).toBe(2);
      expect(errors).toEqual([]);
      await page.close();
    }, 30_000);

    it("shows the config-diff table, mean ± std per group and the overlaid curves", async () => {
      // Two configs (lr) x two seeds, as a user comparing a change over seeds would have.
      const mk = (name: string, lr: string, seed: number, m: number[][]): string =>
        writeRunDir(join(tmp.dir, "cmp", name), runJson({ runName: name, seed }), m, `name: split-mnist\nseed: ${seed}\ntraining:\n  lr: ${lr}\n`);
      const dirs = [
        mk("lr0.01-seed1", "0.01", 1, [[99, 0, 0], [60, 97, 0], [40, 55, 96]]),
        mk("lr0.01-seed2", "0.01", 2, [[98, 0, 0], [66, 96, 0], [46, 61, 95]]),
        mk("lr0.001-seed1", "0.001", 1, [[97, 0, 0], [80, 93, 0], [70, 75, 90]]),
        mk("lr0.001-seed2", "0.001", 2, [[96, 0, 0], [76, 94, 0], [64, 79, 91]]),
      ];
      const out = writeReport(dirs, join(tmp.dir, "cmp.html"));
      const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(e.message));
      await page.goto(pathToFileURL(out).href, { timeout: 15_000 });
      const diff = page.locator("#config-diff");
      expect(await diff.isVisible()).toBe(true);
      expect(await diff.locator("thead th").allInnerTexts()).toEqual(["run", "seed", "training.lr"]);
      expect(await diff.locator("tbody tr").count()).toBe(4);
      const groups = page.locator("#group-summary tbody tr");
      expect(await groups.count()).toBe(2);
      expect(await groups.nth(0).innerText()).toMatch(/training\.lr=0\.01\s+2\s+1, 2\s+.*±/);
      const overlay = page.locator("svg#accuracy-overlay");
      const box = await overlay.boundingBox({ timeout: 5_000 });
      expect(box!.width).toBeGreaterThan(300);
      expect(await overlay.locator("polyline.series").count()).toBe(2);
      // The bands are drawn shapes with an area, not just markup.
      const band = await overlay.locator("polygon.band").first().boundingBox();
      expect(band!.height).toBeGreaterThan(1);
      const png = await page.screenshot({ fullPage: false });
      expect(png.length).toBeGreaterThan(10_000);
      // MNEMO_REPORT_SCREENSHOT=../../docs/report-comparison.png refreshes the picture in docs/.
      if (process.env.MNEMO_REPORT_SCREENSHOT) writeFileSync(process.env.MNEMO_REPORT_SCREENSHOT, png);
      expect(errors).toEqual([]);
      await page.close();
    }, 30_000);
  });
}
