/**
 * The little of Node this package touches outside `prepare-wasm.ts` (the Node-only thread shim),
 * reached through `globalThis.process` so that every other module also loads in a browser:
 * environment switches (`MNEMO_NATIVE_KERNELS=0`, ...) and Node's built-in modules
 * (`process.getBuiltinModule`, Node >= 20.16). In a browser both are simply absent.
 */
interface NodeProcessLike {
  env?: Record<string, string | undefined>;
  getBuiltinModule?: (id: string) => unknown;
}

const nodeProcess = (globalThis as { process?: NodeProcessLike }).process;

/** An environment variable in Node; undefined in a browser. */
export function envVar(name: string): string | undefined {
  return nodeProcess?.env?.[name];
}

/** A Node built-in module (e.g. "node:fs"), or undefined outside Node. */
export function nodeBuiltin<T>(id: string): T | undefined {
  return nodeProcess?.getBuiltinModule?.(id) as T | undefined;
}
