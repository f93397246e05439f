import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SidecarProcess } from "../../common/sidecar/SidecarProcess";
import { ErrorCodes, type ChatDeltaParams, type IndexTarget } from "../../shared/protocol";
import { errorOf, spawnSidecar } from "../sidecar/helpers";
import { labModel, testModel } from "../testModels";
import { freePort, startLlamaServer, type RunningLlamaServer } from "./llamaServer";
import { hearth } from "../cli/hearth";

/*
 * Every role on a real llama-server (built from the llama.cpp source node-llama-cpp ships; see
 * scripts/build-llama-server.sh), through the real sidecar: stories260K for chat, the lab FIM model on /infill,
 * the lab embedding model with --embeddings, the lab reranker with --rerank. Loopback only.
 */
describe("remote engine: llama-server for every role", () => {
  let sidecar: SidecarProcess;
  let chat: RunningLlamaServer;
  let fim: RunningLlamaServer;
  let embed: RunningLlamaServer;
  let rerank: RunningLlamaServer;
  let work: string;

  beforeAll(async () => {
    const stories = await testModel("stories260K");
    [chat, fim, embed, rerank] = await Promise.all([
      startLlamaServer(["-m", stories, "-c", "512"]),
      startLlamaServer(["-m", labModel("code"), "-c", "1024"]),
      startLlamaServer(["-m", labModel("embedding"), "--embeddings"]),
      startLlamaServer(["-m", labModel("reranker"), "--rerank"]),
    ]);
    ({ sidecar } = await spawnSidecar());
    work = await fs.mkdtemp(path.join(os.tmpdir(), "hearth-engines-"));
  }, 120_000);
  afterAll(async () => {
    await sidecar?.stop();
    await Promise.all([chat, fim, embed, rerank].map((s) => s?.stop()));
    await fs.rm(work, { recursive: true, force: true });
  });

  it("engine/discover finds the engines running on loopback ports, with their models; hearth models --discover prints them (issue 30)", async () => {
    const closed = await freePort();
    const ports = [chat, embed].map((s) => Number(new URL(s.url).port));
    const { engines } = await sidecar.request("engine/discover", { ports: [...ports, closed] });
    expect(engines.map((e) => [e.kind, e.url])).toEqual([
      ["llama-server", chat.url],
      ["llama-server", embed.url],
    ]);
    expect(engines[0]!.models[0]!.id).toMatch(/stories260K/);
    const cli = await hearth(["models", "--discover", "--ports", `${ports[0]},${closed}`]);
    expect(cli.code).toBe(0);
    expect(cli.stdout).toMatch(new RegExp(`^llama-server at ${chat.url.replace(/\./g, "\\.")}: .*stories260K`));
    expect((await hearth(["models", "--ports", "8080"])).stderr).toMatch(/--ports goes with --discover/);
    // The first-run plan shows them too, as what a role can use instead of a download.
    const planned = await sidecar.request("setup/plan", { enginePorts: [ports[0]!, closed], includeLocal: false });
    expect(planned.engines.map((e) => [e.kind, e.url])).toEqual([["llama-server", chat.url]]);
  });

  it("chat: detects llama-server, takes its only model and the context it allocated, and streams the answer", async () => {
    const info = await sidecar.request("model/load", { role: "chat", model: { uri: "", engine: { url: chat.url } } });
    expect(info.engine).toEqual({ kind: "llama-server", url: chat.url });
    expect(info.name).toMatch(/stories260K/);
    expect(info.contextSize).toBe(512);
    const deltas: string[] = [];
    const sub = sidecar.onNotification(
      "chat/delta",
      (d: ChatDeltaParams) => d.streamId === "r1" && deltas.push(d.text),
    );
    const result = await sidecar.request("chat/send", {
      streamId: "r1",
      messages: [{ role: "user", content: "Once upon a time" }],
      params: { temperature: 0, maxTokens: 24 },
    });
    sub.dispose();
    expect(result.text.length).toBeGreaterThan(0);
    expect(deltas.join("")).toBe(result.text);
    expect(result.stopReason).toBe("maxTokens");
    expect(result.usage.completionTokens).toBe(24);
    expect(result.usage.promptTokens).toBeGreaterThan(0);
  });

  it("chat: cancel aborts the HTTP request at once and keeps the partial answer", async () => {
    const abort = new AbortController();
    const sub = sidecar.onNotification("chat/delta", (d: ChatDeltaParams) => d.streamId === "r2" && abort.abort());
    const result = await sidecar
      .request(
        "chat/send",
        { streamId: "r2", messages: [{ role: "user", content: "Once upon a time" }], params: { maxTokens: 400 } },
        abort.signal,
      )
      .catch((e: unknown) => e);
    sub.dispose();
    // Either the sidecar answered with the partial text, or the client's cancel arrived first.
    if (result instanceof Error) expect((result as { code?: number }).code).toBe(ErrorCodes.Cancelled);
    else expect((result as { stopReason: string }).stopReason).toBe("cancelled");
    const next = await sidecar.request("chat/send", {
      streamId: "r3",
      messages: [{ role: "user", content: "The dog" }],
      params: { maxTokens: 4 },
    });
    expect(next.usage.completionTokens).toBeGreaterThan(0);
  });

  it("completion: /infill with the lab FIM model, with the embedded engine's post-processing", async () => {
    const info = await sidecar.request("model/load", {
      role: "completion",
      model: { uri: "", engine: { url: fim.url } },
    });
    expect(info.infillSupported).toBe(true);
    const r = await sidecar.request("completion/infill", {
      prefix: "export function add(a: number, b: number): number {\n  return ",
      suffix: "\n}\n",
      maxTokens: 16,
      singleLine: true,
    });
    expect(r.text).not.toContain("\n");
    expect(r.usage.promptTokens).toBeGreaterThan(0);
    // A prefix far longer than the server's slot is cut to fit it (llama-server refuses an over-long prompt).
    const long = await sidecar.request("completion/infill", {
      prefix: "export const table = [\n" + "  1, 2, 3, 4, 5, 6, 7, 8,\n".repeat(400) + "  ",
      suffix: "\n];\n".repeat(50),
      maxTokens: 8,
      context: "// other file\n".repeat(300),
    });
    expect(long.usage.promptTokens).toBeLessThanOrEqual(info.contextSize);
    // A plain continuation (completion/complete) through llama-server's /v1/completions, streamed; the same
    // greedy continuation as llama-server's own /completion gives.
    const deltas: string[] = [];
    const sub = sidecar.onNotification("chat/delta", (d) => d.streamId === "cont" && deltas.push(d.text));
    const cont = await sidecar.request("completion/complete", {
      streamId: "cont",
      prompt: "export function ",
      maxTokens: 8,
      temperature: 0,
    });
    sub.dispose();
    expect(cont.stopReason).toBe("maxTokens");
    expect(deltas.join("")).toBe(cont.text);
    const direct = (await (
      await fetch(`${fim.url}/completion`, {
        method: "POST",
        body: JSON.stringify({ prompt: "export function ", n_predict: 8, temperature: 0 }),
      })
    ).json()) as { content: string };
    expect(cont.text).toBe(direct.content);
  });

  it("completion: a model without FIM tokens is refused at load with Unsupported (501)", async () => {
    const error = await errorOf(
      sidecar.request("model/load", { role: "completion", model: { uri: "", engine: { url: chat.url } } }),
    );
    expect(error.code).toBe(ErrorCodes.Unsupported);
    expect(error.message).toMatch(/cannot do fill-in-the-middle/);
  });

  it("embedding and rerank: the index builds with remote vectors in a table of its own, and search reranks", async () => {
    const e = await sidecar.request("model/load", {
      role: "embedding",
      model: { uri: "", engine: { url: embed.url } },
    });
    expect(e.embeddingDimensions).toBe(192);
    await sidecar.request("model/load", { role: "rerank", model: { uri: "", engine: { url: rerank.url } } });
    await fs.mkdir(path.join(work, "src"), { recursive: true });
    await fs.writeFile(
      path.join(work, "src", "a.ts"),
      "export function parseConfigFile(text: string) {\n  return JSON.parse(text);\n}\n",
    );
    await fs.writeFile(
      path.join(work, "src", "b.ts"),
      "export function renderWidget(w: number) {\n  return w * 2;\n}\n",
    );
    const target: IndexTarget = { root: path.join(work, "src"), storageDir: path.join(work, "db") };
    const built = await sidecar.request("index/build", target);
    expect(built.files).toBe(2);
    expect(built.table).toMatch(/^chunks_.*_192$/);
    // The lab models were trained on identifier-split text, which llama-server does not prepare: their ranking
    // is not what is checked here, the plumbing is (vectors from the server, scores from its reranker).
    const r = await sidecar.request("index/search", { ...target, query: "parse the config file", mode: "vector" });
    expect(r.reranked).toBe(true);
    expect(r.hits.map((h) => h.path).sort()).toEqual(["a.ts", "b.ts"]);
    for (const h of r.hits) {
      expect(h.scores.vector).toBeGreaterThanOrEqual(-1);
      expect(h.scores.vector).toBeLessThanOrEqual(1.0001);
      expect(typeof h.scores.rerank).toBe("number");
    }
    // A time budget the one rerank request cannot meet: it is abandoned and the search order stands.
    const cut = await sidecar.request("index/search", {
      ...target,
      query: "parse the config file",
      mode: "vector",
      rerankBudgetMs: 0.001,
    });
    expect(cut.rerankCut).toEqual({ scored: 0, candidates: 2 });
    expect(cut.hits.map((h) => h.scores.vectorRank)).toEqual([1, 2]);
    expect(cut.hits.every((h) => h.scores.rerank === undefined)).toBe(true);
  });

  it("an engine that is not there is EngineUnavailable naming the URL; the sidecar keeps serving", async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const error = await errorOf(sidecar.request("model/load", { role: "chat", model: { uri: "", engine: { url } } }));
    expect(error.code).toBe(ErrorCodes.EngineUnavailable);
    expect(error.message).toBe(`Cannot reach the engine at ${url} (connection refused: nothing listens there).`);
    expect((await sidecar.request("runtime/stats", {})).models.find((m) => m.role === "chat")?.engine?.url).toBe(
      chat.url,
    );
  });

  it("the server stopped mid-answer: EngineUnavailable, the deltas so far arrived, and the sidecar lives on", async () => {
    const own = await startLlamaServer(["-m", await testModel("stories260K"), "-c", "512", "--ignore-eos"]);
    try {
      await sidecar.request("model/load", { role: "chat", model: { uri: "", engine: { url: own.url } } });
      const deltas: string[] = [];
      const sub = sidecar.onNotification("chat/delta", (d: ChatDeltaParams) => {
        if (d.streamId !== "cut") return;
        deltas.push(d.text);
        if (deltas.length === 1) own.process.kill("SIGKILL");
      });
      const error = await errorOf(
        sidecar.request("chat/send", {
          streamId: "cut",
          messages: [{ role: "user", content: "Once upon a time" }],
          params: { maxTokens: 480 },
        }),
      );
      sub.dispose();
      expect(error.code).toBe(ErrorCodes.EngineUnavailable);
      expect(error.message).toMatch(new RegExp(`engine at ${own.url.replace(/\./g, "\\.")}`));
      expect(deltas.length).toBeGreaterThan(0);
      expect((await sidecar.request("runtime/stats", {})).backend).toBe("cpu");
    } finally {
      await own.stop();
    }
  });
});
