/**
 * `npm run bench:engines` — one GGUF per role served both ways in one run: the embedded engine (node-llama-cpp
 * in the sidecar) against the same model in llama-server reached through Hearth (remote engine), and each
 * against llama-server called directly over raw HTTP, as llama.vscode calls it. Same model, one thread
 * everywhere, loopback only. Figures, not assertions:
 *   - chat: TTFT and decode tokens/s (greedy, a fixed prompt, a fixed answer length);
 *   - FIM: request → suggestion latency p50/p95 over cursor positions of a real source file;
 *   - embedding: tokens/s over chunks of the same file.
 *
 *   npm run bench:engines [-- --chat-model <gguf>] [--fim-model <gguf>] [--embedding-model <gguf>] [--runs N]
 *                         [--only chat,fim,embedding] [--cpu-prof <dir>]
 *
 * The FIM section also prints where one request's time goes, phase by phase: the embedded engine's own timing of
 * each phase (tokenize, KV-cache prefix match, prompt to first token, the other tokens, finish) and the JSON-RPC
 * round trip around it, next to llama-server's own `timings` (prompt_ms, predicted_ms) for the same requests.
 * `--cpu-prof <dir>` writes a V8 CPU profile of the embedded engine's sidecar there (open it in Chrome DevTools or
 * speedscope), kept as the run's artefact.
 *
 * Defaults: stories260K (chat), the lab FIM and embedding models (lab/models; tiny, so the figures are
 * dominated by per-request overhead, which is what the seam adds).
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { SidecarProcess } from "../common/sidecar/SidecarProcess";
import type { InfillResult, ModelSpec } from "../shared/protocol";
import { startLlamaServer, type RunningLlamaServer } from "../test/engines/llamaServer";
import { pct } from "./stats";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "..");
const { values } = parseArgs({
  options: {
    "chat-model": { type: "string", default: path.join(root, "..", "shared", "models", "stories260K.gguf") },
    "fim-model": { type: "string", default: path.join(root, "lab", "models", "hearth-lab-code-fim.gguf") },
    "embedding-model": { type: "string", default: path.join(root, "lab", "models", "hearth-lab-embedding.gguf") },
    file: { type: "string", default: path.join(root, "node_modules", "semver", "classes", "semver.js") },
    runs: { type: "string", default: "40" },
    only: { type: "string" },
    "cpu-prof": { type: "string" },
  },
});
const want = (section: string) => !values.only || values.only.split(",").includes(section);
const runs = Number(values.runs);
const source = readFileSync(values.file!, "utf8");
const f = (n: number) => n.toFixed(2).padStart(8);

const profileDir = values["cpu-prof"] ? path.resolve(values["cpu-prof"]) : undefined;
const sidecar = new SidecarProcess({
  sidecarPath: path.join(root, "dist", "sidecar.mjs"),
  init: { modelsDir: path.join(root, ".cache", "models"), threads: 1, gpu: "off" },
  // Node writes the profile when the process exits (sidecar.stop() below ends it cleanly).
  ...(profileDir ? { execArgv: ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] } : {}),
});
await sidecar.start();
const servers: RunningLlamaServer[] = [];

try {
  if (want("chat")) {
    // ---- chat
    const chatServer = await startLlamaServer(["-m", values["chat-model"]!, "-c", "512"]);
    servers.push(chatServer);
    const prompt = [{ role: "user" as const, content: "Once upon a time" }];
    const chatParams = { temperature: 0, maxTokens: 96 };
    const hearthChat = async (model: ModelSpec) => {
      await sidecar.request("model/load", { role: "chat", model, contextSize: 512 });
      const ttft: number[] = [];
      const tps: number[] = [];
      for (let i = 0; i < runs; i++) {
        const t0 = performance.now();
        let first: number | undefined;
        const sub = sidecar.onNotification("chat/delta", () => (first ??= performance.now()));
        const r = await sidecar.request("chat/send", { streamId: `b${i}`, messages: prompt, params: chatParams });
        sub.dispose();
        ttft.push((first ?? performance.now()) - t0);
        tps.push(r.timings.tokensPerSecond);
      }
      return { ttft, tps };
    };
    const directChat = async () => {
      const ttft: number[] = [];
      const tps: number[] = [];
      for (let i = 0; i < runs; i++) {
        const t0 = performance.now();
        const res = await fetch(`${chatServer.url}/v1/chat/completions`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ messages: prompt, stream: true, max_tokens: 96, temperature: 0 }),
        });
        const reader = res.body!.getReader();
        let first: number | undefined;
        let tokens = 0;
        const decoder = new TextDecoder();
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          for (const line of decoder.decode(value).split("\n")) {
            if (!line.startsWith("data: {")) continue;
            if (
              (JSON.parse(line.slice(6)) as { choices?: Array<{ delta?: { content?: string } }> }).choices?.[0]?.delta
                ?.content
            ) {
              first ??= performance.now();
              tokens++;
            }
          }
        }
        const end = performance.now();
        ttft.push((first ?? end) - t0);
        tps.push(tokens > 1 ? (tokens - 1) / ((end - (first ?? end)) / 1000) : 0);
      }
      return { ttft, tps };
    };
    const chatEmbedded = await hearthChat({ uri: values["chat-model"]! });
    const chatRemote = await hearthChat({ uri: "", engine: { url: chatServer.url, kind: "llama-server" } });
    const chatDirect = await directChat();
    console.log(
      `\nChat (${path.basename(values["chat-model"]!)}, ${runs} runs, 96 tokens, greedy)   TTFT p50 ms   tokens/s p50`,
    );
    for (const [name, r] of [
      ["embedded (sidecar, node-llama-cpp)", chatEmbedded],
      ["llama-server through Hearth", chatRemote],
      ["llama-server direct (raw HTTP)", chatDirect],
    ] as const) {
      console.log(`  ${name.padEnd(40)} ${f(pct(r.ttft, 50))}   ${f(pct(r.tps, 50))}`);
    }
    console.log(
      `  Hearth's client on llama-server adds ${f(pct(chatRemote.ttft, 50) - pct(chatDirect.ttft, 50))} ms to TTFT p50; ` +
        `embedded/direct tokens/s ${(pct(chatEmbedded.tps, 50) / pct(chatDirect.tps, 50)).toFixed(2)}x`,
    );
  }
  if (want("fim")) {
    // ---- FIM
    const fimServer = await startLlamaServer(["-m", values["fim-model"]!, "-c", "1024"]);
    servers.push(fimServer);
    const ends: number[] = [];
    for (let i = source.indexOf("\n"); i !== -1 && ends.length < 2000; i = source.indexOf("\n", i + 1)) ends.push(i);
    const positions = Array.from({ length: runs }, (_, k) => ends[Math.floor(((k + 0.5) * ends.length) / runs)]!);
    // A window every path fits into the server's 512-token slot as it is (no path cuts it), so all three send the
    // same text.
    const request = (at: number) => ({
      prefix: source.slice(Math.max(0, at - 600), at),
      suffix: source.slice(at, at + 200),
      maxTokens: 16,
      singleLine: true,
    });
    // The three paths take turns per position (the order rotating), each after a short unrelated request to the
    // server, so no path finds another's prompt in llama-server's KV cache and none gets a warmer machine: run in
    // blocks, one path after another, their p50s differed by 10 % from run to run on the same code.
    const remoteSidecar = new SidecarProcess({
      sidecarPath: path.join(root, "dist", "sidecar.mjs"),
      init: { modelsDir: path.join(root, ".cache", "models"), threads: 1, gpu: "off" },
    });
    await remoteSidecar.start();
    await sidecar.request("model/load", {
      role: "completion",
      model: { uri: values["fim-model"]! },
      contextSize: 1024,
    });
    await remoteSidecar.request("model/load", {
      role: "completion",
      model: { uri: "", engine: { url: fimServer.url, kind: "llama-server" } },
      contextSize: 1024,
    });
    type Phases = NonNullable<InfillResult["timings"]["phases"]>;
    type Runs = number[] & { inside: number[]; phases: Phases[]; promptN: number[]; predictedN: number[] };
    const viaSidecar = (client: SidecarProcess, into: Runs) => async (at: number) => {
      const t0 = performance.now();
      const r = await client.request("completion/infill", request(at));
      into.push(performance.now() - t0);
      into.inside.push(r.timings.totalMs);
      if (r.timings.phases) into.phases.push(r.timings.phases);
      into.promptN.push(r.usage.evaluatedTokens);
      into.predictedN.push(r.usage.completionTokens);
    };
    const newRuns = (): Runs => Object.assign([] as number[], { inside: [], phases: [], promptN: [], predictedN: [] });
    const fimEmbedded = newRuns();
    const fimRemote = newRuns();
    const fimDirect: number[] = [];
    /** llama-server's own timings of each direct request. */
    const directTimings: Array<{ prompt_ms: number; predicted_ms: number; prompt_n: number; predicted_n: number }> = [];
    const direct = async (at: number) => {
      const r = request(at);
      const t0 = performance.now();
      await fetch(`${fimServer.url}/infill`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          input_prefix: r.prefix,
          input_suffix: r.suffix,
          n_predict: 16,
          temperature: 0,
          cache_prompt: true,
          stop: ["\n"],
        }),
      }).then(async (res) => {
        if (!res.ok) throw new Error(`/infill answered ${res.status}`);
        const body = (await res.json()) as {
          timings: { prompt_ms: number; predicted_ms: number; prompt_n: number; predicted_n: number };
        };
        directTimings.push(body.timings);
      });
      fimDirect.push(performance.now() - t0);
    };
    const flush = (k: number) =>
      fetch(`${fimServer.url}/infill`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ input_prefix: `// ${k}`, input_suffix: "", n_predict: 1, cache_prompt: true }),
      }).then((res) => res.arrayBuffer());
    const paths = [viaSidecar(sidecar, fimEmbedded), viaSidecar(remoteSidecar, fimRemote), direct];
    for (const [k, at] of positions.entries()) {
      for (let j = 0; j < paths.length; j++) {
        await flush(k * paths.length + j);
        await paths[(k + j) % paths.length]!(at);
      }
    }
    await remoteSidecar.stop();
    console.log(
      `\nFIM (${path.basename(values["fim-model"]!)}, ${runs} positions of ${path.basename(values.file!)}, 16 tokens)   p50 ms   p95 ms`,
    );
    for (const [name, r] of [
      ["embedded (sidecar, node-llama-cpp)", fimEmbedded],
      ["llama-server through Hearth", fimRemote],
      ["llama-server /infill direct", fimDirect],
    ] as const) {
      console.log(`  ${name.padEnd(40)} ${f(pct(r, 50))} ${f(pct(r, 95))}`);
    }
    console.log(
      `  of which inside the sidecar (its own timing): embedded ${f(pct(fimEmbedded.inside, 50))}, through Hearth ${f(pct(fimRemote.inside, 50))} ms p50; the rest is IPC`,
    );
    // One request, phase by phase (p50 of each phase over the positions; the phases' p50s need not add up exactly).
    const p50 = (xs: number[]) => pct(xs, 50);
    const phase = (k: keyof Phases) => p50(fimEmbedded.phases.map((p) => p[k]));
    const rpc = p50(fimEmbedded.map((ms, i) => ms - fimEmbedded.inside[i]!));
    console.log(`  Per phase, p50 ms                          embedded   llama-server /infill (its timings)`);
    console.log(`    tokenize prefix, suffix, context         ${f(phase("tokenizeMs"))}`);
    console.log(`    KV-cache prefix match                    ${f(phase("matchMs"))}`);
    console.log(
      `    prompt → first token                     ${f(phase("promptMs"))}   ${f(p50(directTimings.map((t) => t.prompt_ms)))} (prompt_ms)`,
    );
    console.log(
      `    other tokens (decode, sample, detok)     ${f(phase("decodeMs"))}   ${f(p50(directTimings.map((t) => t.predicted_ms)))} (predicted_ms)`,
    );
    console.log(`    finish (stops, syntax trim)              ${f(phase("finishMs"))}`);
    // The same work on both paths: prompt tokens evaluated and tokens generated, p50.
    console.log(
      `    prompt tokens evaluated / generated      ${f(p50(fimEmbedded.promptN))} / ${p50(fimEmbedded.predictedN)}   ${f(p50(directTimings.map((t) => t.prompt_n)))} / ${p50(directTimings.map((t) => t.predicted_n))}`,
    );
    console.log(`    JSON-RPC round trip + client             ${f(rpc)}`);
    const aroundDirect = fimDirect.map((ms, i) => ms - directTimings[i]!.prompt_ms - directTimings[i]!.predicted_ms);
    console.log(`    HTTP + JSON + server outside its timings            ${f(p50(aroundDirect))}`);
    console.log(
      `  Hearth's client on llama-server adds ${f(pct(fimRemote, 50) - pct(fimDirect, 50))} ms p50 (goal ≤ 2 ms); ` +
        `embedded/direct p50 ${(pct(fimEmbedded, 50) / pct(fimDirect, 50)).toFixed(2)}x`,
    );
  }
  if (want("embedding")) {
    // ---- embedding
    const embedServer = await startLlamaServer(["-m", values["embedding-model"]!, "--embeddings", "-c", "512"]);
    servers.push(embedServer);
    // Texts: consecutive 12-line pieces of the source file (chunk-sized), sent 32 per request as the index does.
    const lines = source.split("\n");
    const pieces: string[] = [];
    for (let i = 0; i < lines.length && pieces.length < 256; i += 12) {
      const piece = lines.slice(i, i + 12).join("\n");
      if (piece.trim()) pieces.push(piece);
    }
    const batches: string[][] = [];
    for (let i = 0; i < pieces.length; i += 32) batches.push(pieces.slice(i, i + 32));
    const embedRounds = Math.max(1, Math.round(runs / 10));
    const hearthEmbed = async (model: ModelSpec) => {
      await sidecar.request("model/load", { role: "embedding", model, contextSize: 512 });
      await sidecar.request("embedding/embed", { texts: batches[0]! }); // warm-up
      const t0 = performance.now();
      for (let round = 0; round < embedRounds; round++) {
        for (const texts of batches) await sidecar.request("embedding/embed", { texts });
      }
      return performance.now() - t0;
    };
    let counted = 0; // tokens of all pieces, as llama-server counts them (the same tokenizer for every row)
    const directEmbed = async () => {
      const post = (input: string[]) =>
        fetch(`${embedServer.url}/v1/embeddings`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ input }),
        }).then(async (res) => {
          if (!res.ok) throw new Error(`/v1/embeddings answered ${res.status}: ${await res.text()}`);
          return (await res.json()) as { usage?: { prompt_tokens?: number } };
        });
      await post(batches[0]!);
      const t0 = performance.now();
      for (let round = 0; round < embedRounds; round++) {
        counted = 0;
        for (const input of batches) counted += (await post(input)).usage?.prompt_tokens ?? 0;
      }
      return performance.now() - t0;
    };
    const embedEmbedded = await hearthEmbed({ uri: values["embedding-model"]! });
    const embedRemote = await hearthEmbed({ uri: "", engine: { url: embedServer.url, kind: "llama-server" } });
    const embedDirect = await directEmbed();
    const perSecond = (ms: number) => (counted * embedRounds) / (ms / 1000);
    console.log(
      `\nEmbedding (${path.basename(values["embedding-model"]!)}, ${pieces.length} pieces × ${embedRounds} rounds, ${counted} tokens a round, 32 per request)   tokens/s`,
    );
    for (const [name, ms] of [
      ["embedded (sidecar, node-llama-cpp)", embedEmbedded],
      ["llama-server through Hearth", embedRemote],
      ["llama-server /v1/embeddings direct", embedDirect],
    ] as const) {
      console.log(`  ${name.padEnd(40)} ${f(perSecond(ms))}`);
    }
    console.log(
      `  through Hearth/direct ${(perSecond(embedRemote) / perSecond(embedDirect)).toFixed(2)}x; ` +
        `embedded/direct ${(perSecond(embedEmbedded) / perSecond(embedDirect)).toFixed(2)}x`,
    );
  }
} finally {
  await sidecar.stop();
  await Promise.all(servers.map((s) => s.stop()));
}
