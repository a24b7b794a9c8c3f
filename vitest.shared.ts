import { defaultServerConditions } from "vite";
import { defineConfig } from "vitest/config";

// The repo's own tests run Mnemo's TypeScript sources (the `@mnemo/source` export condition),
// not the dist/ builds that an installed package resolves to.
const conditions = ["@mnemo/source", ...defaultServerConditions];

// One test setup for every project: node environment, forked workers (tfjs wasm and
// worker threads do not like being loaded inside vitest's thread pool), long timeouts
// for the real-learning tests (their budget is stated in each test, not here).
export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    environment: "node",
    pool: "forks",
    include: ["test/**/*.test.ts", "e2e/**/*.test.ts"],
    testTimeout: 180_000,
    hookTimeout: 60_000,
    reporters: ["default"],
  },
});
