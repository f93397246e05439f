/**
 * The model catalogs the first-run tests serve (test/setup, the VS Code integration suite, the UI test): entries
 * in the catalog format (sidecar/setup/catalog.ts) for the project's real test models — stories260K for chat and
 * the lab's FIM, embedding and reranker models — with each file's real size and sha256.
 */
import { createHash } from "node:crypto";
import { createReadStream, readFileSync, statSync } from "node:fs";
import http from "node:http";
import path from "node:path";

/** A model the catalog lists: its id and role, the local file, the URI the catalog gives for it. */
export interface FixtureEntry {
  id: string;
  role: "chat" | "completion" | "embedding" | "rerank";
  /** The local file (its size and sha256 go into the entry). */
  file: string;
  uri: string;
  parameters: number;
  /** Give the file's sha256 (default true); without it a download is checked against the hub's. */
  sha256?: boolean;
}

/** One catalog entry for `e`; a completion model gets the Qwen FIM family. */
export function catalogEntry(e: FixtureEntry) {
  return {
    id: e.id,
    name: `${e.id} (test fixture)`,
    roles: [e.role],
    uri: e.uri,
    revision: null,
    sizeBytes: statSync(e.file).size,
    sha256: e.sha256 === false ? null : createHash("sha256").update(readFileSync(e.file)).digest("hex"),
    license: null,
    trainedContext: null,
    parameters: e.parameters,
    quantization: "F32",
    ...(e.role === "completion" ? { fimTemplate: "qwen" } : {}),
    sources: { uri: "test fixture", parameters: "the GGUF header", sizeBytes: "the file", sha256: "the file" },
  };
}

/** A catalog of `entries`. */
export function fixtureCatalog(entries: FixtureEntry[]) {
  return { format: "hearth-catalog", version: 1, models: entries.map(catalogEntry) };
}

/**
 * A minimal loopback file host (full GET and HEAD, no ranges): `<url>/catalog.json` is `catalog(url)`, `<url>/<name>`
 * the file `files[name]`.
 */
export async function serveFixtures(
  files: Record<string, string>,
  catalog: (url: string) => unknown,
): Promise<{ url: string; close(): Promise<void> }> {
  let catalogJson = "";
  const server = http.createServer((req, res) => {
    const name = decodeURIComponent((req.url ?? "/").split("?")[0]!.slice(1));
    if (name === "catalog.json")
      return void res.writeHead(200, { "content-type": "application/json" }).end(catalogJson);
    const file = files[name];
    if (!file) return void res.writeHead(404).end();
    res.writeHead(200, { "content-length": String(statSync(file).size), "content-type": "application/octet-stream" });
    if (req.method === "HEAD") return void res.end();
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  catalogJson = JSON.stringify(catalog(url));
  return { url, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/**
 * The four roles' fixture models, served as `<base>/<name>` by a plain file host: name → local file, the catalog
 * whose URIs point there, and `serve()`, which starts that host.
 */
export function fourRoleFixtures(stories: string, labDir: string) {
  const models = [
    { id: "stories-260k", role: "chat", name: "stories260K.gguf", file: stories, parameters: 292_800 },
    {
      id: "lab-fim",
      role: "completion",
      name: "lab-fim.gguf",
      file: path.join(labDir, "hearth-lab-code-fim.gguf"),
      parameters: 1_300_000,
    },
    {
      id: "lab-embedding",
      role: "embedding",
      name: "lab-embedding.gguf",
      file: path.join(labDir, "hearth-lab-embedding.gguf"),
      parameters: 1_200_000,
    },
    {
      id: "lab-reranker",
      role: "rerank",
      name: "lab-reranker.gguf",
      file: path.join(labDir, "hearth-lab-reranker.gguf"),
      parameters: 1_200_000,
    },
  ] as const;
  const files = Object.fromEntries(models.map((m) => [m.name, m.file])) as Record<string, string>;
  const catalog = (base: string) =>
    fixtureCatalog(
      models.map(({ id, role, name, file, parameters }) => ({ id, role, file, parameters, uri: `${base}/${name}` })),
    );
  return { files, catalog, serve: () => serveFixtures(files, catalog) };
}
