import { createHash } from "node:crypto";
import { createWriteStream, existsSync, readFileSync } from "node:fs";
import fs from "node:fs/promises";
import https from "node:https";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { LAB_MODEL_FILES } from "../lab/ggufModels";

/** Repository root: the nearest folder above this file with Hearth's package.json (works from test/ and dist/test/). */
export const REPO_ROOT = findRoot(path.dirname(fileURLToPath(import.meta.url)));

function findRoot(dir: string): string {
  for (let d = dir; d !== path.dirname(d); d = path.dirname(d)) {
    const pkg = path.join(d, "package.json");
    if (existsSync(pkg) && JSON.parse(readFileSync(pkg, "utf8")).name === "hearth") return d;
  }
  throw new Error(`No Hearth package.json above ${dir}`);
}
/** The built sidecar bundle the tests spawn (built by `npm test` before vitest runs). */
export const SIDECAR_PATH = path.join(REPO_ROOT, "dist", "sidecar.mjs");
export const CLI_PATH = path.join(REPO_ROOT, "dist", "cli.mjs");

/** Real models the tests use, pinned by URL and sha256. */
export const TEST_MODELS = {
  /** karpathy/tinyllamas stories260K converted by ggml-org: a real 260K-parameter Llama 2 story model. */
  stories260K: {
    file: "stories260K.gguf",
    url: "https://huggingface.co/ggml-org/test-model-stories260K/resolve/main/stories260K-f32.gguf",
    sha256: "270cba1bd5109f42d03350f60406024560464db173c0e387d91f0426d3bd256d",
  },
} as const;

/**
 * Path of one of the model lab's tiny trained models (lab/README.md), committed in lab/models/.
 * @throws Error naming the command that rebuilds it, when the file is missing.
 */
export function labModel(role: keyof typeof LAB_MODEL_FILES): string {
  const file = path.join(REPO_ROOT, "lab", "models", LAB_MODEL_FILES[role]);
  if (!existsSync(file)) throw new Error(`Lab model ${file} is missing: run \`npm run models:train\` (lab/README.md).`);
  return file;
}

const SEARCH_DIRS = [process.env["HEARTH_TEST_MODELS_DIR"], path.join(REPO_ROOT, "..", "shared", "models")].filter(
  (d): d is string => Boolean(d),
);
const CACHE_DIR = path.join(REPO_ROOT, ".cache", "models");

/**
 * Path of a test model: found in `$HEARTH_TEST_MODELS_DIR` or `../shared/models`, else in the git-ignored
 * `.cache/models`, else downloaded there once from its pinned URL and checked against its sha256.
 * Throws (never skips) when the model can be neither found nor fetched.
 */
export async function testModel(name: keyof typeof TEST_MODELS): Promise<string> {
  const spec = TEST_MODELS[name];
  for (const dir of [...SEARCH_DIRS, CACHE_DIR]) {
    const candidate = path.join(dir, spec.file);
    if (existsSync(candidate)) return candidate;
  }
  await fs.mkdir(CACHE_DIR, { recursive: true });
  const target = path.join(CACHE_DIR, spec.file);
  const temp = `${target}.download`;
  await download(spec.url, temp);
  const actual = createHash("sha256").update(readFileSync(temp)).digest("hex");
  if (actual !== spec.sha256) {
    await fs.rm(temp, { force: true });
    throw new Error(`Test model ${name}: sha256 ${actual} does not match the pinned ${spec.sha256}.`);
  }
  await fs.rename(temp, target);
  return target;
}

function download(url: string, file: string, redirects = 5): Promise<void> {
  return new Promise((resolve, reject) => {
    https
      .get(url, (res) => {
        if (res.statusCode && res.statusCode >= 300 && res.statusCode < 400 && res.headers.location && redirects > 0) {
          res.resume();
          download(new URL(res.headers.location, url).toString(), file, redirects - 1).then(resolve, reject);
          return;
        }
        if (res.statusCode !== 200) {
          res.resume();
          reject(new Error(`GET ${url}: HTTP ${res.statusCode}`));
          return;
        }
        const out = createWriteStream(file);
        res.pipe(out);
        out.on("finish", () => resolve());
        out.on("error", reject);
      })
      .on("error", reject);
  });
}
