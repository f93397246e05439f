/** Shared by the search-at-scale benchmarks (`bench:search-scale`, `bench:hybrid`). */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from "node:fs";
import path from "node:path";

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

/**
 * Code bases fetched from the npm registry (pinned) for corpora larger than node_modules holds (its packages give
 * about 100k chunks; the 300k-chunk figure needs these). `dir` is the folder of one copy of the code in the
 * package (its sources, or one build of them), so no code is indexed twice in cjs and esm forms.
 */
export const FETCHED_PACKAGES: readonly { spec: string; dir: string }[] = [
  { spec: "aws-sdk@2.1693.0", dir: "clients" },
  { spec: "monaco-editor@0.57.0", dir: "esm/vs" },
  { spec: "three@0.187.0", dir: "src" },
  { spec: "webpack@5.113.0", dir: "lib" },
  { spec: "mongodb@7.9.1", dir: "src" },
  { spec: "@angular/compiler@22.2.6", dir: "fesm2022" },
  { spec: "@angular/core@22.2.6", dir: "fesm2022" },
  { spec: "antd@6.6.8", dir: "es" },
  { spec: "echarts@6.1.0", dir: "lib" },
  { spec: "mathjs@15.2.0", dir: "lib/esm" },
  { spec: "sequelize@6.37.8", dir: "lib" },
  { spec: "svelte@5.57.3", dir: "src" },
  { spec: "highlight.js@11.12.0", dir: "lib" },
  { spec: "pdfjs-dist@6.5.438", dir: "build" },
  { spec: "graphql@17.1.0", dir: "." },
  { spec: "rollup@4.68.8", dir: "dist/es" },
  { spec: "firebase-admin@14.5.1", dir: "lib" },
  { spec: "moment@2.31.0", dir: "src" },
  { spec: "ace-builds@1.43.4", dir: "src-noconflict" },
  { spec: "typeorm@1.1.1", dir: "browser" },
  { spec: "@mui/material@9.5.0", dir: "." },
  { spec: "@aws-sdk/client-s3@3.1175.0", dir: "dist-es" },
  { spec: "@sentry/core@11.12.0", dir: "build/esm" },
  { spec: "core-js@3.45.1", dir: "modules" },
  { spec: "rxjs@7.8.2", dir: "src" },
  { spec: "prismjs@1.30.0", dir: "components" },
  { spec: "codemirror@5.65.20", dir: "mode" },
  { spec: "luxon@3.7.2", dir: "src" },
  { spec: "@babylonjs/core@9.35.0", dir: "." },
  { spec: "plotly.js@3.3.0", dir: "src" },
];

/** One distinct code base of a corpus: a name for the log, and `dir()`, its folder (fetched on first call). */
export interface CorpusSource {
  name: string;
  dir(): string;
}

/**
 * The corpus's code bases, largest first: the {@link SCALE_PACKAGES} of `root`'s node_modules, then, with
 * `fetchDir`, the {@link FETCHED_PACKAGES}, each fetched with `npm pack` into `fetchDir` the first time its
 * `dir()` is called and kept there (bench time only; code, never model weights).
 * @throws Error from `dir()` when `npm pack` or `tar` fails (no registry, a version gone).
 */
export function corpusSources(root: string, fetchDir?: string): CorpusSource[] {
  const local = SCALE_PACKAGES.map((pkg) => ({ name: pkg, dir: () => path.join(root, "node_modules", pkg) }));
  if (!fetchDir) return local;
  return [
    ...local,
    ...FETCHED_PACKAGES.map(({ spec, dir }) => ({ name: spec, dir: () => fetched(fetchDir, spec, dir) })),
  ];
}

/**
 * The corpus of `root`'s benchmarks: {@link corpusSources} with the fetched packages kept in `.cache/corpus/`,
 * or node_modules' alone when `offline`.
 */
export function benchCorpus(root: string, offline: boolean): CorpusSource[] {
  return corpusSources(root, offline ? undefined : path.join(root, ".cache", "corpus"));
}

/** Copy one code base into the corpus folder `corpusDir` (created if needed), named after it. */
export function addToCorpus(source: CorpusSource, corpusDir: string): void {
  mkdirSync(corpusDir, { recursive: true });
  execFileSync("cp", ["-R", source.dir(), path.join(corpusDir, source.name.replace(/[/@]/g, "_"))]);
}

function fetched(fetchDir: string, spec: string, dir: string): string {
  const into = path.join(fetchDir, spec.replace(/[/@]/g, "_"));
  if (!existsSync(path.join(into, "package"))) {
    const tmp = `${into}.partial`;
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    execFileSync("npm", ["pack", spec, "--pack-destination", tmp, "--silent"], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    const tarball = readdirSync(tmp).find((f) => f.endsWith(".tgz"));
    if (!tarball) throw new Error(`npm pack ${spec} wrote no tarball`);
    execFileSync("tar", ["-xzf", path.join(tmp, tarball), "-C", tmp]);
    rmSync(path.join(tmp, tarball));
    rmSync(into, { recursive: true, force: true });
    renameSync(tmp, into);
  }
  const folder = path.join(into, "package", dir);
  if (!existsSync(folder)) throw new Error(`${spec} has no folder ${dir}`);
  return folder;
}

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
