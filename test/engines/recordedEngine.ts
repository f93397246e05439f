import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";

/** One request as the recorded engine saw it. */
export interface SeenRequest {
  method: string;
  path: string;
  headers: IncomingMessage["headers"];
  body: unknown;
}

/** A route: answers one request (write to `res` as the real engine would), or returns false to fall through. */
export type Route = (req: SeenRequest, res: ServerResponse) => void | boolean | Promise<void | boolean>;

/**
 * A loopback HTTP server that replays an engine's documented wire shapes (RECORDED CONTRACTS: Ollama, vLLM and
 * LM Studio cannot run here; their shapes come from ../shared/design/ENGINE-PROTOCOLS.md and their docs) and
 * injects faults. Routes are tried in order by `METHOD /path`; anything unmatched is a 404 like a real server's.
 */
export class RecordedEngine {
  readonly seen: SeenRequest[] = [];
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();

  constructor(private routes: Record<string, Route>) {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.on("connection", (s) => {
      this.sockets.add(s);
      s.on("close", () => this.sockets.delete(s));
    });
  }

  /** Replace the routes (a test switching the fault it injects). */
  set(routes: Record<string, Route>): void {
    this.routes = routes;
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString("utf8");
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = text;
    }
    const seen: SeenRequest = { method: req.method ?? "GET", path: req.url ?? "/", headers: req.headers, body };
    this.seen.push(seen);
    const route = this.routes[`${seen.method} ${seen.path.split("?")[0]}`];
    if (route && (await route(seen, res)) !== false) return;
    if (!res.headersSent) json(res, 404, { error: { message: `File Not Found`, type: "not_found_error" } });
  }
}

/** Write a JSON answer. */
export function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(body));
}

/** Write an SSE stream of `events` (objects are JSON-encoded; strings are written as raw lines). */
export function sse(res: ServerResponse, events: Array<object | string>, done = true): void {
  res.writeHead(200, { "content-type": "text/event-stream" });
  for (const e of events) res.write(typeof e === "string" ? `${e}\n` : `data: ${JSON.stringify(e)}\n\n`);
  if (done) res.end("data: [DONE]\n\n");
}

/** Write an NDJSON stream (Ollama's native API): one JSON object per line. */
export function ndjson(res: ServerResponse, lines: object[]): void {
  res.writeHead(200, { "content-type": "application/x-ndjson" });
  for (const line of lines) res.write(`${JSON.stringify(line)}\n`);
  res.end();
}

/** An OpenAI-style chat chunk carrying `delta`. */
export function chunk(delta: Record<string, unknown>, finish: string | null = null): object {
  return { id: "c", object: "chat.completion.chunk", choices: [{ index: 0, delta, finish_reason: finish }] };
}
