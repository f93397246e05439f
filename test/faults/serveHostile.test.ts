import http from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HearthServer } from "../../common/serve/HearthServer";
import type { SidecarProcess } from "../../common/sidecar/SidecarProcess";
import type { ModelInfo } from "../../shared/protocol";
import { spawnSidecar } from "../sidecar/helpers";
import { testModel } from "../testModels";

/*
 * Issue 31, M1 and M2: `hearth serve` (and VS Code's Start Local API Server) under a hostile web page and a
 * careless client. The real sidecar with stories260K behind the real HTTP server; loopback only.
 */

/** A raw HTTP request to the loopback server with a Host header of our choosing (fetch cannot set it). */
function raw(
  url: string,
  path: string,
  headers: Record<string, string>,
  body?: string,
): Promise<{ status: number; text: string }> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: "127.0.0.1", port: Number(port), path, method: body ? "POST" : "GET", headers },
      (res) => {
        let text = "";
        res.on("data", (d: Buffer) => (text += d.toString()));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on("error", reject);
    req.setTimeout(30_000, () => req.destroy(new Error("timed out")));
    req.end(body);
  });
}

describe("fault suite: hearth serve against DNS rebinding and shared request ids", () => {
  let sidecar: SidecarProcess;
  let server: HearthServer;
  let url: string;

  beforeAll(async () => {
    ({ sidecar } = await spawnSidecar());
    const chat = await sidecar.request("model/load", {
      role: "chat",
      model: { uri: await testModel("stories260K") },
      contextSize: 512,
    });
    const models: Partial<Record<"chat", ModelInfo>> = { chat };
    server = new HearthServer({ api: sidecar, models: () => models, loading: () => false, port: 0 });
    url = await server.listen();
  });
  afterAll(async () => {
    await server?.close();
    await sidecar?.stop();
  });

  it("without a key, a request whose Host is not a loopback name is refused with 403; loopback names pass", async () => {
    for (const host of ["evil.example", "evil.example:8012", "127.0.0.1.nip.io", "localhost.evil.example"]) {
      const r = await raw(url, "/props", { host });
      expect(r.status, host).toBe(403);
      expect(r.text).toMatch(/is not a loopback name/);
      expect(r.text).not.toMatch(/stories260K/); // the model's path (the user's name) does not leak
    }
    for (const host of ["127.0.0.1", `127.0.0.1:${new URL(url).port}`, "localhost:1", "[::1]:8012"]) {
      expect((await raw(url, "/props", { host })).status, host).toBe(200);
    }
  });

  it("a web page's request (Origin not loopback) is refused with 403 before it runs; JSON without a content type is read, as Ollama's clients send it (issue 32)", async () => {
    const body = JSON.stringify({
      model: "x",
      messages: [{ role: "user", content: "Once upon a time" }],
      stream: false,
      options: { num_predict: 2 },
    });
    // A "simple" cross-origin POST: text/plain, no preflight — the page cannot read the answer, but it must not run.
    const before = await (await fetch(`${url}/metrics`)).text();
    for (const route of ["/api/chat", "/v1/chat/completions"]) {
      const r = await raw(url, route, { origin: "https://evil.example", "content-type": "text/plain" }, body);
      expect(r.status, route).toBe(403);
      expect(r.text).toMatch(/Origin 'https:\/\/evil.example' is not allowed/);
    }
    const generated = async () =>
      Number(
        /hearth_completion_tokens_total\{role="chat"\} (\d+)/.exec(await (await fetch(`${url}/metrics`)).text())?.[1] ??
          0,
      );
    const refused = await generated();
    expect(refused).toBe(Number(/hearth_completion_tokens_total\{role="chat"\} (\d+)/.exec(before)?.[1] ?? 0));
    // A page on a loopback host, and a tool with no Origin and no content type (curl -d), are answered.
    const local = await raw(url, "/api/chat", { origin: "http://localhost:3000" }, body);
    expect(local.status).toBe(200);
    expect(await generated()).toBeGreaterThan(refused);
    const curl = await raw(url, "/api/chat", {}, body);
    expect(curl.status).toBe(200);
    expect(JSON.parse(curl.text)).toMatchObject({ done: true });
    // Not JSON at all: a 400, not a 415 or a 500.
    expect((await raw(url, "/api/chat", { "content-type": "text/plain" }, "hello")).status).toBe(400);
  });

  it("unsafe options are refused before anything listens (issue 31, m6); [::1] as written in a URL listens", async () => {
    const make = (extra: Partial<ConstructorParameters<typeof HearthServer>[0]>) =>
      new HearthServer({ api: sidecar, models: () => ({}), loading: () => false, port: 0, ...extra });
    expect(() => make({ host: "0.0.0.0" })).toThrow(/exposes the models to the network: give an API key/);
    expect(() => make({ host: "0.0.0.0", apiKey: "k" })).toThrow(/1-character API key is too easy to guess/);
    expect(() => make({ cors: "*" })).toThrow(/CORS for every origin without an API key/);
    expect(() => make({ maxQueue: 0 })).toThrow(/at least one request per model, not 0/);
    expect(() => make({ host: "0.0.0.0", apiKey: "x".repeat(24), cors: "*" })).not.toThrow();
    const v6 = make({ host: "[::1]" });
    try {
      expect(await v6.listen()).toMatch(/^http:\/\/\[::1\]:\d+$/);
    } finally {
      await v6.close();
    }
  });

  it("a client that sends its body slowly is answered 408 at the request timeout, not held (issue 31, m2)", async () => {
    const slow = new HearthServer({
      api: sidecar,
      models: () => ({}),
      loading: () => false,
      port: 0,
      requestTimeoutMs: 1_000,
    });
    const slowUrl = await slow.listen();
    let req: http.ClientRequest | undefined;
    try {
      const started = Date.now();
      const status = await new Promise<number | string>((resolve) => {
        req = http.request(
          {
            host: "127.0.0.1",
            port: Number(new URL(slowUrl).port),
            path: "/v1/embeddings",
            method: "POST",
            headers: { "content-type": "application/json", "content-length": "1000" },
          },
          (res) => resolve(res.statusCode ?? 0),
        );
        req.on("error", (e) => resolve(`closed (${e.message})`));
        req.write('{"input": "');
        setTimeout(() => resolve("still open after 8 s"), 8_000);
      });
      expect(String(status)).toMatch(/^(408|closed)/);
      expect(Date.now() - started).toBeLessThan(6_000);
    } finally {
      req?.destroy();
      await Promise.race([slow.close(), new Promise((resolve) => setTimeout(resolve, 5_000))]);
    }
  });

  it("valid JSON of an unexpected shape is a 400 naming the field, once — not a 500 (issue 31, m3, m7)", async () => {
    const post = async (body: unknown) => {
      const r = await raw(
        url,
        "/v1/chat/completions",
        { host: "127.0.0.1", "content-type": "application/json" },
        JSON.stringify(body),
      );
      return { status: r.status, json: JSON.parse(r.text) as { error: { message: string; param: string | null } } };
    };
    const calls = await post({
      messages: [
        { role: "assistant", content: "", tool_calls: "x" },
        { role: "user", content: "hi" },
      ],
      max_tokens: 1,
    });
    expect(calls.status).toBe(400);
    expect(calls.json.error).toMatchObject({
      message: "Invalid request: messages/0/tool_calls must be array.",
      param: "messages.0.tool_calls",
    });
    const tools = await post({ messages: [{ role: "user", content: "hi" }], tools: [{ type: "function" }] });
    expect(tools.status).toBe(400);
    expect(tools.json.error.param).toBe("tools.0");
    let deep: object = { type: "string" };
    for (let i = 0; i < 100; i++) deep = { type: "object", properties: { a: deep } };
    const schema = await post({
      messages: [{ role: "user", content: "hi" }],
      max_tokens: 1,
      response_format: { type: "json_schema", json_schema: { name: "x", schema: deep } },
    });
    expect(schema.status).toBe(400);
    expect(schema.json.error.message).toMatch(/must be at most 32 levels deep/);
    // The client's own names, never the sidecar's (`responseSchema`, `tools[0].parameters`).
    expect(schema.json.error.message).toMatch(/^'response_format\.json_schema\.schema(\.properties\.a)+' must/);
    expect(schema.json.error.param).toMatch(/^response_format\.json_schema\.schema\.properties/);
    const enumValues = Array.from({ length: 1001 }, (_, i) => `v${i}`);
    const toolEnum = await post({
      messages: [{ role: "user", content: "hi" }],
      max_tokens: 1,
      tools: [
        { type: "function", function: { name: "pick", parameters: { properties: { x: { enum: enumValues } } } } },
      ],
    });
    expect(toolEnum.status).toBe(400);
    expect(toolEnum.json.error).toMatchObject({
      message: "'tools[0].function.parameters.properties.x.enum' must be at most 1000 values.",
      param: "tools[0].function.parameters.properties.x.enum",
    });
  });

  it("two requests with the same x-request-id each get their own answer, as they would alone", async () => {
    const ask = (content: string) =>
      raw(
        url,
        "/v1/chat/completions",
        { host: "127.0.0.1", "content-type": "application/json", "x-request-id": "same-id" },
        JSON.stringify({ messages: [{ role: "user", content }], max_tokens: 24, temperature: 0, stream: true }),
      );
    const text = (sse: string) =>
      sse
        .split("\n")
        .filter((l) => l.startsWith("data: {"))
        .map((l) => (JSON.parse(l.slice(6)) as { choices: Array<{ delta: { content?: string } }> }).choices[0]!)
        .map((c) => c.delta.content ?? "")
        .join("");
    const alone = [text((await ask("Once upon a time")).text), text((await ask("The dog")).text)];
    expect(alone[0]).not.toBe(alone[1]);
    const together = await Promise.all([ask("Once upon a time"), ask("The dog")]);
    expect(together.map((r) => text(r.text))).toEqual(alone);
  });
});
