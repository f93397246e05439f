import fs from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildRealSizeModel, llamaVocabDir } from "../../bench/realSizeModels";
import type { SidecarProcess } from "../../common/sidecar/SidecarProcess";
import { ErrorCodes, type ChatDeltaParams, type NesPredictParams } from "../../shared/protocol";
import { startLlamaServer, type RunningLlamaServer } from "../engines/llamaServer";
import { REPO_ROOT, testModel } from "../testModels";
import { errorOf, spawnSidecar } from "./helpers";

/*
 * nes/predict through the real sidecar. Embedded: a SYNTHETIC Qwen2.5-Coder-1.5B-shaped model (1 block, widths
 * shrunk 16×, random weights) with Qwen2.5's real tokenizer, in which `<|file_sep|>` is one token — its rewrites
 * are noise, so these tests check the prompt's tokens, KV reuse, drafting, cancellation and the answer's shape,
 * never quality. Remote: the test llama-server (stories260K) behind a loopback proxy that records what was sent.
 */
const doc = [
  "export function area(width: number, height: number) {",
  "  return width * height;",
  "}",
  "",
  "export function perimeter(width: number, height: number) {",
  "  return 2 * (width + height);",
  "}",
].join("\n");
const request = (over: Partial<NesPredictParams> = {}): NesPredictParams => ({
  path: "src/shapes.ts",
  text: doc,
  line: 1,
  column: 9,
  format: "sweep",
  maxTokens: 24,
  history: [
    {
      path: "src/shapes.ts",
      original: "export function area(w: number, h: number) {",
      updated: "export function area(width: number, height: number) {",
      line: 0,
    },
  ],
  ...over,
});

let sidecar: SidecarProcess;
let work: string;
let fixture: string;

beforeAll(async () => {
  work = await fs.mkdtemp(path.join(os.tmpdir(), "hearth-nes-"));
  fixture = await buildRealSizeModel("qwen2.5-coder-1.5b", {
    vocabDir: llamaVocabDir(REPO_ROOT, path.join(REPO_ROOT, ".cache")),
    outDir: path.join(REPO_ROOT, ".cache", "nes-fixtures"),
    layers: 1,
    shrink: 16,
  });
  ({ sidecar } = await spawnSidecar());
}, 180_000);
afterAll(async () => {
  await sidecar?.stop();
  await fs.rm(work, { recursive: true, force: true });
});

describe("nes/predict on the embedded engine", () => {
  it("without a next-edit model: NoModelLoaded, naming the setting", async () => {
    const error = await errorOf(sidecar.request("nes/predict", request()));
    expect(error.code).toBe(ErrorCodes.NoModelLoaded);
    expect(error.message).toMatch(/No nes model is loaded/);
  });

  it("writes the prompt with <|file_sep|> as one token and the user's text as text; reuses the KV cache", async () => {
    const info = await sidecar.request("model/load", { role: "nes", model: { uri: fixture }, contextSize: 2048 });
    expect(info.role).toBe("nes");
    const { tokens } = await sidecar.request("model/tokenize", { role: "nes", text: "<|file_sep|>", special: true });
    expect(tokens).toHaveLength(1);

    const first = await sidecar.request("nes/predict", request());
    expect(first.format).toBe("sweep");
    expect(first.window).toEqual({ startLine: 0, endLine: 7 });
    expect(["edit", "noChange", "unparseable"]).toContain(first.reason);
    expect(first.usage.promptTokens).toBeGreaterThan(40);
    expect(first.usage.completionTokens).toBeGreaterThan(0);
    expect(first.speculation).toBeDefined();
    // The same request again: the prompt is in the KV cache but its last token (what is evaluated to sample).
    const again = await sidecar.request("nes/predict", request());
    expect(again.usage.promptTokens).toBe(first.usage.promptTokens);
    expect(again.usage.evaluatedTokens).toBeLessThan(first.usage.promptTokens / 4);
    expect(again.edit).toEqual(first.edit); // greedy: the same answer

    // Code that spells the separator is text: several tokens, not the control token (which would end a block).
    const spelled = await sidecar.request("nes/predict", request({ text: doc.replace("}", "} // <|file_sep|>") }));
    const plain = await sidecar.request("nes/predict", request({ text: doc.replace("}", "} // x") }));
    expect(spelled.usage.promptTokens - plain.usage.promptTokens).toBeGreaterThanOrEqual(3);
  });

  it("without drafting reports no speculation; the answer is the same (drafts never change a greedy answer)", async () => {
    const drafted = await sidecar.request("nes/predict", request({ maxTokens: 32 }));
    const plain = await sidecar.request("nes/predict", request({ maxTokens: 32, speculate: false }));
    expect(plain.speculation).toBeUndefined();
    expect(drafted.speculation).toBeDefined();
    expect(plain.edit).toEqual(drafted.edit);
    expect(plain.reason).toBe(drafted.reason);
    console.info(
      `nes: drafted ${JSON.stringify(drafted.speculation)} in ${drafted.timings.totalMs} ms, plain ${plain.timings.totalMs} ms, ${drafted.usage.completionTokens} tokens, ${drafted.reason}`,
    );
  });

  it("cancelling stops within a decode step or two; a time budget answers 'no edit' with its reason", async () => {
    const abort = new AbortController();
    let seen = 0;
    const sub = sidecar.onNotification("chat/delta", (d: ChatDeltaParams) => {
      if (d.streamId !== "nes-cancel") return;
      seen++;
      abort.abort();
    });
    const cancelled = await sidecar.request(
      "nes/predict",
      request({ streamId: "nes-cancel", maxTokens: 400, speculate: false }),
      abort.signal,
    );
    sub.dispose();
    expect(seen).toBeGreaterThan(0);
    expect(cancelled.reason).toBe("cancelled");
    expect(cancelled.edit).toBeNull();
    expect(cancelled.usage.completionTokens).toBeLessThan(400);
    console.info(`nes: cancelled after ${seen} deltas, ${cancelled.usage.completionTokens} tokens generated`);
    const late = await sidecar.request("nes/predict", request({ maxTokens: 400, timeBudgetMs: 1 }));
    expect(late.reason).toBe("timeBudget");
    expect(late.edit).toBeNull();
  });

  it("a cursor outside the document is refused naming the field", async () => {
    const error = await errorOf(sidecar.request("nes/predict", request({ line: 99 })));
    expect(error.code).toBe(ErrorCodes.InvalidParams);
    expect(error.message).toMatch(/'line' must be a line of the document \(0 to 6\)/);
  });
});

