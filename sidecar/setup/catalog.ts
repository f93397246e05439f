/**
 * The model catalog: per role, a few well-known GGUFs in size tiers, each with where every fact was read. Hearth
 * ships one (`catalog.json` beside this file); `hearth setup --catalog`, the `hearth.setup.catalog` setting and
 * `$HEARTH_CATALOG` point at another file or URL (an air-gapped mirror, the tests). The format is documented in
 * docs/models.md ("The catalog") and checked here with a JSON Schema (ajv).
 */
import fs from "node:fs/promises";
import path from "node:path";
import { checker } from "../../shared/guards";
import { HearthError } from "../../shared/errors";
import { ErrorCodes, MODEL_ROLES, type ModelRole } from "../../shared/protocol";
import shipped from "./catalog.json";

/** One catalog entry. A fact that could not be read when the catalog was written is `null` (unknown), never guessed. */
export interface CatalogModel {
  /** Stable id, e.g. `qwen2.5-coder-1.5b-q8_0`. */
  id: string;
  /** Display name. */
  name: string;
  /** Roles it serves: `chat`, `completion` (FIM), `embedding`, `rerank`. */
  roles: ModelRole[];
  /** `hf:<org>/<repo>/<file>.gguf`, `hf:<org>/<repo>:<quant>`, or an http(s) URL. */
  uri: string;
  /** Hub revision (commit) the file is pinned to; null: the main branch. */
  revision: string | null;
  /** File size in bytes. */
  sizeBytes: number | null;
  /** Lower-case hex sha256 of the file. */
  sha256: string | null;
  /** SPDX-style licence id. */
  license: string | null;
  /** Context the model was trained with, in tokens. */
  trainedContext: number | null;
  /** Parameter count. */
  parameters: number | null;
  /** Parameters active per token (mixture-of-experts models), when fewer than `parameters`. */
  activeParameters?: number;
  /** Dominant weight type: `Q8_0`, `Q4_K_M`, `Q4_0`, `F16`, `MXFP4`, ... */
  quantization: string;
  /** The FIM prompt family, for models that do FIM. */
  fimTemplate?: string;
  /** Where each fact was read, by field name (`uri`, `parameters`, ...). */
  sources: Record<string, string>;
}

/** A catalog file. */
export interface Catalog {
  format: "hearth-catalog";
  version: 1;
  note?: string;
  models: CatalogModel[];
}

/** Largest catalog read (bytes): a catalog is a few KB; anything this large is not one. */
export const MAX_CATALOG_BYTES = 1024 * 1024;
/** Most entries a catalog may have (the planner tries combinations of them). */
export const MAX_CATALOG_MODELS = 200;
/** How long fetching a catalog URL may take (ms). */
const CATALOG_FETCH_MS = 15_000;

/** `schema` or null; ajv reports the first branch's failure, so each branch carries the words too. */
const nullable = (schema: object, expected: string) => ({
  anyOf: [
    { ...schema, expected },
    { type: "null", expected },
  ],
  expected,
});
const positive = { type: "number", exclusiveMinimum: 0 };

/** The catalog format as a JSON Schema (also the documentation's reference). */
export const CATALOG_SCHEMA = {
  type: "object",
  required: ["format", "version", "models"],
  expected: "a catalog object with format, version and models",
  properties: {
    format: { const: "hearth-catalog", expected: "'hearth-catalog'" },
    version: { const: 1, expected: "1" },
    note: { type: "string", expected: "a string" },
    models: {
      type: "array",
      minItems: 1,
      maxItems: MAX_CATALOG_MODELS,
      expected: `an array of 1 to ${MAX_CATALOG_MODELS} models`,
      items: {
        type: "object",
        required: [
          "id",
          "name",
          "roles",
          "uri",
          "revision",
          "sizeBytes",
          "sha256",
          "license",
          "trainedContext",
          "parameters",
          "quantization",
          "sources",
        ],
        expected: "a model object",
        properties: {
          id: { type: "string", pattern: "^[a-z0-9][a-z0-9._-]{0,99}$", expected: "a lower-case id (a-z, 0-9, . _ -)" },
          name: { type: "string", minLength: 1, maxLength: 200, expected: "a name" },
          roles: {
            type: "array",
            minItems: 1,
            uniqueItems: true,
            items: { enum: [...MODEL_ROLES], expected: `one of ${MODEL_ROLES.join(", ")}` },
            expected: "a list of roles",
          },
          uri: {
            type: "string",
            pattern: "^(hf:|https?://)",
            maxLength: 2000,
            expected: "an hf: URI or an http(s) URL",
          },
          revision: nullable({ type: "string", pattern: "^[0-9a-f]{40}$" }, "a 40-hex-digit commit or null"),
          sizeBytes: nullable({ type: "integer", minimum: 1 }, "a byte count or null"),
          sha256: nullable({ type: "string", pattern: "^[0-9a-f]{64}$" }, "64 lower-case hex digits or null"),
          license: nullable({ type: "string", maxLength: 100 }, "a licence id or null"),
          trainedContext: nullable({ type: "integer", minimum: 1 }, "a token count or null"),
          parameters: nullable(positive, "a parameter count or null"),
          activeParameters: { ...positive, expected: "a parameter count" },
          quantization: { type: "string", minLength: 1, maxLength: 40, expected: "a weight type (Q8_0, Q4_K_M, ...)" },
          fimTemplate: { type: "string", maxLength: 40, expected: "a FIM family name" },
          sources: {
            type: "object",
            required: ["uri"],
            additionalProperties: { type: "string", maxLength: 500 },
            expected: "an object naming where each fact was read (at least uri)",
          },
        },
      },
    },
  },
} as const;

