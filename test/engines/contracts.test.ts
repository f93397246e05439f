import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ChatController } from "../../common/chat/ChatController";
import type { SidecarProcess } from "../../common/sidecar/SidecarProcess";
import { ErrorCodes, type ChatDeltaParams, type EngineKind } from "../../shared/protocol";
import { errorOf, spawnSidecar, type LogLine } from "../sidecar/helpers";
import { chunk, json, ndjson, RecordedEngine, sse, type Route } from "./recordedEngine";

/*
 * RECORDED CONTRACTS: Ollama, vLLM, LM Studio and a generic OpenAI-compatible server replayed from their
 * documented wire shapes (../shared/design/ENGINE-PROTOCOLS.md) by a loopback server, through the real sidecar;
 * and the faults of issue 17 §3 injected by the same server. The real llama-server is in llamaServer.test.ts.
 */

const user = (content: string) => ({ role: "user" as const, content });

/** Poll `ok` every 20 ms for up to 3 s. */
async function waitUntil(ok: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 150 && !ok(); i++) await new Promise((r) => setTimeout(r, 20));
  if (!ok()) throw new Error(`timed out waiting until ${what}`);
}

/** Ollama (recorded): `/api/version`, `/v1/models`, chat chunks with `reasoning`, then a finish-only chunk and a usage chunk. */
const OLLAMA: Record<string, Route> = {
  "GET /api/version": (_q, res) => json(res, 200, { version: "0.12.6" }),
  "GET /v1/models": (_q, res) =>
    json(res, 200, { object: "list", data: [{ id: "qwen3:8b", object: "model", owned_by: "library" }] }),
  "GET /api/ps": (_q, res) =>
    json(res, 200, { models: [{ name: "qwen3:8b", model: "qwen3:8b", size: 6_000_000_000, context_length: 8192 }] }),
  "POST /v1/chat/completions": (_q, res) =>
    sse(res, [
      chunk({ role: "assistant", content: "", reasoning: "The user greets; " }),
      chunk({ content: "Hello" }),
      chunk({ content: " there" }),
      chunk({}, "stop"),
      { id: "c", object: "chat.completion.chunk", choices: [], usage: { prompt_tokens: 11, completion_tokens: 2 } },
    ]),
  "POST /v1/embeddings": (q, res) => {
    const input = (q.body as { input: string[] }).input;
    json(res, 200, { data: input.map((_, i) => ({ index: i, embedding: [3, 4, 0] })), usage: { prompt_tokens: 5 } });
  },
};

/** vLLM (recorded): `/v1/models` owned by vllm with `max_model_len`, `reasoning` deltas, `/v1/rerank` with documents. */
const VLLM: Record<string, Route> = {
  "GET /v1/models": (_q, res) =>
    json(res, 200, {
      object: "list",
      data: [{ id: "Qwen/Qwen3-8B", object: "model", owned_by: "vllm", max_model_len: 32768 }],
    }),
  "POST /v1/chat/completions": (_q, res) =>
    sse(res, [
      chunk({ role: "assistant", reasoning: "thinking…" }),
      chunk({ content: "Forty-two." }),
      { ...chunk({}, "length"), usage: { prompt_tokens: 9, completion_tokens: 3 } },
    ]),
  "POST /v1/rerank": (q, res) => {
    const docs = (q.body as { documents: string[] }).documents;
    const results = docs.map((d, index) => ({ index, document: { text: d }, relevance_score: 1 / (index + 1) }));
    json(res, 200, { id: "r", results: results.reverse() });
  },
};

/**
 * LM Studio (recorded): `/api/v0/models` with `type` and `max_context_length`; 0.4's `/api/v1/models` with the
 * loaded instance's `context_length`; chat with inline `<think>`.
 */
const LMSTUDIO: Record<string, Route> = {
  "GET /api/v0/models": (_q, res) =>
    json(res, 200, { data: [{ id: "qwen2.5-7b-instruct", type: "llm", max_context_length: 32768 }] }),
  "GET /api/v1/models": (_q, res) =>
    json(res, 200, {
      models: [
        {
          type: "llm",
          key: "qwen2.5-7b-instruct",
          loaded_instances: [{ id: "qwen2.5-7b-instruct", config: { context_length: 8192 } }],
          max_context_length: 32768,
          format: "gguf",
        },
      ],
    }),
  "GET /v1/models": (_q, res) =>
    json(res, 200, { data: [{ id: "qwen2.5-7b-instruct", owned_by: "organization_owner" }] }),
  "POST /v1/chat/completions": (_q, res) =>
    sse(res, [chunk({ content: "<thi" }), chunk({ content: "nk>plan</think>An" }), chunk({ content: "swer" }, "stop")]),
};

