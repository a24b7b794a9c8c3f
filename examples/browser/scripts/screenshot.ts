/**
 * Regenerates docs/browser-example.png: builds the page into a temporary folder, runs it in
 * headless Chromium with the backend it chooses itself (on a machine without a GPU: wasm, the
 * numbers the e2e test checks against Node) and captures the finished page.
 *   npm run example:browser:screenshot [-- output.png]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildExample, chromiumPresent, CHROMIUM, launchChromium, REPO_ROOT, serveStatic, waitForRun } from "./harness.js";

const target = process.argv[2] ?? join(REPO_ROOT, "docs/browser-example.png");
if (!chromiumPresent()) {
  console.error(`${CHROMIUM} is missing; install it with \`apt-get install -y chromium\` (or set MNEMO_CHROMIUM_PATH)`);
  process.exit(2);
}
const out = mkdtempSync(join(tmpdir(), "mnemo-browser-shot-"));
try {
  await buildExample(out);
  const { url, server } = await serveStatic(out);
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1200, height: 760 }, deviceScaleFactor: 1 });
    const lines: string[] = [];
    page.on("console", (m) => lines.push(`${m.type()}: ${m.text()}`));
    await page.goto(url);
    await waitForRun(page, 300_000, lines);
    await page.screenshot({ path: target, fullPage: true });
    console.log(`wrote ${target}`);
  } finally {
    await browser.close();
    server.close();
  }
} finally {
  rmSync(out, { recursive: true, force: true });
}
