/**
 * Backend selection: the fastest tfjs backend present, in this order:
 *   node-gpu (@tensorflow/tfjs-node-gpu, CUDA) → node (@tensorflow/tfjs-node) → webgpu
 *   (@tensorflow/tfjs-backend-webgpu; in Node through the optional `webgpu` Dawn binding, where a
 *   GPU and its Vulkan / Metal / D3D12 driver exist) → wasm (+ Mnemo's kernels and threads) →
 *   cpu (pure JS, ~100x slower for CNNs).
 * In a browser page: webgpu (navigator.gpu) → webgl (when choosing automatically, only on a
 * hardware renderer: SwiftShader and llvmpipe are skipped, as software webgpu adapters are) →
 * wasm (+ Mnemo's kernels, from @mnemo/kernels' browser entry; tfjs's own threads, which exist
 * only on a cross-origin-isolated page) → cpu; the native packages are Node-only. `webgl` can
 * also be asked for by name.
 * The native packages are optionalDependencies: where they could not install (no libtensorflow
 * download) they are simply absent and skipped without a word, as is webgpu without an adapter.
 * Requesting a backend explicitly (config `backend:` or MNEMO_BACKEND, the env var winning) fails
 * loudly if it is unavailable.
 */
import * as tf from "@tensorflow/tfjs";
import { BackendError, type BackendChoice, type BackendInfo, type ConcreteBackend, BACKEND_CHOICES } from "@mnemo/core";
import { prepareWebgpu, releaseWebgpu } from "./webgpu.js";

/**
 * tfjs's CPU backend prints "looks like you are running TensorFlow.js in Node.js ... install our
 * node backend" on its first tensor in Node. Mnemo chooses the backend itself (tfjs-node where it
 * is installed, else wasm), says which in the run header, and documents the native backends; the
 * banner only alarms. Only that one message is stopped: the backend's `firstUse` flag, which
 * gates nothing else, is cleared before anything can use the backend.
 */
function silenceCpuBanner(): void {
  const cpu = tf.findBackend("cpu") as { firstUse?: boolean } | null;
  if (cpu && typeof cpu.firstUse === "boolean") cpu.firstUse = false;
}
silenceCpuBanner();

export interface SelectBackendOptions {
  /** From the config; MNEMO_BACKEND overrides it. */
  backend?: BackendChoice;
  /** Wasm threads: a number or "auto" (= all cores, at most 2 here). */
  threads?: number | "auto";
  /**
   * Where tfjs's wasm binaries are served from, for a browser page whose bundler does not put them
   * beside the script (tfjs `setWasmPaths`: a folder URL ending in "/" or a file per binary).
   * Node finds them in node_modules; leave it unset there.
   */
  wasmPaths?: string | Partial<Record<"tfjs-backend-wasm.wasm" | "tfjs-backend-wasm-simd.wasm" | "tfjs-backend-wasm-threaded-simd.wasm", string>>;
  /** Environment (defaults to process.env); injectable for tests. */
  env?: Record<string, string | undefined>;
}

/** Node's `process`, absent in a browser page. */
const nodeProcess: NodeJS.Process | undefined = (globalThis as { process?: NodeJS.Process }).process;
const inNode = typeof nodeProcess?.versions?.node === "string";

interface KernelsModule {
  prepareWasm(options?: { threads?: number | "auto" }): Promise<{ threads: number; simd: boolean }>;
}

let active: BackendInfo | undefined;

/** The backend chosen by the last `selectBackend` call, if any. */
export function activeBackend(): BackendInfo | undefined {
  return active;
}

export function parseBackendChoice(value: string, source: string): BackendChoice {
  if ((BACKEND_CHOICES as readonly string[]).includes(value)) return value as BackendChoice;
  throw new BackendError(`${source}: unknown backend "${value}"; expected one of ${BACKEND_CHOICES.join(", ")}`);
}

function isModuleMissing(err: unknown, pkg: string): boolean {
  const e = err as { code?: string; message?: string };
  return (
    (e.code === "ERR_MODULE_NOT_FOUND" || e.code === "MODULE_NOT_FOUND") && typeof e.message === "string" && e.message.includes(pkg)
  );
}

async function tryNative(pkg: string): Promise<string | null> {
  try {
    await import(pkg);
    return null;
  } catch (err) {
    if (isModuleMissing(err, pkg)) return `${pkg} is not installed`;
    return `${pkg} is installed but failed to load: ${(err as Error).message.split("\n")[0]}`;
  }
}

const SOFTWARE_RENDERER = /swiftshader|llvmpipe|lavapipe|softpipe|software/i;

/** The minimal WebGL surface read here (the repo's lib has no DOM typings). */
interface GlContext {
  getExtension(name: string): unknown;
  getParameter(parameter: number): unknown;
}

/** The page's WebGL renderer (e.g. "ANGLE (NVIDIA, ...)", "SwiftShader"), or undefined where none can be read. */
function webglRenderer(): string | undefined {
  const doc = (globalThis as { document?: { createElement(tag: string): { getContext(kind: string): GlContext | null } } }).document;
  try {
    const canvas = doc?.createElement("canvas");
    const gl = canvas?.getContext("webgl2") ?? canvas?.getContext("webgl");
    if (!gl) return undefined;
    const info = gl.getExtension("WEBGL_debug_renderer_info") as { UNMASKED_RENDERER_WEBGL: number } | null;
    const renderer = gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : 0x1f01 /* RENDERER */);
    return typeof renderer === "string" && renderer.length > 0 ? renderer : undefined;
  } catch {
    return undefined;
  }
}