describe("nes/predict on a remote engine (llama-server)", () => {
  let server: RunningLlamaServer;
  let proxy: http.Server;
  let proxyUrl: string;
  const bodies: Array<{ prompt?: unknown; stop?: unknown; messages?: unknown; response_format?: unknown }> = [];

  beforeAll(async () => {
    server = await startLlamaServer(["-m", await testModel("stories260K"), "-c", "1024"]);
    // Forwards every request to llama-server, keeping each JSON body it carried.
    proxy = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const body = Buffer.concat(chunks);
        if (body.length) bodies.push(JSON.parse(body.toString()) as (typeof bodies)[number]);
        const target = new URL(req.url ?? "/", server.url);
        const forward = http.request(target, { method: req.method, headers: req.headers }, (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        });
        forward.on("error", () => res.destroy());
        forward.end(body);
      });
    });
    await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
    proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  }, 120_000);
  afterAll(async () => {
    await new Promise((resolve) => proxy?.close(resolve));
    await server?.stop();
  });

  it("sends the format's prompt as one raw /v1/completions stream with its stops, and reads the answer", async () => {
    await sidecar.request("model/load", { role: "nes", model: { uri: "", engine: { url: proxyUrl } } });
    bodies.length = 0;
    const result = await sidecar.request("nes/predict", request({ maxTokens: 16 }));
    const sent = bodies.find((b) => typeof b.prompt === "string")!;
    expect(sent).toMatchObject({ max_tokens: 16, temperature: 0, stream: true });
    expect(sent.stop).toEqual(["<|file_sep|>", "<|endoftext|>"]);
    const prompt = sent.prompt as string;
    expect(prompt.startsWith("<|file_sep|>src/shapes.ts.diff\noriginal:\nexport function area(w: number")).toBe(true);
    expect(prompt.endsWith("<|file_sep|>updated/src/shapes.ts\n")).toBe(true);
    expect(result.format).toBe("sweep");
    expect(result.usage.promptTokens).toBeGreaterThan(0);
    expect(result.usage.completionTokens).toBeGreaterThan(0);
    expect(["edit", "noChange", "unparseable"]).toContain(result.reason);
    // The generic format goes to the chat route with a JSON schema.
    bodies.length = 0;
    const generic = await sidecar.request("nes/predict", request({ format: "generic", maxTokens: 16 }));
    expect(generic.format).toBe("generic");
    const chat = bodies.find((b) => Array.isArray(b.messages))!;
    expect(chat.response_format).toMatchObject({ type: "json_schema" });
    // Zeta's region markers are plain text in its own prompt: not taken for the user's code spelling a control token.
    const zeta = await sidecar.request("nes/predict", request({ format: "zeta", maxTokens: 8 }));
    expect(zeta.format).toBe("zeta");
  });

  it("refuses a file that spells a control token of the format: the server would read it as one", async () => {
    const error = await errorOf(sidecar.request("nes/predict", request({ text: `${doc}\n// <|file_sep|>` })));
    expect(error.code).toBe(ErrorCodes.InvalidParams);
    expect(error.message).toMatch(/contain '<\|file_sep\|>', a control token/);
  });
});
