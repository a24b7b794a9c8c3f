import { defineConfig } from "vitest/config";

// One test setup for every project: node environment, forked workers (tfjs wasm and
// worker threads do not like being loaded inside vitest's thread pool), long timeouts
// for the real-learning tests (their budget is stated in each test, not here).
export default defineConfig({
  test: {
    environment: "node",
    pool: "forks",
    include: ["test/**/*.test.ts", "e2e/**/*.test.ts"],
    testTimeout: 180_000,
    hookTimeout: 60_000,
    reporters: ["default"],
  },
});