async function useTf(name: string): Promise<void> {
  const ok = await tf.setBackend(name);
  if (!ok) throw new BackendError(`tfjs could not initialise the "${name}" backend`);
  await tf.ready();
}

/** What `backend: auto` tries, in order, in Node and in a browser page. */
export function autoOrder(where: "node" | "browser"): ConcreteBackend[] {
  return where === "node" ? ["node-gpu", "node", "webgpu", "wasm", "cpu"] : ["webgpu", "webgl", "wasm", "cpu"];
}

/**
 * Picks and initialises the backend. Call once, before any tensor is created.
 * Throws BackendError when an explicitly requested backend is not available.
 */
export async function selectBackend(options: SelectBackendOptions = {}): Promise<BackendInfo> {
  const env = options.env ?? nodeProcess?.env ?? {};
  const fromEnv = env.MNEMO_BACKEND;
  const choice: BackendChoice = fromEnv ? parseBackendChoice(fromEnv, "MNEMO_BACKEND") : (options.backend ?? "auto");
  const order: ConcreteBackend[] = choice === "auto" ? autoOrder(inNode ? "node" : "browser") : [choice];
  const skipped: BackendInfo["skipped"] = [];
  tf.enableProdMode();

  for (const name of order) {
    let reason: string | null = null;
    try {
      if (name === "node-gpu" || name === "node") {
        const pkg = name === "node-gpu" ? "@tensorflow/tfjs-node-gpu" : "@tensorflow/tfjs-node";
        reason = inNode ? await tryNative(pkg) : `${pkg} needs Node.js`;
        if (reason === null) {
          await useTf("tensorflow");
          return finish({ name, tfBackend: "tensorflow", threads: 0, skipped });
        }
      } else if (name === "webgpu") {
        const adapter = await prepareWebgpu(choice === "auto");
        await useTf("webgpu");
        return finish({ name, tfBackend: "webgpu", threads: 0, adapter, skipped });
      } else if (name === "webgl") {
        if (inNode) throw new BackendError("webgl needs a browser (there is no WebGL in Node.js)");
        const renderer = webglRenderer();
        // As for webgpu: a software rasterizer (a machine without a GPU) is far slower than wasm.
        if (choice === "auto" && renderer && SOFTWARE_RENDERER.test(renderer)) throw new BackendError(`only a software WebGL renderer (${renderer}) is present: slower than wasm`);
        await useTf("webgl");
        return finish(renderer ? { name, tfBackend: "webgl", threads: 0, adapter: renderer, skipped } : { name, tfBackend: "webgl", threads: 0, skipped });
      } else if (name === "wasm") {
        const tfwasm = await import("@tensorflow/tfjs-backend-wasm");
        if (options.wasmPaths !== undefined) tfwasm.setWasmPaths(options.wasmPaths);
        // Node: the thread shim and the kernels; a browser bundle resolves the same specifier to
        // the package's browser entry (same kernels, the SIMD module fetched as an asset).
        const kernels = (await import("@mnemo/kernels")) as Partial<KernelsModule>;
        let threads = 1;
        let simd: boolean | undefined;
        if (typeof kernels.prepareWasm === "function") {
          const prepared = await kernels.prepareWasm({ threads: options.threads ?? "auto" });
          threads = prepared.threads;
          simd = prepared.simd;
        }
        await useTf("wasm");
        return finish({ name, tfBackend: "wasm", threads, simd, skipped });
      } else {
        await useTf("cpu");
        return finish({ name, tfBackend: "cpu", threads: 1, skipped });
      }
    } catch (err) {
      reason = (err as Error).message.split("\n")[0] ?? String(err);
      if (name === "webgpu") releaseWebgpu(); // a device opened before tfjs failed to start on it
    }
    if (choice !== "auto") {
      throw new BackendError(
        `backend "${name}" was requested (${fromEnv ? "MNEMO_BACKEND" : "config backend:"}) but is not available: ${reason}. ` +
          (name.startsWith("node")
            ? "Install it with `npm install @tensorflow/tfjs-" + name + "` on a machine that can download libtensorflow, or use backend: auto."
            : name === "webgpu"
              ? "webgpu needs a GPU with a Vulkan (Linux), Metal or D3D12 driver and, in Node, the optional `webgpu` package; use backend: auto to fall back to wasm."
              : "Use backend: auto to fall back automatically."),
      );
    }
    skipped.push({ name, reason: reason ?? "unavailable" });
  }
  throw new BackendError(`no tfjs backend could be initialised: ${skipped.map((s) => `${s.name}: ${s.reason}`).join("; ")}`);
}

function finish(info: Omit<BackendInfo, "description">): BackendInfo {
  const parts: string[] = [];
  if (info.name === "wasm") parts.push(`${info.threads} thread${info.threads === 1 ? "" : "s"}`, info.simd ? "simd" : "no simd");
  if ((info.name === "webgpu" || info.name === "webgl") && info.adapter) parts.push(info.adapter);
  const description = parts.length ? `${info.name} (${parts.join(", ")})` : info.name;
  active = { ...info, description };
  return active;
}

/**
 * Gives back what the active backend holds outside the JS heap: the webgpu device (destroyed)
 * and its buffers. Wasm and native memory are kept for the next run in the process. Call at
 * the end of a run; the next `selectBackend` opens a fresh device.
 */
export async function releaseBackend(): Promise<void> {
  if (active?.name !== "webgpu") return;
  releaseWebgpu();
  active = undefined;
}
