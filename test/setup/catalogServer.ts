/**
 * A loopback model host for the first-run tests: it serves GGUF files the way the Hugging Face hub does
 * (`/<org>/<repo>/resolve/main/<file>` with byte ranges, and the LFS facts `x-linked-etag` (sha256) and
 * `x-linked-size` on every answer) plus a catalog JSON whose entries point at them. The sidecar reaches it through
 * `HF_ENDPOINT`, which node-llama-cpp's downloader and Hearth's hub check both read, so the real `hf:` download path
 * runs. Files served with `cutOnce` answer their first full GET with half the body and then drop the connection.
 * Files are served by @fastify/static (ranges, HEAD, ETag).
 */
import { createHash } from "node:crypto";
import { createReadStream, readFileSync, statSync } from "node:fs";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import Fastify, { type FastifyInstance } from "fastify";
import fastifyStatic from "@fastify/static";

/** One file the host serves, as `hf:<org>/<repo>/<name>`. */
export interface HostedFile {
  /** `org/repo`. */
  repo: string;
  /** File name in the repo. */
  name: string;
  /** The local file served. */
  source: string;
  /** Drop the connection halfway through the first full GET. */
  cutOnce?: boolean;
  /** Report this sha256 as the hub's (`x-linked-etag`) instead of the file's real one. */
  reportedSha256?: string;
}

export interface CatalogHost {
  url: string;
  /** Every request: method, path and Range header. */
  requests: Array<{ method: string; url: string; range?: string }>;
  /** `hf:<repo>/<name>` of a hosted file. */
  uri(file: HostedFile): string;
  /** The real sha256 and size of a hosted file. */
  facts(file: HostedFile): { sha256: string; sizeBytes: number };
  close(): Promise<void>;
}

/** Starts the host on 127.0.0.1 (a free port). `catalog` is served at `/catalog.json` (built once the URL is known). */
export async function startCatalogHost(
  files: HostedFile[],
  catalog: (host: CatalogHost) => unknown,
): Promise<CatalogHost> {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), "hearth-hub-"));
  const facts = new Map<string, { sha256: string; sizeBytes: number; file: HostedFile }>();
  for (const f of files) {
    const target = path.join(root, ...f.repo.split("/"), "resolve", "main", f.name);
    await fs.mkdir(path.dirname(target), { recursive: true });
    await fs.copyFile(f.source, target);
    const sha256 = createHash("sha256").update(readFileSync(f.source)).digest("hex");
    facts.set(`/${f.repo}/resolve/main/${f.name}`, { sha256, sizeBytes: statSync(f.source).size, file: f });
  }
  const requests: CatalogHost["requests"] = [];
  const cut = new Set<string>();
  const app: FastifyInstance = Fastify({ logger: false });
  app.addHook("onRequest", async (request, reply) => {
    const range = request.headers.range;
    requests.push({ method: request.method, url: request.url, ...(range ? { range } : {}) });
    const known = facts.get(decodeURIComponent(request.url.split("?")[0]!));
    if (!known) return;
    void reply.header("x-linked-etag", `"${known.file.reportedSha256 ?? known.sha256}"`);
    void reply.header("x-linked-size", String(known.sizeBytes));
    if (known.file.cutOnce && request.method === "GET" && !range && !cut.has(request.url.split("?")[0]!)) {
      cut.add(request.url.split("?")[0]!);
      // Half the body, then the connection drops: what a flaky network does mid-download.
      const raw = reply.raw;
      raw.writeHead(200, {
        "content-length": String(known.sizeBytes),
        "content-type": "application/octet-stream",
        "accept-ranges": "bytes",
      });
      const half = Math.floor(known.sizeBytes / 2);
      const stream = createReadStream(path.join(root, decodeURIComponent(request.url.split("?")[0]!)), {
        start: 0,
        end: half - 1,
      });
      stream.on("end", () => setTimeout(() => raw.socket?.destroy(), 20));
      stream.pipe(raw, { end: false });
      return reply.hijack();
    }
  });
  let catalogJson = "{}";
  app.get("/catalog.json", async (_request, reply) => reply.type("application/json").send(catalogJson));
  await app.register(fastifyStatic, { root, serve: true, acceptRanges: true, cacheControl: false, etag: true });
  await app.listen({ host: "127.0.0.1", port: 0 });
  const address = app.server.address() as { port: number };
  const host: CatalogHost = {
    url: `http://127.0.0.1:${address.port}`,
    requests,
    uri: (f) => `hf:${f.repo}/${f.name}`,
    facts: (f) => {
      const known = facts.get(`/${f.repo}/resolve/main/${f.name}`)!;
      return { sha256: known.sha256, sizeBytes: known.sizeBytes };
    },
    close: async () => {
      await app.close();
      await fs.rm(root, { recursive: true, force: true });
    },
  };
  catalogJson = JSON.stringify(catalog(host));
  return host;
}
