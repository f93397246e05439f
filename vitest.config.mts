import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: [
      "test/unit/**/*.test.ts",
      "test/fixtures/**/*.test.ts",
      "test/sidecar/**/*.test.ts",
      "test/cli/**/*.test.ts",
      "test/faults/**/*.test.ts",
      "test/engines/**/*.test.ts",
      "test/serve/**/*.test.ts",
    ],
    // Model tests run llama.cpp with one thread each; running files one at a time keeps them from fighting
    // over the two cores of small machines (where a contended thread is many times slower).
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Real sidecar processes and HTTP servers: fork workers, not threads, so native handles are isolated.
    pool: "forks",
    // The JSON report lets .ci/run print a plain "N passed, N failed" closing line.
    reporters: ["default", "json"],
    outputFile: { json: "test-results/vitest.json" },
  },
});
