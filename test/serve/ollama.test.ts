import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawnSidecar } from "../sidecar/helpers";
import { labModel, testModel } from "../testModels";
import { post, serve, stop } from "./helpers";

/*
 * `hearth serve` speaks Ollama's API (issue 32): the real CLI with the real sidecar and models (stories260K for
 * chat, the lab FIM and embedding models), checked three ways — Hearth's own Ollama engine client pointed at it (a
 * loop that must round-trip), raw NDJSON read line by line, and the requests Ollama's clients send, replayed from
 * their sources (Continue's core/llm/llms/Ollama.ts; Open WebUI's and VS Code's Ollama providers as documented in
 * ../shared/design/ENGINE-PROTOCOLS.md). Loopback only.
 */

type Json = Record<string, unknown>;

/** POST and read an NDJSON answer: every line parsed, in order. */
async function ndjson(url: string, body: unknown): Promise<{ status: number; type: string | null; lines: Json[] }> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  return {
    status: res.status,
    type: res.headers.get("content-type"),
    lines: text
      .split("\n")
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l) as Json),
  };
}

describe("hearth serve: Ollama's API on the same server (issue 32)", () => {
  let server: Awaited<ReturnType<typeof serve>>;
  let chatName: string;
  let fimName: string;

  beforeAll(async () => {
    server = await serve([
      "--model",
      await testModel("stories260K"),
      "--completion-model",
      labModel("code"),
      "--embedding-model",
      labModel("embedding"),
    ]);
    const tags = (await (await fetch(`${server.url}/api/tags`)).json()) as { models: Json[] };
    chatName = String(tags.models[0]!["name"]);
    fimName = String(tags.models[1]!["name"]);
  }, 120_000);
  afterAll(async () => {
    if (server) expect(await stop(server.child)).toBe(0);
  });

  it("discovery: GET /, /api/version, /api/tags, /api/ps and /api/show answer in Ollama's shapes", async () => {
    expect(await (await fetch(`${server.url}/`)).text()).toBe("Ollama is running");
    expect(((await (await fetch(`${server.url}/api/version`)).json()) as Json)["version"]).toMatch(/^\d+\.\d+\.\d+$/);
    const tags = (await (await fetch(`${server.url}/api/tags`)).json()) as { models: Json[] };
    // Chat first, then the FIM and embedding models; no reranker (Ollama has none to offer).
    expect(tags.models.map((m) => m["capabilities"])).toEqual([
      ["completion", "tools"],
      ["completion", "insert"],
      ["embedding"],
    ]);
    for (const m of tags.models) {
      expect(m["name"]).toBe(m["model"]);
      expect(m["size"]).toBeGreaterThan(0);
      expect(m["digest"]).toMatch(/^[0-9a-f]{64}$/);
      expect((m["details"] as Json)["format"]).toBe("gguf");
    }
    const ps = (await (await fetch(`${server.url}/api/ps`)).json()) as { models: Json[] };
    expect(ps.models[0]!["context_length"]).toBeGreaterThan(0);
    // `model`, or `name` as Continue sends it; `:latest` is the same model.
    const show = await post(`${server.url}/api/show`, { name: `${fimName}:latest` });
    expect(show.status).toBe(200);
    expect(String(show.json!["template"])).toContain(".Suffix");
    expect(show.json!["parameters"]).toMatch(/^num_ctx \d+$/);
    const info = show.json!["model_info"] as Json;
    const arch = String(info["general.architecture"]);
    expect(info[`${arch}.context_length`]).toBeGreaterThan(0);
    const missing = await post(`${server.url}/api/show`, { model: "llama3:8b" });
    expect(missing.status).toBe(404);
    expect(missing.json).toEqual({ error: "model 'llama3:8b' not found" });
  });

  it("Hearth's own Ollama engine client, pointed at hearth serve as kind 'ollama', round-trips FIM through /api/generate", async () => {
    const { sidecar } = await spawnSidecar();
    try {
      const engine = { url: server.url, kind: "ollama" as const };
      const loaded = await sidecar.request("model/load", { role: "completion", model: { uri: fimName, engine } });
      expect(loaded.engine?.kind).toBe("ollama");
      // The window Hearth allocated, read from /api/ps as from Ollama.
      const ps = (await (await fetch(`${server.url}/api/ps`)).json()) as { models: Json[] };
      expect(loaded.contextSize).toBe(ps.models[1]!["context_length"]);
      const prefix = "export function add(a, b) {\n  return ";
      const through = await sidecar.request("completion/infill", { prefix, suffix: "\n}\n", maxTokens: 8 });
      // The same request straight to /api/generate, as the client sends it (suffix: the insert capability).
      const direct = await post(`${server.url}/api/generate`, {
        model: fimName,
        prompt: prefix,
        suffix: "\n}\n",
        stream: false,
        options: { num_predict: 8, temperature: 0 },
      });
      expect(direct.status).toBe(200);
      expect(through.usage.promptTokens).toBe(direct.json!["prompt_eval_count"]);
      expect(through.text.length).toBeGreaterThan(0);
      expect(String(direct.json!["response"]).startsWith(through.text.split("\n")[0]!)).toBe(true);
    } finally {
      await sidecar.stop();
    }
  });

  it("/api/chat: an NDJSON stream by default whose pieces add up to the stream:false answer; num_predict and stop applied", async () => {
    const request = {
      model: chatName,
      messages: [
        { role: "system", content: "Tell a story." },
        { role: "user", content: "Once upon a time" },
      ],
      options: { num_predict: 24, temperature: 0 },
    };
    const streamed = await ndjson(`${server.url}/api/chat`, request);
    expect(streamed.status).toBe(200);
    expect(streamed.type).toBe("application/x-ndjson");
    const last = streamed.lines.at(-1)!;
    expect(streamed.lines.slice(0, -1).every((l) => l["done"] === false)).toBe(true);
    expect(last).toMatchObject({ done: true, done_reason: "length", eval_count: 24, load_duration: 0 });
    expect(last["prompt_eval_count"]).toBeGreaterThan(0);
    expect(last["total_duration"]).toBeGreaterThan(0);
    const joined = streamed.lines.map((l) => String((l["message"] as Json)["content"])).join("");
    const whole = await post(`${server.url}/api/chat`, { ...request, stream: false });
    expect(whole.json).toMatchObject({ model: chatName, done: true, message: { role: "assistant", content: joined } });
    // A stop string from the answer ends it before the string.
    const word = joined.split(" ").find((w, i) => i > 1 && w.length > 2)!;
    const stopped = await post(`${server.url}/api/chat`, {
      ...request,
      stream: false,
      options: { ...request.options, stop: [word] },
    });
    const content = String((stopped.json!["message"] as Json)["content"]);
    expect(joined.startsWith(content)).toBe(true);
    expect(content).not.toContain(word);
    expect(stopped.json!["done_reason"]).toBe("stop");
    // No messages: the model "loads" and answers at once, as Ollama does for a warm-up.
    const warm = await post(`${server.url}/api/chat`, { model: chatName, messages: [] });
    expect(warm.json).toMatchObject({ done: true, done_reason: "load" });
  });

  it("/api/chat: format 'json' and a schema give JSON; tools give tool_calls with object arguments", async () => {
    const json = await post(`${server.url}/api/chat`, {
      model: chatName,
      messages: [{ role: "user", content: "Give the city." }],
      format: { type: "object", properties: { city: { type: "string", maxLength: 20 } }, required: ["city"] },
      stream: false,
      options: { num_predict: 60, temperature: 0 },
    });
    expect(json.status).toBe(200);
    const value = JSON.parse(String((json.json!["message"] as Json)["content"])) as Json;
    expect(typeof value["city"]).toBe("string");
    const tools = await post(`${server.url}/api/chat`, {
      model: chatName,
      messages: [{ role: "user", content: "What is the weather in Paris?" }],
      tools: [
        {
          type: "function",
          function: {
            name: "get_weather",
            parameters: { type: "object", properties: { city: { type: "string", maxLength: 20 } }, required: ["city"] },
          },
        },
      ],
      stream: false,
      options: { num_predict: 200, temperature: 0 },
    });
    expect(tools.status).toBe(200);
    const calls = (tools.json!["message"] as { tool_calls?: Array<{ function: { name: string; arguments: Json } }> })
      .tool_calls;
    // The 260K-parameter model may answer in words ("auto"); when it calls, the call is Ollama-shaped.
    for (const call of calls ?? []) {
      expect(call.function.name).toBe("get_weather");
      expect(typeof call.function.arguments).toBe("object");
    }
    // A past call and its result, as an Ollama client sends them back (arguments as an object, tool_name).
    const after = await post(`${server.url}/api/chat`, {
      model: chatName,
      messages: [
        { role: "user", content: "What is the weather in Paris?" },
        {
          role: "assistant",
          content: "",
          tool_calls: [{ function: { name: "get_weather", arguments: { city: "Paris" } } }],
        },
        { role: "tool", content: "sunny", tool_name: "get_weather" },
      ],
      stream: false,
      options: { num_predict: 4 },
    });
    expect(after.status).toBe(200);
    expect(after.json!["done"]).toBe(true);
  });

  it("/api/generate: suffix is FIM (Continue's request), raw continues the prompt, a plain prompt goes to the chat model", async () => {
    // Continue's Ollama provider, _streamFim: prompt = prefix, suffix, options, keep_alive, stream (raw unset).
    const continueFim = await ndjson(`${server.url}/api/generate`, {
      model: fimName,
      prompt: "export function add(a, b) {\n  return ",
      suffix: "\n}\n",
      options: { temperature: 0.01, num_predict: 16, stop: ["\n\n"], num_ctx: 8192 },
      keep_alive: 1800,
      stream: true,
    });
    expect(continueFim.status).toBe(200);
    expect(continueFim.lines.at(-1)).toMatchObject({ done: true, model: fimName });
    expect(continueFim.lines.map((l) => l["response"]).join("")).not.toContain("\n\n");
    // raw: the prompt continued as it is, by the completion model; the same text streamed and whole.
    const rawBody = { model: fimName, prompt: "function ", raw: true, options: { num_predict: 8, temperature: 0 } };
    const raw = await ndjson(`${server.url}/api/generate`, rawBody);
    const rawWhole = await post(`${server.url}/api/generate`, { ...rawBody, stream: false });
    expect(rawWhole.json).toMatchObject({ done: true, eval_count: 8, done_reason: "length" });
    expect(raw.lines.map((l) => l["response"]).join("")).toBe(rawWhole.json!["response"]);
    // A prompt to answer, with a system prompt: the chat model's template applies.
    const chat = await post(`${server.url}/api/generate`, {
      model: chatName,
      prompt: "Once upon a time",
      system: "Tell a story.",
      stream: false,
      options: { num_predict: 6, temperature: 0 },
    });
    expect(chat.json).toMatchObject({ model: chatName, done: true, eval_count: 6 });
    expect(String(chat.json!["response"]).length).toBeGreaterThan(0);
    // Empty prompt: a load, answered at once.
    expect((await post(`${server.url}/api/generate`, { model: chatName })).json).toMatchObject({ done_reason: "load" });
  });

  it("/api/embed and /api/embeddings give the vectors /v1/embeddings gives; dimensions keeps the first ones, normalised", async () => {
    const input = ["function add(a, b)", "the weather in Paris"];
    const v1 = await post(`${server.url}/v1/embeddings`, { input });
    const openai = (v1.json!["data"] as Array<{ embedding: number[] }>).map((d) => d.embedding);
    const embed = await post(`${server.url}/api/embed`, { model: "nomic-embed-text", input });
    expect(embed.status).toBe(200);
    const vectors = embed.json!["embeddings"] as number[][];
    expect(vectors).toEqual(openai);
    expect(embed.json!["prompt_eval_count"]).toBeGreaterThan(0);
    const legacy = await post(`${server.url}/api/embeddings`, { model: "x", prompt: input[0] });
    expect(legacy.json!["embedding"]).toEqual(openai[0]);
    const cut = await post(`${server.url}/api/embed`, { input: input[0], dimensions: 8 });
    const short = (cut.json!["embeddings"] as number[][])[0]!;
    expect(short).toHaveLength(8);
    expect(Math.hypot(...short)).toBeCloseTo(1, 5);
    const tooMany = await post(`${server.url}/api/embed`, { input: input[0], dimensions: 100_000 });
    expect(tooMany.status).toBe(400);
    expect(String(tooMany.json!["error"])).toContain("dimensions");
  });

  it("errors are Ollama's {error}: a bad body 400, model management 501, a prompt over the window 400 before a stream begins", async () => {
    const bad = await post(`${server.url}/api/chat`, { model: chatName, messages: "hello" });
    expect(bad.status).toBe(400);
    expect(Object.keys(bad.json!)).toEqual(["error"]);
    expect(String(bad.json!["error"])).toContain("messages");
    const pull = await post(`${server.url}/api/pull`, { model: "llama3" });
    expect(pull.status).toBe(501);
    expect(String(pull.json!["error"])).toContain("hearth models");
    const images = await post(`${server.url}/api/generate`, { model: chatName, prompt: "hi", images: ["AAAA"] });
    expect(images.status).toBe(400);
    // Far over stories260K's window: refused with a status, not a 200 stream that ends in an error line.
    const long = await ndjson(`${server.url}/api/chat`, {
      model: chatName,
      messages: [{ role: "user", content: "word ".repeat(20_000) }],
    });
    expect(long.status).toBe(400);
    expect(Object.keys(long.lines[0]!)).toEqual(["error"]);
  });

  it("Open WebUI's /api/chat request (stream, options, keep_alive) and VS Code's Ollama discovery (version, tags, show capabilities)", async () => {
    // Open WebUI forwards the chat as Ollama's /api/chat with its options and keep_alive.
    const webui = await ndjson(`${server.url}/api/chat`, {
      model: chatName,
      messages: [{ role: "user", content: "Once upon a time" }],
      stream: true,
      options: { temperature: 0.8, top_p: 0.9, top_k: 40, num_predict: 8, seed: 42 },
      keep_alive: "5m",
    });
    expect(webui.status).toBe(200);
    expect(webui.lines.at(-1)).toMatchObject({ done: true, eval_count: 8 });
    // Seeded sampling: the same seed gives the same answer.
    const again = await ndjson(`${server.url}/api/chat`, {
      model: chatName,
      messages: [{ role: "user", content: "Once upon a time" }],
      options: { temperature: 0.8, top_p: 0.9, top_k: 40, num_predict: 8, seed: 42 },
    });
    const text = (r: { lines: Json[] }) => r.lines.map((l) => String((l["message"] as Json)["content"])).join("");
    expect(text(again)).toBe(text(webui));
    // VS Code's Ollama provider: a version it accepts, the model list, and per model its capabilities and window.
    const [major, minor] = String(((await (await fetch(`${server.url}/api/version`)).json()) as Json)["version"])
      .split(".")
      .map(Number);
    expect(major! > 0 || minor! >= 6).toBe(true);
    const show = await post(`${server.url}/api/show`, { model: chatName });
    expect(show.json!["capabilities"]).toContain("tools");
    const arch = String((show.json!["model_info"] as Json)["general.architecture"]);
    expect((show.json!["model_info"] as Json)[`${arch}.context_length`]).toBeGreaterThan(0);
  });
});