const checkCatalog = checker<Catalog>(CATALOG_SCHEMA);

/**
 * `value` as a catalog. @throws HearthError CatalogInvalid naming the first bad field (`models[3].uri`) or a
 * repeated id.
 */
export function parseCatalog(value: unknown, source: string): Catalog {
  let catalog: Catalog;
  try {
    catalog = checkCatalog(value, "catalog");
  } catch (error) {
    const message = error instanceof Error ? error.message.replace(/^Invalid params: /, "") : String(error);
    throw new HearthError(
      ErrorCodes.CatalogInvalid,
      `The model catalog ${source} is not valid: ${message}`,
      CATALOG_HINT,
    );
  }
  const seen = new Set<string>();
  for (const m of catalog.models) {
    if (seen.has(m.id))
      throw new HearthError(
        ErrorCodes.CatalogInvalid,
        `The model catalog ${source} lists '${m.id}' twice.`,
        CATALOG_HINT,
      );
    seen.add(m.id);
  }
  return catalog;
}

const CATALOG_HINT =
  "docs/models.md describes the catalog format; fix the file or point 'hearth.setup.catalog' elsewhere.";

/** The catalog Hearth ships. */
export function shippedCatalog(): Catalog {
  return parseCatalog(shipped, "shipped with Hearth");
}

/**
 * Reads a catalog from an http(s) URL or a file path (relative paths against `cwd`), at most
 * {@link MAX_CATALOG_BYTES}; no source: the shipped one. Redirects are not followed (a mirror names its final URL).
 * @returns the catalog and the source as shown to the user.
 * @throws HearthError CatalogInvalid (unreadable, too large, not JSON, not the format).
 */
export async function loadCatalog(
  source: string | undefined,
  cwd = process.cwd(),
): Promise<{ catalog: Catalog; source: string }> {
  if (!source) return { catalog: shippedCatalog(), source: "shipped with Hearth" };
  let text: string;
  if (/^https?:\/\//i.test(source)) text = await fetchCatalog(source);
  else {
    const file = path.resolve(cwd, source);
    const stat = await fs.stat(file).catch((e: NodeJS.ErrnoException) => {
      throw new HearthError(
        ErrorCodes.CatalogInvalid,
        `The model catalog ${file} cannot be read (${e.code ?? e.message}).`,
        CATALOG_HINT,
      );
    });
    if (!stat.isFile() || stat.size > MAX_CATALOG_BYTES)
      throw new HearthError(
        ErrorCodes.CatalogInvalid,
        `The model catalog ${file} is ${stat.isFile() ? `larger than ${MAX_CATALOG_BYTES} bytes` : "not a file"}.`,
        CATALOG_HINT,
      );
    text = await fs.readFile(file, "utf8");
    source = file;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new HearthError(ErrorCodes.CatalogInvalid, `The model catalog ${source} is not JSON.`, CATALOG_HINT);
  }
  return { catalog: parseCatalog(json, source), source };
}

async function fetchCatalog(url: string): Promise<string> {
  const fail = (why: string) =>
    new HearthError(ErrorCodes.CatalogInvalid, `The model catalog ${url} cannot be fetched: ${why}.`, CATALOG_HINT);
  let response: Response;
  try {
    response = await fetch(url, { redirect: "manual", signal: AbortSignal.timeout(CATALOG_FETCH_MS) });
  } catch (error) {
    throw fail(
      error instanceof Error && error.name === "TimeoutError"
        ? `no answer in ${CATALOG_FETCH_MS / 1000} s`
        : String((error as Error).cause ?? error),
    );
  }
  if (!response.ok) throw fail(`HTTP ${response.status}`);
  const reader = response.body?.getReader();
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  while (reader) {
    const { done, value } = await reader.read();
    if (done) break;
    bytes += value.byteLength;
    if (bytes > MAX_CATALOG_BYTES) {
      await reader.cancel();
      throw fail(`larger than ${MAX_CATALOG_BYTES} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}
