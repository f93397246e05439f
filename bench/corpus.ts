/** Shared by the search-at-scale benchmarks (`bench:search-scale`, `bench:hybrid`). */

/** Folders of node_modules to index, largest first; each a distinct real code base. */
export const SCALE_PACKAGES = [
  "typescript/lib",
  "prettier",
  "zod",
  "jsdom/lib",
  "apache-arrow",
  "@typescript-eslint",
  "node-llama-cpp/dist",
  "@modelcontextprotocol/sdk/dist",
  "fastify",
  "eslint/lib",
  "lodash-es",
  "vitest/dist",
  "ajv/dist",
  "marked",
  "openai",
  "@azure",
  "lodash",
  "hono",
  "azure-devops-node-api",
  "@typespec",
  "@secretlint",
  "cheerio",
  "tldts",
  "underscore",
  "vite",
  "undici",
  "css-tree",
  "@opentelemetry",
  "markdown-it",
];

/** `promise`, or "timed out" after `ms`. */
export async function bounded<T>(promise: Promise<T>, ms: number): Promise<T | "timed out"> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<"timed out">((resolve) => (timer = setTimeout(() => resolve("timed out"), ms)));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
