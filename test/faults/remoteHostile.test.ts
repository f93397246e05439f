import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SidecarProcess } from "../../common/sidecar/SidecarProcess";
import { ErrorCodes } from "../../shared/protocol";
import { errorOf, spawnSidecar, type LogLine } from "../sidecar/helpers";

/*
 * Issue 31, M9, M10, m16 and m17: a misbehaving engine or proxy on loopback, through the real sidecar's remote
 * engine. A recorded-contract style server (it answers the OpenAI routes' shapes, badly on purpose), not a real
 * engine: what it sends is what a broken proxy or a hostile server could. Every wait here is bounded.
 */
type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

describe("fault suite: a misbehaving remote engine cannot hold or grow the sidecar", () => {
  let sidecar: SidecarProcess;
  let logs: LogLine[];
  let server: http.Server;
  let base: string;
  let chat: Handler = () => {};
  const open = new Set<http.ServerResponse>();
  const silent: string[] = [];

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      open.add(res);
      res.on("close", () => open.delete(res));
      if (req.url?.startsWith("/silent/")) {
        silent.push(req.url);
        return; // accepts, never answers (held in `open`, destroyed at the end)
      }
      if (/^(\/redirect)?\/v1\/models/.test(req.url ?? "")) {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ data: [{ id: "m", max_model_len: 2048 }] }));
      } else if (req.url?.startsWith("/redirect/v1/chat/")) {
        res.writeHead(307, { location: "http://attacker.example/v1/chat/completions" });
        res.end();
      } else chat(req, res);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    // A 2 s idle limit, so the stalls below end in seconds.
    ({ sidecar, logs } = await spawnSidecar({}, { engineTimeoutMs: 2_000 }));
  });
  afterAll(async () => {
    await sidecar?.stop();
    for (const res of open) res.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  const load = (url: string) =>
    sidecar.request("model/load", { role: "chat", model: { uri: "m", engine: { url, kind: "openai" } } });
  const send = () => sidecar.request("chat/send", { streamId: "remote", messages: [{ role: "user", content: "hi" }] });

  it("an SSE line that never ends is cut at the event bound, not read into memory", async () => {
    chat = (_req, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      const block = "x".repeat(256 * 1024);
      let sent = 0;
      const timer = setInterval(() => {
        // 6 MiB of one "data:" line without a newline, then silence (bounded: the test's server stops too).
        if (sent++ >= 24 || res.destroyed) return clearInterval(timer);
        res.write(sent === 1 ? `data: ${block}` : block);
      }, 5);
    };
    await load(base);
    const error = await errorOf(send());
    expect(error.code).toBe(ErrorCodes.EngineUnavailable);
    expect(error.message).toMatch(/sent over 4 MiB of the chat answer without ending an event/);
  });

  it("keep-alive comments without data do not hold a request: the idle limit counts data only", async () => {
    chat = (_req, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      const timer = setInterval(() => (res.destroyed ? clearInterval(timer) : res.write(": ping\n\n")), 200);
      setTimeout(() => clearInterval(timer), 20_000);
    };
    await load(base);
    const started = Date.now();
    const error = await errorOf(send());
    expect(error.code).toBe(ErrorCodes.EngineUnavailable);
    expect(error.message).toMatch(/stopped sending the chat answer \(no data for 2 s\)/);
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it("an engine that keeps sending empty events is stopped after about max_tokens worth of time (issue 31, M10)", async () => {
    chat = (_req, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      // Data (so the idle limit never fires) without a token or an end: a stuck engine or a looping proxy.
      const empty = `data: ${JSON.stringify({ choices: [{ index: 0, delta: {} }] })}\n\n`;
      const timer = setInterval(() => (res.destroyed ? clearInterval(timer) : res.write(empty)), 100);
      setTimeout(() => clearInterval(timer), 20_000);
    };
    await load(base);
    const error = await errorOf(
      sidecar.request("chat/send", {
        streamId: "remote",
        messages: [{ role: "user", content: "hi" }],
        params: { maxTokens: 1 },
      }),
    );
    expect(error.code).toBe(ErrorCodes.EngineUnavailable);
    // 2 s first-byte limit + 1 token × 2 s, not the 30 min overall limit.
    expect(error.message).toMatch(/was still sending the chat answer after 4 s; it was stopped there/);
  });

  it("a redirect is not followed: the error names where it pointed", async () => {
    chat = (_req, res) => res.writeHead(500).end();
    await load(`${base}/redirect`); // its model list answers; its chat route redirects
    const error = await errorOf(send());
    expect(error.code).toBe(ErrorCodes.EngineUnavailable);
    expect(error.message).toMatch(
      /redirected the chat request \(307\) to http:\/\/attacker\.example\/v1\/chat\/completions/,
    );
  });

  it("credentials in the engine URL go as Basic auth and never into a message or the log; its query string is kept", async () => {
    const seen: Array<{ url?: string; authorization?: string }> = [];
    chat = (req, res) => {
      seen.push({ url: req.url, authorization: req.headers.authorization });
      res.writeHead(502, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: { message: "upstream down" } }));
    };
    const url = `http://alice:s3cret@127.0.0.1:${new URL(base).port}/?tenant=t1`;
    await load(url);
    const error = await errorOf(send());
    expect(error.message).toMatch(/answered the chat request with 502: upstream down/);
    expect(`${error.message} ${error.hint ?? ""}`).not.toMatch(/s3cret|alice|tenant/);
    expect(logs.map((l) => l.message).join("\n")).not.toMatch(/s3cret/);
    expect(seen.at(-1)).toEqual({
      url: "/v1/chat/completions?tenant=t1",
      authorization: `Basic ${Buffer.from("alice:s3cret").toString("base64")}`,
    });
  });

  it("a 200 web page (a login page, a proxy's portal) is named as such (issue 31, m18)", async () => {
    chat = (_req, res) =>
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end("<html>Sign in</html>");
    await load(base);
    const error = await errorOf(send());
    expect(error.code).toBe(ErrorCodes.EngineUnavailable);
    expect(error.message).toMatch(/answered the chat request with a web page \(HTML\), not its API/);
  });

  it("an engine that never answers its model list fails the load with that, not after every later call (issue 31, m18)", async () => {
    silent.length = 0;
    const error = await errorOf(load(`${base}/silent`));
    expect(error.code).toBe(ErrorCodes.EngineUnavailable);
    expect(error.message).toMatch(/did not answer the model list request within 2 s/);
    // Nothing after the model list was asked: the load stopped at the first silence.
    expect(silent).toEqual(["/silent/v1/models"]);
  });
});
