/**
 * The page's tfjs backend, chosen as `selectBackend` chooses it in Node and described the same way
 * ("wasm (1 thread, simd)"): the fastest one present, webgpu → webgl → wasm (with Mnemo's kernels,
 * @mnemo/kernels' browser entry) → cpu, each skipped with its reason; a backend asked for by name
 * (`?backend=wasm`, like MNEMO_BACKEND) fails loudly when it cannot start.
 */
import * as tf from "@tensorflow/tfjs";
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import { prepareWasm } from "@mnemo/kernels";
import wasmPlain from "@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url";
import wasmSimd from "@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url";
import wasmThreadedSimd from "@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url";
import { BROWSER_BACKEND_CHOICES, type BrowserBackendChoice } from "./config.js";

export type BrowserBackend = Exclude<BrowserBackendChoice, "auto">;

export interface BrowserBackendInfo {
  name: BrowserBackend;
  tfBackend: string;
  threads: number;
  simd?: boolean;
  adapter?: string;
  skipped: { name: BrowserBackend; reason: string }[];
  description: string;
}

export class BrowserBackendError extends Error {
  override name = "BrowserBackendError";
}

export function parseBrowserBackend(value: string | null, source: string): BrowserBackendChoice {
  if (value === null || value === "") return "auto";
  if ((BROWSER_BACKEND_CHOICES as readonly string[]).includes(value)) return value as BrowserBackendChoice;
  throw new BrowserBackendError(`${source}: unknown backend "${value}"; expected one of ${BROWSER_BACKEND_CHOICES.join(", ")}`);
}

interface GpuLike {
  requestAdapter(): Promise<{ info?: { vendor?: string; architecture?: string; description?: string } } | null>;
}

async function use(name: string): Promise<void> {
  if (!(await tf.setBackend(name))) throw new Error(`tfjs could not initialise "${name}"`);
  await tf.ready();
}

async function tryBackend(name: BrowserBackend): Promise<Omit<BrowserBackendInfo, "skipped" | "description">> {
  switch (name) {
    case "webgpu": {
      const gpu = (navigator as Navigator & { gpu?: GpuLike }).gpu;
      if (!gpu) throw new Error("navigator.gpu is absent (no WebGPU in this browser)");
      const adapter = await gpu.requestAdapter();
      if (!adapter) throw new Error("no WebGPU adapter");
      await import("@tensorflow/tfjs-backend-webgpu");
      await use("webgpu");
      const info = adapter.info;
      const label = [info?.vendor, info?.architecture, info?.description].filter(Boolean).join(" ");
      return label ? { name, tfBackend: "webgpu", threads: 0, adapter: label } : { name, tfBackend: "webgpu", threads: 0 };
    }
    case "webgl":
      await use("webgl");
      return { name, tfBackend: "webgl", threads: 0 };
    case "wasm": {
      setWasmPaths({ "tfjs-backend-wasm.wasm": wasmPlain, "tfjs-backend-wasm-simd.wasm": wasmSimd, "tfjs-backend-wasm-threaded-simd.wasm": wasmThreadedSimd });
      const { threads, simd } = await prepareWasm({ threads: "auto" });
      await use("wasm");
      return { name, tfBackend: "wasm", threads, simd };
    }
    case "cpu":
      await use("cpu");
      return { name, tfBackend: "cpu", threads: 1 };
  }
}

export function describeBackend(info: Omit<BrowserBackendInfo, "description">): string {
  const parts: string[] = [];
  if (info.name === "wasm") parts.push(`${info.threads} thread${info.threads === 1 ? "" : "s"}`, info.simd ? "simd" : "no simd");
  if (info.name === "webgpu" && info.adapter) parts.push(info.adapter);
  return parts.length ? `${info.name} (${parts.join(", ")})` : info.name;
}

export async function selectBrowserBackend(choice: BrowserBackendChoice): Promise<BrowserBackendInfo> {
  tf.enableProdMode();
  const order: BrowserBackend[] = choice === "auto" ? ["webgpu", "webgl", "wasm", "cpu"] : [choice];
  const skipped: BrowserBackendInfo["skipped"] = [];
  for (const name of order) {
    try {
      const info = { ...(await tryBackend(name)), skipped };
      return { ...info, description: describeBackend(info) };
    } catch (e) {
      const reason = (e as Error).message.split("\n")[0] ?? String(e);
      if (choice !== "auto") throw new BrowserBackendError(`backend "${name}" was requested but is not available: ${reason}. Use ?backend=auto to fall back automatically.`);
      skipped.push({ name, reason });
    }
  }
  throw new BrowserBackendError(`no tfjs backend could be initialised: ${skipped.map((s) => `${s.name}: ${s.reason}`).join("; ")}`);
}
