/**
 * The browser example's build. `vite build` bundles the page with Mnemo's TypeScript sources (the
 * `@mnemo/source` export condition) and writes the Split-MNIST subset beside it as
 * `mnist-subset.bin` (generated from @mnemo/data's MNIST at build time, never checked in).
 * The config is loaded by Node itself (`--configLoader native` under tsx, see the npm scripts),
 * so the subset generator imports @mnemo/data like any other repo script.
 */
import { fileURLToPath } from "node:url";
import { defaultClientConditions, defineConfig, type Plugin } from "vite";

const here = (path: string): string => fileURLToPath(new URL(path, import.meta.url));

/** Emits the subset into the build and serves it in `vite` dev mode. */
function mnistSubset(): Plugin {
  let bytes: Promise<Uint8Array> | undefined;
  const load = (): Promise<Uint8Array> => (bytes ??= import("./scripts/make-subset.js").then((m) => m.makeSubset()));
  return {
    name: "mnemo-mnist-subset",
    async generateBundle() {
      this.emitFile({ type: "asset", fileName: "mnist-subset.bin", source: await load() });
    },
    configureServer(server) {
      server.middlewares.use("/mnist-subset.bin", (_req, res, next) => {
        load().then((b) => {
          res.setHeader("content-type", "application/octet-stream");
          res.end(b);
        }, next);
      });
    },
  };
}

export default defineConfig({
  root: here("."),
  base: "./",
  // Mnemo's TypeScript sources (the repo's dev condition), then Vite's defaults for a page
  // ("browser" picks @mnemo/kernels' browser entry).
  resolve: { conditions: ["@mnemo/source", ...defaultClientConditions] },
  build: { outDir: here("./dist"), emptyOutDir: true, target: "es2022", chunkSizeWarningLimit: 4096 },
  plugins: [mnistSubset()],
});
