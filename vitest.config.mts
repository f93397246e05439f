import { defineConfig } from "vitest/config";

/** The tiers that start real processes, load real models or run real servers: one file at a time. */
const PROCESS_TIERS = [
  "test/fixtures/**/*.test.ts",
  "test/sidecar/**/*.test.ts",
  "test/cli/**/*.test.ts",
  "test/faults/**/*.test.ts",
  "test/engines/**/*.test.ts",
  "test/serve/**/*.test.ts",
  "test/setup/**/*.test.ts",
];

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // No test reaches the Hugging Face hub: hf: URIs (node-llama-cpp's downloader, Hearth's hub checks) resolve
    // against the loopback discard port (as "localhost": node-llama-cpp takes every URL on the endpoint's host name for
    // a hub URL, and the tests' own servers are 127.0.0.1) unless a test points HF_ENDPOINT at its own host.
    // Nor does a `hearth setup` config file of the machine's user change what the CLI under test loads.
    env: { HF_ENDPOINT: "http://localhost:9", HEARTH_CONFIG: "/nonexistent/hearth-tests/config.json" },
    // Real sidecar processes and HTTP servers: fork workers, not threads, so native handles are isolated.
    pool: "forks",
    // The JSON report lets .ci/run print a plain "N passed, N failed" closing line.
    reporters: ["default", "json"],
    outputFile: { json: "test-results/vitest.json" },
    projects: [
      {
        extends: true,
        // Pure unit tests (no model, no process): files in parallel, and first, before the process tiers start.
        test: { name: "unit", include: ["test/unit/**/*.test.ts"], sequence: { groupOrder: 0 } },
      },
      {
        extends: true,
        test: {
          name: "process",
          include: PROCESS_TIERS,
          // Model tests run llama.cpp with one thread each; running files one at a time keeps them from fighting
          // over the two cores of small machines (where a contended thread is many times slower).
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
