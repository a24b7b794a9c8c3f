/**
 * The webgpu backend (@tensorflow/tfjs-backend-webgpu): browsers bring `navigator.gpu`; in Node
 * the optional `webgpu` package (Dawn's binding, prebuilt in the npm tarball, no download)
 * provides it where a GPU with a Vulkan (Linux), Metal or D3D12 driver exists.
 * tfjs registers its webgpu factory only in a browser or worker, so in Node Mnemo registers one
 * itself around the device it opened; `releaseWebgpu` destroys that device at the end of a run.
 * Nothing here imports a Node builtin: in Node, `node:fs` and the `webgpu` package are reached at
 * run time only (`process.getBuiltinModule`, a dynamic import), so the module loads in a browser.
 */
import * as tf from "@tensorflow/tfjs";

/** The slice of the WebGPU API used here (the full types live in @webgpu/types, not a dependency of core). */
interface GpuAdapterInfo {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
}
interface GpuDevice {
  destroy(): void;
}
interface GpuAdapter {
  readonly features: { has(name: string): boolean };
  readonly limits: Record<string, number>;
  readonly info?: GpuAdapterInfo;
  readonly isFallbackAdapter?: boolean;
  requestDevice(descriptor?: object): Promise<GpuDevice>;
}
interface Gpu {
  requestAdapter(options?: { powerPreference?: "high-performance" | "low-power" }): Promise<GpuAdapter | null>;
}
interface DawnModule {
  create(flags: string[]): Gpu;
  globals: Record<string, unknown>;
}

/** Why webgpu cannot run here: the backend chain skips it (auto) or reports it (requested). */
export class WebgpuUnavailable extends Error {}

let device: GpuDevice | undefined;

const VULKAN_DIRS = ["/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/usr/lib", "/lib/x86_64-linux-gnu", "/lib64", "/usr/local/lib"];

/** Dawn on Linux needs the Vulkan loader; without it there can be no adapter, and Dawn would print a native warning first. */
export function vulkanLoaderPresent(env: Record<string, string | undefined> = process.env): boolean {
  const fs = process.getBuiltinModule("node:fs");
  const dirs = [...(env["LD_LIBRARY_PATH"] ?? "").split(":").filter(Boolean), ...VULKAN_DIRS];
  return dirs.some((d) => fs.existsSync(`${d}/libvulkan.so.1`));
}

function describeAdapter(info: GpuAdapterInfo | undefined): string {
  const parts = [info?.vendor, info?.architecture, info?.device, info?.description].filter((p): p is string => !!p && p.length > 0);
  return parts.length ? [...new Set(parts)].join(" ") : "unknown adapter";
}

async function nodeGpu(auto: boolean): Promise<Gpu> {
  if (typeof (globalThis as { process?: unknown }).process === "undefined") throw new WebgpuUnavailable("this browser has no WebGPU (navigator.gpu)");
  if (auto && process.platform === "linux" && !vulkanLoaderPresent()) {
    throw new WebgpuUnavailable("no Vulkan loader (libvulkan.so.1) found: webgpu in Node needs a GPU with a Vulkan driver");
  }
  let dawn: DawnModule;
  try {
    // A specifier in a variable: bundlers for the browser must not try to include the Node binding.
    const dawnPackage = "webgpu";
    dawn = (await import(/* @vite-ignore */ dawnPackage)) as DawnModule;
  } catch (err) {
    const e = err as { code?: string; message?: string };
    if ((e.code === "ERR_MODULE_NOT_FOUND" || e.code === "MODULE_NOT_FOUND") && e.message?.includes("webgpu")) {
      throw new WebgpuUnavailable("the webgpu package (Dawn binding for Node) is not installed; `npm install webgpu`");
    }
    throw new WebgpuUnavailable(`the webgpu package failed to load: ${(e.message ?? String(err)).split("\n")[0]}`);
  }
  // tfjs's webgpu backend reads GPUBufferUsage / GPUMapMode / GPUShaderStage as globals.
  for (const [k, v] of Object.entries(dawn.globals)) if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
  return dawn.create([]);
}

/**
 * Opens an adapter and a device and registers tfjs's "webgpu" backend on it.
 * `auto`: skip software adapters (SwiftShader, llvmpipe), which are slower than wasm.
 * Returns the adapter's description; throws WebgpuUnavailable with the reason otherwise.
 */
export async function prepareWebgpu(auto: boolean): Promise<string> {
  const browserGpu = (globalThis as { navigator?: { gpu?: Gpu } }).navigator?.gpu;
  const gpu = browserGpu ?? (await nodeGpu(auto));
  const adapter = await gpu.requestAdapter({ powerPreference: "high-performance" });
  if (!adapter) throw new WebgpuUnavailable("no WebGPU adapter found (no GPU, or no Vulkan / Metal / D3D12 driver for it)");
  const description = describeAdapter(adapter.info);
  if (auto && (adapter.isFallbackAdapter || /swiftshader|llvmpipe|lavapipe/i.test(description))) {
    throw new WebgpuUnavailable(`only a software WebGPU adapter (${description}) is present: slower than wasm`);
  }
  const webgpu = await import("@tensorflow/tfjs-backend-webgpu");
  if (tf.findBackendFactory("webgpu") === null) {
    // The same requirements tfjs asks for in the browser: the adapter's own limits.
    const limitNames = ["maxComputeWorkgroupStorageSize", "maxComputeWorkgroupsPerDimension", "maxStorageBufferBindingSize", "maxBufferSize", "maxComputeWorkgroupSizeX", "maxComputeInvocationsPerWorkgroup"];
    const requiredLimits = Object.fromEntries(limitNames.filter((n) => adapter.limits[n] !== undefined).map((n) => [n, adapter.limits[n]]));
    const requiredFeatures = adapter.features.has("timestamp-query") ? ["timestamp-query"] : [];
    const dev = await adapter.requestDevice({ requiredLimits, requiredFeatures });
    device = dev;
    const Backend = webgpu.WebGPUBackend as unknown as new (d: GpuDevice, info?: GpuAdapterInfo) => tf.KernelBackend;
    tf.registerBackend("webgpu", () => new Backend(dev, adapter.info), 3);
  }
  return description;
}

/** Frees the webgpu backend and destroys the device Mnemo opened; false when there was none (other backends). */
export function releaseWebgpu(): boolean {
  if (!device) return false;
  // removeBackend disposes the backend's buffers and drops the factory that holds the device.
  if (tf.findBackendFactory("webgpu") !== null) tf.removeBackend("webgpu");
  device.destroy();
  device = undefined;
  return true;
}