describe("recorded contracts: each engine kind is detected and streams through the sidecar", () => {
  let sidecar: SidecarProcess;
  let logs: LogLine[];
  const engines: RecordedEngine[] = [];
  const start = async (routes: Record<string, Route>) => {
    const e = new RecordedEngine(routes);
    engines.push(e);
    return { engine: e, url: await e.start() };
  };
  beforeAll(async () => {
    ({ sidecar, logs } = await spawnSidecar({}, { engineTimeoutMs: 1500 }));
  });
  afterAll(async () => {
    await sidecar.stop();
    await Promise.all(engines.map((e) => e.stop()));
  });

  const chat = async (streamId: string) => {
    const deltas: string[] = [];
    const thoughts: string[] = [];
    const sub = sidecar.onNotification("chat/delta", (d: ChatDeltaParams) => {
      if (d.streamId !== streamId) return;
      deltas.push(d.text);
      if (d.reasoning) thoughts.push(d.reasoning);
    });
    try {
      const result = await sidecar.request("chat/send", { streamId, messages: [user("hi")] });
      return { result, streamed: deltas.join(""), reasoning: thoughts.join("") };
    } finally {
      sub.dispose();
    }
  };

  it.each<[string, Record<string, Route>, EngineKind, string, string, string, string]>([
    ["Ollama", OLLAMA, "ollama", "qwen3:8b", "Hello there", "stop", "The user greets; "],
    ["vLLM", VLLM, "vllm", "Qwen/Qwen3-8B", "Forty-two.", "maxTokens", "thinking…"],
    ["LM Studio", LMSTUDIO, "lmstudio", "qwen2.5-7b-instruct", "Answer", "stop", "plan"],
  ])(
    "%s: detected, its one model taken, reasoning kept out of the answer and streamed apart",
    async (_n, routes, kind, model, text, stop, thought) => {
      const { url } = await start(routes);
      const info = await sidecar.request("model/load", { role: "chat", model: { uri: "", engine: { url } } });
      expect(info.engine).toEqual({ kind, url });
      expect(info.name).toBe(model);
      // The allocated window: Ollama's /api/ps, vLLM's max_model_len, LM Studio's loaded instance (not the maximum).
      expect(info.contextSize).toBe(kind === "vllm" ? 32768 : 8192);
      const { result, streamed, reasoning } = await chat(`c-${kind}`);
      expect(result.text).toBe(text);
      expect(streamed).toBe(text);
      expect(result.stopReason).toBe(stop);
      expect(result.reasoning).toBe(thought);
      expect(reasoning).toBe(thought);
    },
  );

  it("a conversation longer than the engine's window: the oldest turns are left out and counted, never cut by the server", async () => {
    const { engine, url } = await start({
      "GET /v1/models": (_q, res) => json(res, 200, { data: [{ id: "small", owned_by: "vllm", max_model_len: 256 }] }),
      "POST /v1/chat/completions": (_q, res) => sse(res, [chunk({ content: "ok" }, "stop")]),
    });
    await sidecar.request("model/load", { role: "chat", model: { uri: "", engine: { url } } });
    const turn = "The quick brown fox jumps over the lazy dog. ".repeat(4); // ~180 characters
    const messages = Array.from({ length: 20 }, (_, i) => ({
      role: i % 2 ? ("assistant" as const) : ("user" as const),
      content: `${i}: ${turn}`,
    }));
    messages.push(user("And then?"));
    const r = await sidecar.request("chat/send", { streamId: "long", messages, params: { maxTokens: 64 } });
    expect(r.droppedMessages).toBeGreaterThan(0);
    expect(r.droppedMessages % 2).toBe(0);
    const sent = engine.seen.at(-1)!.body as { messages: Array<{ content: string }> };
    expect(sent.messages.length).toBe(21 - r.droppedMessages);
    expect(sent.messages.at(-1)?.content).toBe("And then?");
    const tooLong = await errorOf(
      sidecar.request("chat/send", { streamId: "huge", messages: [user("x".repeat(5000))], params: { maxTokens: 64 } }),
    );
    expect(tooLong.code).toBe(ErrorCodes.PromptTooLong);
    expect(tooLong.message).toMatch(/\(about \d+ tokens\) does not fit the 256-token context of the engine at/);
  });

  it("vLLM: rerank scores, sent back sorted by score, are mapped to their documents by index", async () => {
    const { url } = await start(VLLM);
    await sidecar.request("model/load", { role: "rerank", model: { uri: "", engine: { url } } });
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "hearth-contract-rerank-"));
    try {
      await fs.writeFile(path.join(dir, "a.ts"), "export function parseConfig() {\n  return parseConfigFile();\n}\n");
      await fs.writeFile(path.join(dir, "b.ts"), "export function parseOther() {\n  return 1;\n}\n");
      const target = { root: dir, storageDir: path.join(dir, ".db") };
      await sidecar.request("index/build", target);
      const r = await sidecar.request("index/search", { ...target, query: "parse config", mode: "lexical" });
      expect(r.reranked).toBe(true);
      // The recorded server scores the k-th document sent 1/(k+1) and returns the list reversed: a mapping by
      // position instead of by `index` would swap them.
      const byLexicalRank = [...r.hits].sort((x, y) => x.scores.lexicalRank! - y.scores.lexicalRank!);
      expect(byLexicalRank.map((h) => h.scores.rerank)).toEqual([1, 0.5]);
    } finally {
      await sidecar.request("model/unload", { role: "rerank" });
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  it("Ollama: embeddings load with the engine's dimension; rerank is refused with a notice of what to do", async () => {
    const { url } = await start(OLLAMA);
    const e = await sidecar.request("model/load", { role: "embedding", model: { uri: "", engine: { url } } });
    expect(e.embeddingDimensions).toBe(3);
    const error = await errorOf(sidecar.request("model/load", { role: "rerank", model: { uri: "", engine: { url } } }));
    expect(error.code).toBe(ErrorCodes.Unsupported);
    expect(error.message).toMatch(/Ollama has no rerank endpoint/);
    expect(error.hint).toMatch(/search fuses without rerank/);
  });

  it("FIM on Ollama: the native suffix API for a model with 'insert', a raw family template without it", async () => {
    const ollama = (capabilities: string[], id: string): Record<string, Route> => ({
      "GET /api/version": (_q, res) => json(res, 200, { version: "0.12.6" }),
      "GET /v1/models": (_q, res) => json(res, 200, { data: [{ id, owned_by: "library" }] }),
      "POST /api/show": (_q, res) => json(res, 200, { capabilities }),
      "POST /api/generate": (_q, res) =>
        ndjson(res, [
          { model: id, response: "a + b", done: false },
          { model: id, response: ";", done: false }, // Ollama honours the stop "\n" a single line is sent with
          { model: id, response: "", done: true, done_reason: "stop", prompt_eval_count: 7, eval_count: 4 },
        ]),
    });
    const withInsert = await start(ollama(["completion", "insert"], "qwen2.5-coder:1.5b"));
    await sidecar.request("model/load", { role: "completion", model: { uri: "", engine: { url: withInsert.url } } });
    const r = await sidecar.request("completion/infill", { prefix: "return ", suffix: "\n}", singleLine: true });
    expect(r).toMatchObject({ text: "a + b;", stopReason: "stop", usage: { promptTokens: 7, completionTokens: 4 } });
    const sent = withInsert.engine.seen.filter((s) => s.path === "/api/generate").at(-1)!.body as Record<
      string,
      unknown
    >;
    expect(sent).toMatchObject({ prompt: "return ", suffix: "\n}", stream: true, options: { stop: ["\n"] } });
    expect(sent).not.toHaveProperty("raw");

    const raw = await start(ollama(["completion"], "qwen2.5-coder:1.5b-base"));
    await sidecar.request("model/load", { role: "completion", model: { uri: "", engine: { url: raw.url } } });
    await sidecar.request("completion/infill", { prefix: "return ", suffix: "\n}" });
    const rawSent = raw.engine.seen.filter((s) => s.path === "/api/generate").at(-1)!.body as Record<string, unknown>;
    expect(rawSent).toMatchObject({ raw: true, prompt: "<|fim_prefix|>return <|fim_suffix|>\n}<|fim_middle|>" });
  });

  it("FIM on vLLM: a raw prompt from the family's FIM tokens on /v1/completions; an unknown family is refused", async () => {
    const vllm = (id: string): Record<string, Route> => ({
      "GET /v1/models": (_q, res) => json(res, 200, { data: [{ id, owned_by: "vllm", max_model_len: 8192 }] }),
      "POST /v1/completions": (_q, res) =>
        sse(res, [
          { id: "cmpl", object: "text_completion", choices: [{ index: 0, text: "x * 2", finish_reason: null }] },
          { id: "cmpl", choices: [{ index: 0, text: "<｜end▁of▁sentence｜>junk", finish_reason: "stop" }] },
          { id: "cmpl", choices: [], usage: { prompt_tokens: 12, completion_tokens: 3 } },
        ]),
    });
    const coder = await start(vllm("deepseek-ai/deepseek-coder-6.7b-base"));
    await sidecar.request("model/load", { role: "completion", model: { uri: "", engine: { url: coder.url } } });
    const r = await sidecar.request("completion/infill", { prefix: "const y = ", suffix: ";" });
    expect(r.text).toBe("x * 2");
    expect(r.usage).toMatchObject({ promptTokens: 12, completionTokens: 3 });
    const sent = coder.engine.seen.filter((s) => s.path === "/v1/completions").at(-1)!.body as Record<string, unknown>;
    expect(sent["prompt"]).toBe("<｜fim▁begin｜>const y = <｜fim▁hole｜>;<｜fim▁end｜>");
    expect(sent["stop"]).toContain("<｜end▁of▁sentence｜>");

    const chatty = await start(vllm("meta-llama/Llama-3.1-8B-Instruct"));
    const error = await errorOf(
      sidecar.request("model/load", { role: "completion", model: { uri: "", engine: { url: chatty.url } } }),
    );
    expect(error.code).toBe(ErrorCodes.Unsupported);
    expect(error.message).toMatch(/cannot do fill-in-the-middle with 'meta-llama\/Llama-3\.1-8B-Instruct'/);
  });

  it("Hearth's FIM stops work on a remote stream: a repeated line ends the request early; the time budget keeps the text", async () => {
    // A vLLM-shaped server that streams a generation loop slowly, one line per 40 ms, for up to 50 lines; it
    // records whether the client hung up before the stream's end.
    let closedEarly = 0;
    const slowLoop: Route = (q, res) => {
      // max_tokens 400: a loop of one line; otherwise lines that never repeat.
      const loops = (q.body as { max_tokens: number }).max_tokens === 400;
      res.writeHead(200, { "content-type": "text/event-stream" });
      let i = 0;
      const timer = setInterval(() => {
        const text = i === 0 ? "a + b;\n" : loops ? "  x = x + 1;\n" : `  x${i} = ${i};\n`;
        res.write(`data: ${JSON.stringify({ choices: [{ index: 0, text, finish_reason: null }] })}\n\n`);
        if (++i === 50) {
          clearInterval(timer);
          res.end("data: [DONE]\n\n");
        }
      }, 40);
      res.on("close", () => {
        if (i < 50) closedEarly++;
        clearInterval(timer);
      });
    };
    const { url } = await start({
      "GET /v1/models": (_q, res) =>
        json(res, 200, { data: [{ id: "Qwen/Qwen2.5-Coder-1.5B", owned_by: "vllm", max_model_len: 4096 }] }),
      "POST /v1/completions": slowLoop,
    });
    await sidecar.request("model/load", { role: "completion", model: { uri: "", engine: { url } } });
    const loop = await sidecar.request("completion/infill", { prefix: "return ", suffix: "\n}", maxTokens: 400 });
    expect(loop.stopReason).toBe("repeatedLine");
    expect(loop.text).toBe("a + b;\n  x = x + 1;");
    await waitUntil(() => closedEarly === 1, "the server saw the client hang up");

    const budget = await sidecar.request("completion/infill", {
      prefix: "return ",
      suffix: "\n}",
      maxTokens: 399,
      timeBudgetMs: 200,
    });
    expect(budget.stopReason).toBe("timeBudget");
    expect(budget.text).toMatch(/^a \+ b;\n {2}x1 = 1;/);
    await waitUntil(() => closedEarly === 2, "the server saw the client hang up after the budget");
  });

  it("a generic server with a key: 401 without it (EngineAuth), works with it, and the key is never logged", async () => {
    const key = "sk-test-0123456789abcdef";
    const { engine, url } = await start({
      "GET /v1/models": (q, res) =>
        q.headers.authorization === `Bearer ${key}`
          ? json(res, 200, { data: [{ id: "gpt-x", owned_by: "someone" }] })
          : json(res, 401, { error: { message: "Invalid API key", type: "invalid_request_error" } }),
      "POST /v1/chat/completions": (q, res) =>
        q.headers.authorization === `Bearer ${key}`
          ? sse(res, [chunk({ content: "ok" }, "stop")])
          : json(res, 401, { error: { message: "Invalid API key" } }),
    });
    const refused = await errorOf(
      sidecar.request("model/load", { role: "chat", model: { uri: "gpt-x", engine: { url, kind: "openai" } } }),
    );
    expect(refused.code).toBe(ErrorCodes.EngineAuth);
    expect(refused.message).toBe(`The engine at ${url} refused the model list request (401: Invalid API key).`);
    await sidecar.request("model/load", {
      role: "chat",
      model: { uri: "gpt-x", engine: { url, kind: "openai", apiKey: key } },
    });
    expect((await chat("key")).result.text).toBe("ok");
    // generic OpenAI servers get no top_k
    const sent = engine.seen.find((s) => s.path === "/v1/chat/completions" && s.headers.authorization)?.body;
    expect(sent).not.toHaveProperty("top_k");
    expect(logs.some((l) => l.message.includes(key))).toBe(false);
  });
});

describe("engine faults (§3): a clear error code and sentence, nothing lost, the sidecar keeps serving", () => {
  let sidecar: SidecarProcess;
  let engine: RecordedEngine;
  let url: string;
  let attempts = 0;
  const models: Route = (_q, res) => json(res, 200, { data: [{ id: "m", owned_by: "x" }] });
  const load = () =>
    sidecar.request("model/load", { role: "chat", model: { uri: "m", engine: { url, kind: "openai" } } });
  const send = (streamId = "f", signal?: AbortSignal) =>
    sidecar.request("chat/send", { streamId, messages: [user("hi")] }, signal);

  beforeAll(async () => {
    ({ sidecar } = await spawnSidecar({}, { engineTimeoutMs: 1500 }));
    engine = new RecordedEngine({ "GET /v1/models": models });
    url = await engine.start();
    await load();
  });
  afterAll(async () => {
    await sidecar.stop();
    await engine.stop();
  });
  const serve = (chat: Route) => {
    attempts = 0;
    engine.set({
      "GET /v1/models": models,
      "POST /v1/chat/completions": (q, res) => {
        attempts++;
        return chat(q, res);
      },
    });
  };

  it("429 with Retry-After, then 200: retried after the delay, and the answer comes", async () => {
    serve((_q, res) =>
      attempts === 1
        ? json(res, 429, { error: { message: "slow down" } }, { "retry-after": "1" })
        : sse(res, [chunk({ content: "late" }, "stop")]),
    );
    const started = Date.now();
    expect((await send()).text).toBe("late");
    expect(attempts).toBe(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });

  it("503 every time: three attempts, then EngineUnavailable with the status", async () => {
    serve((_q, res) => json(res, 503, { error: { message: "Loading model" } }, { "retry-after": "0" }));
    const error = await errorOf(send());
    expect(error.code).toBe(ErrorCodes.EngineUnavailable);
    expect(error.message).toBe(`The engine at ${url} answered the chat request with 503: Loading model.`);
    expect(attempts).toBe(3);
  });

  it("malformed and non-data SSE lines are skipped; the answer is assembled from the good ones", async () => {
    serve((_q, res) =>
      sse(res, [
        ": ping",
        "event: noise",
        "data: {not json",
        "",
        chunk({ content: "A" }),
        "retry: 10",
        chunk({ content: "B" }, "stop"),
      ]),
    );
    expect((await send()).text).toBe("AB");
  });

  it("a stream cut mid-answer: EngineUnavailable, and the deltas sent so far reached the client", async () => {
    serve((_q, res) => {
      sse(res, [chunk({ content: "partial " }), chunk({ content: "text" })], false);
      setTimeout(() => res.socket?.destroy(), 50);
    });
    const deltas: string[] = [];
    const sub = sidecar.onNotification(
      "chat/delta",
      (d: ChatDeltaParams) => d.streamId === "cut" && deltas.push(d.text),
    );
    const error = await errorOf(send("cut"));
    sub.dispose();
    expect(error.code).toBe(ErrorCodes.EngineUnavailable);
    expect(error.message).toMatch(/broke during the chat answer|closed the chat stream before its end/);
    expect(error.hint).toMatch(/text so far is kept/);
    expect(deltas.join("")).toBe("partial text");
    // The chat client keeps what arrived as the answer, marked interrupted; the user's message stays too.
    const controller = new ChatController(sidecar);
    await expect(controller.send("hi")).rejects.toMatchObject({ code: ErrorCodes.EngineUnavailable });
    expect(controller.conversation.messages.map((m) => [m.role, m.content, m.stopReason])).toEqual([
      ["user", "hi", undefined],
      ["assistant", "partial text", "interrupted"],
    ]);
  });

  it("no first byte within the timeout: EngineUnavailable saying how long it waited", async () => {
    serve(() => undefined); // never answers
    const error = await errorOf(send());
    expect(error.code).toBe(ErrorCodes.EngineUnavailable);
    expect(error.message).toBe(`The engine at ${url} did not answer the chat request within 1.5 s.`);
  });

  it("a stream that keeps sending for longer than the timeout is not cut: the limit is per chunk", async () => {
    serve((_q, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      let n = 0;
      const timer = setInterval(() => {
        if (n < 8) res.write(`data: ${JSON.stringify(chunk({ content: String(n++) }))}\n\n`);
        else {
          clearInterval(timer);
          res.end(`data: ${JSON.stringify(chunk({}, "stop"))}\n\ndata: [DONE]\n\n`);
        }
      }, 400); // 3.2 s in all, past the 1.5 s limit; never 1.5 s between two chunks
    });
    expect((await send()).text).toBe("01234567");
  });

  it("a hung server on cancel: the request is aborted at once and the partial answer comes back", async () => {
    serve((_q, res) => sse(res, [chunk({ content: "so far" })], false)); // then nothing, forever
    const abort = new AbortController();
    const sub = sidecar.onNotification("chat/delta", (d: ChatDeltaParams) => d.streamId === "hung" && abort.abort());
    const started = Date.now();
    const r = await send("hung", abort.signal).catch((e: unknown) => e);
    sub.dispose();
    expect(Date.now() - started).toBeLessThan(1400); // before the 1.5 s stall timeout
    if (r instanceof Error) expect((r as { code?: number }).code).toBe(ErrorCodes.Cancelled);
    else expect(r).toMatchObject({ stopReason: "cancelled", text: "so far" });
  });

  it("a prompt over the context (llama-server's 400): PromptTooLong with the numbers", async () => {
    serve((_q, res) =>
      json(res, 400, {
        error: {
          code: 400,
          message: "the request exceeds the available context size",
          type: "exceed_context_size_error",
          n_prompt_tokens: 5000,
          n_ctx: 4096,
        },
      }),
    );
    const error = await errorOf(send());
    expect(error.code).toBe(ErrorCodes.PromptTooLong);
    expect(error.message).toBe(
      `The prompt does not fit the context window of the engine at ${url} (5000 prompt tokens, its context is 4096).`,
    );
  });

  it("a model the engine does not list: ModelNotFound naming what it serves", async () => {
    const error = await errorOf(
      sidecar.request("model/load", { role: "chat", model: { uri: "nope", engine: { url, kind: "openai" } } }),
    );
    expect(error.code).toBe(ErrorCodes.ModelNotFound);
    expect(error.message).toBe(`The engine at ${url} has no model 'nope'; it serves: m.`);
  });

  it("after all that, the sidecar answers and the engine works again", async () => {
    serve((_q, res) => sse(res, [chunk({ content: "fine" }, "stop")]));
    expect((await send()).text).toBe("fine");
    expect((await sidecar.request("runtime/stats", {})).backend).toBe("cpu");
  });
});
