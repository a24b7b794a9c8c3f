/**
 * Builds the page, serves it on a free loopback port and drives headless Chromium over it: shared
 * by the e2e test (tests/e2e/browser-example.test.ts) and the screenshot script. Node-only.
 */
import { spawn } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { extname, join, normalize, resolve } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";

export const REPO_ROOT = resolve(import.meta.dirname, "../../..");
export const EXAMPLE_DIR = resolve(import.meta.dirname, "..");
/** Debian's Chromium (apt-get install chromium); MNEMO_CHROMIUM_PATH overrides it (as for the tracking report's test). */
export const CHROMIUM = process.env["MNEMO_CHROMIUM_PATH"] ?? "/usr/bin/chromium";

export function chromiumPresent(): boolean {
  return existsSync(CHROMIUM);
}

/** `vite build` of the example into `outDir` (the npm script's command, with another output folder). */
export async function buildExample(outDir: string): Promise<void> {
  const args = ["--conditions=@mnemo/source", "--import", "tsx", join(REPO_ROOT, "node_modules/vite/bin/vite.js"), "build"];
  args.push(
    "--config",
    join(EXAMPLE_DIR, "vite.config.ts"),
    "--configLoader",
    "native",
    "--outDir",
    outDir,
    "--emptyOutDir",
    "--logLevel",
    "warn",
  );
  const child = spawn(process.execPath, args, { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr.on("data", (d: Buffer) => (output += d.toString()));
  const code = await new Promise<number | null>((r) => child.on("close", r));
  if (code !== 0) throw new Error(`vite build of examples/browser failed (exit ${code}):\n${output}`);
}

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript",
  ".css": "text/css",
  ".wasm": "application/wasm",
  ".json": "application/json",
  ".bin": "application/octet-stream",
};

/** A static server of `dir` on 127.0.0.1 at a port the OS picks; resolves to its base URL. */
export async function serveStatic(dir: string): Promise<{ url: string; server: Server }> {
  const root = resolve(dir);
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    let file = normalize(join(root, path));
    if (!file.startsWith(root)) {
      res.writeHead(403).end();
      return;
    }
    if (existsSync(file) && statSync(file).isDirectory()) file = join(file, "index.html");
    if (!existsSync(file)) {
      res.writeHead(404).end(`not found: ${path}`);
      return;
    }
    res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream" });
    res.end(readFileSync(file));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/`, server };
}

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
    timeout: 30_000,
  });
}

/** Waits until the page says done (or error: then throws with the page's message and console). */
export async function waitForRun(page: Page, timeoutMs: number, consoleLines: string[]): Promise<void> {
  // An expression, not a function: this file is type-checked without the DOM library.
  await page.waitForFunction('["done", "error"].includes(document.body.dataset.status ?? "")', undefined, {
    timeout: timeoutMs,
    polling: 250,
  });
  const status = await page.locator("body").getAttribute("data-status");
  if (status !== "done") {
    const message = await page.locator("#error").textContent();
    throw new Error(`the page ended with an error: ${message}\nconsole:\n${consoleLines.join("\n")}`);
  }
}
