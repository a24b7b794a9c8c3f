import { existsSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chromium, type Browser } from "playwright-core";
import { writeReport } from "../src/report.js";
import { runJson, writeRunDir } from "./fixtures.js";
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
  });
}
