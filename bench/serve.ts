/**
 * `npm run bench:serve` — load and soak of `hearth serve`, side by side with llama-server serving the same
 * models with the same parallel slots (one: Hearth decodes one chat answer at a time). Loopback only; every
 * loop is bounded in count and time. Figures, not assertions:
 *   - load: N concurrent streaming chat clients and M concurrent embedding clients for a fixed number of
 *     requests each: requests/s, TTFT and total latency p50/p95/p99, errors by status;
 *   - soak (Hearth): the same mix for a fixed time: RSS of the server and its sidecar at start and end, growth
 *     per 1,000 requests, errors by status.
 *
 *   npm run bench:serve [-- --chat-clients 16] [--embed-clients 4] [--requests 160] [--soak-seconds 300]
 *                          [--max-tokens 32] [--chat-model <gguf>] [--embedding-model <gguf>]
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { freePort, startLlamaServer, type RunningLlamaServer } from "../test/engines/llamaServer";
import { pct } from "./stats";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "..");
const { values } = parseArgs({
  options: {
    "chat-model": { type: "string", default: path.join(root, "..", "shared", "models", "stories260K.gguf") },
    "embedding-model": { type: "string", default: path.join(root, "lab", "models", "hearth-lab-embedding.gguf") },
    "chat-clients": { type: "string", default: "16" },
    "embed-clients": { type: "string", default: "4" },
    requests: { type: "string", default: "160" },
    "soak-seconds": { type: "string", default: "300" },
    "max-tokens": { type: "string", default: "32" },
  },
});
const chatClients = Number(values["chat-clients"]);
const embedClients = Number(values["embed-clients"]);
const requests = Number(values.requests);
const soakSeconds = Number(values["soak-seconds"]);
const maxTokens = Number(values["max-tokens"]);
const source = readFileSync(path.join(root, "node_modules", "semver", "classes", "semver.js"), "utf8");
// Chunk-sized texts of at most 300 characters: inside the lab embedding model's 162-token window, so llama-server
// refuses none (it refuses an input over the window; Hearth cuts it to fit) and both do the same work.
const pieces = source
  .split("\n\n")
  .filter((p) => p.trim().length > 20)
  .map((p) => p.slice(0, 300))
  .slice(0, 64);

async function healthy(url: string, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (child.exitCode !== null) throw new Error(`${url}: the server exited (${child.exitCode})`);
    const ok = await fetch(`${url}/health`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not become healthy`);
}

async function startHearth(): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [
      path.join(root, "dist", "cli.mjs"),
      "serve",
      "--port",
      String(port),
      "--threads",
      "1",
      "--model",
      values["chat-model"]!,
      "--embedding-model",
      values["embedding-model"]!,
      "--context-size",
      "512",
      "--max-queue",
      String(chatClients + embedClients + 4),
    ],
    { stdio: "ignore" },
  );
  const url = `http://127.0.0.1:${port}`;
  await healthy(url, child);
  return { url, child };
}

interface Sample {
  kind: "chat" | "embed";
  status: number;
  ttftMs: number;
  totalMs: number;
}

/** One streaming chat request: TTFT at the first content delta. */
async function chat(url: string, i: number): Promise<Sample> {
  const t0 = performance.now();
  let ttft = Number.NaN;
  try {
    const res = await fetch(`${url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        messages: [{ role: "user", content: `Story ${i % 8}: once upon a time` }],
        max_tokens: maxTokens,
        temperature: 0,
        stream: true,
      }),
      signal: AbortSignal.timeout(120_000),
    });
    if (!res.ok || !res.body) {
      await res.body?.cancel();
      return { kind: "chat", status: res.status, ttftMs: Number.NaN, totalMs: performance.now() - t0 };
    }
    const decoder = new TextDecoder();
    for await (const part of res.body as unknown as AsyncIterable<Uint8Array>) {
      if (Number.isNaN(ttft) && /"content":"[^"]/.test(decoder.decode(part))) ttft = performance.now() - t0;
    }
    return { kind: "chat", status: res.status, ttftMs: ttft, totalMs: performance.now() - t0 };
  } catch {
    return { kind: "chat", status: 0, ttftMs: Number.NaN, totalMs: performance.now() - t0 };
  }
}

async function embed(url: string, i: number): Promise<Sample> {
  const t0 = performance.now();
  try {
    const input = Array.from({ length: 8 }, (_, k) => pieces[(i * 8 + k) % pieces.length]!);
    const res = await fetch(`${url}/v1/embeddings`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ input }),
      signal: AbortSignal.timeout(120_000),
    });
    await res.arrayBuffer();
    const total = performance.now() - t0;
    return { kind: "embed", status: res.status, ttftMs: total, totalMs: total };
  } catch {
    return { kind: "embed", status: 0, ttftMs: Number.NaN, totalMs: performance.now() - t0 };
  }
}

/**
 * Run `clients` concurrent loops of `run` until `count` requests are done or `until` passes.
 * @returns every sample and the wall time, ms.
 */
async function load(
  clients: number,
  count: number,
  until: number,
  run: (i: number) => Promise<Sample>,
): Promise<{ samples: Sample[]; ms: number }> {
  const samples: Sample[] = [];
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (next < count && Date.now() < until) samples.push(await run(next++));
    }),
  );
  return { samples, ms: performance.now() - t0 };
}

/** RSS of a process and its descendants, MiB (Linux /proc). */
function rssMiB(pid: number): number {
  const kb = (p: number): number => {
    try {
      const status = readFileSync(`/proc/${p}/status`, "utf8");
      const own = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
      const children = readFileSync(`/proc/${p}/task/${p}/children`, "utf8").trim().split(/\s+/).filter(Boolean);
      return own + children.reduce((n, c) => n + kb(Number(c)), 0);
    } catch {
      return 0;
    }
  };
  return kb(pid) / 1024;
}

const f = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : "n/a").padStart(8);
function errors(samples: Sample[]): string {
  const by = new Map<number, number>();
  for (const s of samples) if (s.status !== 200) by.set(s.status, (by.get(s.status) ?? 0) + 1);
  return by.size ? [...by].map(([status, n]) => `${status === 0 ? "network" : status}×${n}`).join(" ") : "none";
}

function report(name: string, chatRun: { samples: Sample[]; ms: number }, embedRun: { samples: Sample[]; ms: number }) {
  const ok = (k: Sample["kind"], s: Sample[]) => s.filter((x) => x.kind === k && x.status === 200);
  const chatOk = ok("chat", chatRun.samples);
  const embedOk = ok("embed", embedRun.samples);
  const ttft = chatOk.map((s) => s.ttftMs).filter(Number.isFinite);
  const total = chatOk.map((s) => s.totalMs);
  const emb = embedOk.map((s) => s.totalMs);
  console.log(
    `  ${name.padEnd(12)} chat ${f(chatOk.length / (chatRun.ms / 1000))} req/s  TTFT p50/p95/p99 ${f(pct(ttft, 50))}${f(pct(ttft, 95))}${f(pct(ttft, 99))} ms  total ${f(pct(total, 50))}${f(pct(total, 95))}${f(pct(total, 99))} ms  errors ${errors(chatRun.samples)}`,
  );
  console.log(
    `  ${"".padEnd(12)} embed ${f(embedOk.length / (embedRun.ms / 1000))} req/s (8 texts each)  p50/p95/p99 ${f(pct(emb, 50))}${f(pct(emb, 95))}${f(pct(emb, 99))} ms  errors ${errors(embedRun.samples)}`,
  );
  return { chatRps: chatOk.length / (chatRun.ms / 1000), embedRps: embedOk.length / (embedRun.ms / 1000) };
}

const children: ChildProcess[] = [];
const llamaServers: RunningLlamaServer[] = [];
try {
  const hearth = await startHearth();
  children.push(hearth.child);
  const llamaChat = await startLlamaServer(["-m", values["chat-model"]!, "-c", "512", "-np", "1"]);
  llamaServers.push(llamaChat);
  const llamaEmbed = await startLlamaServer([
    "-m",
    values["embedding-model"]!,
    "--embeddings",
    "-c",
    "512",
    "-np",
    "1",
  ]);
  llamaServers.push(llamaEmbed);
  console.log(
    `Load: ${chatClients} streaming chat clients (${maxTokens} tokens, greedy) and ${embedClients} embedding clients, ${requests} requests each kind; one slot per model, 1 thread`,
  );
  const far = Date.now() + 600_000;
  const both = async (chatUrl: string, embedUrl: string) => {
    const [c, e] = await Promise.all([
      load(chatClients, requests, far, (i) => chat(chatUrl, i)),
      load(embedClients, requests, far, (i) => embed(embedUrl, i)),
    ]);
    return { c, e };
  };
  await both(hearth.url, hearth.url); // warm-up round trip of everything
  const h = await both(hearth.url, hearth.url);
  const l = await both(llamaChat.url, llamaEmbed.url);
  const hr = report("hearth serve", h.c, h.e);
  const lr = report("llama-server", l.c, l.e);
  console.log(
    `  throughput hearth/llama-server: chat ${(hr.chatRps / lr.chatRps).toFixed(2)}x, embeddings ${(hr.embedRps / lr.embedRps).toFixed(2)}x (goal ≥ 0.9x)`,
  );

  console.log(`\nSoak (hearth serve, ${soakSeconds} s, the same mix)`);
  const until = Date.now() + soakSeconds * 1000;
  // RSS sampled every tenth of the soak, with the requests done by then: the second half's slope says whether
  // memory keeps growing once warm (the first half includes caches filling up).
  let done = 0;
  const rss: Array<{ mib: number; requests: number }> = [{ mib: rssMiB(hearth.child.pid!), requests: 0 }];
  const sampler = setInterval(() => rss.push({ mib: rssMiB(hearth.child.pid!), requests: done }), soakSeconds * 100);
  const counted = (run: (i: number) => Promise<Sample>) => async (i: number) => {
    const s = await run(i);
    done++;
    return s;
  };
  const [c, e] = await Promise.all([
    load(
      chatClients,
      Number.MAX_SAFE_INTEGER,
      until,
      counted((i) => chat(hearth.url, i)),
    ),
    load(
      embedClients,
      Number.MAX_SAFE_INTEGER,
      until,
      counted((i) => embed(hearth.url, i)),
    ),
  ]);
  clearInterval(sampler);
  rss.push({ mib: rssMiB(hearth.child.pid!), requests: done });
  report("hearth serve", c, e);
  const first = rss[0]!;
  const mid = rss[Math.floor(rss.length / 2)]!;
  const last = rss.at(-1)!;
  const per1000 = (a: typeof first, b: typeof first) =>
    b.requests > a.requests ? (((b.mib - a.mib) / (b.requests - a.requests)) * 1000).toFixed(2) : "n/a";
  console.log(
    `  ${done} requests; RSS (server + sidecar) ${rss.map((r) => r.mib.toFixed(0)).join(" → ")} MiB; ` +
      `growth per 1,000 requests: whole soak ${per1000(first, last)} MiB, second half ${per1000(mid, last)} MiB`,
  );
} finally {
  for (const child of children) child.kill("SIGTERM");
  await Promise.all(llamaServers.map((s) => s.stop()));
}
