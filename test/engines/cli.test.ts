import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hearth } from "../cli/hearth";
import { labModel, testModel } from "../testModels";
import { freePort, startLlamaServer, type RunningLlamaServer } from "./llamaServer";

/** The CLI contract of issue 17 against a real llama-server: chat, complete and index/search on remote engines. */
describe("hearth CLI on a remote engine (real llama-server)", () => {
  let chat: RunningLlamaServer;
  let fim: RunningLlamaServer;
  let embed: RunningLlamaServer;
  let work: string;
  beforeAll(async () => {
    [chat, fim, embed] = await Promise.all([
      startLlamaServer(["-m", await testModel("stories260K"), "-c", "512"]),
      startLlamaServer(["-m", labModel("code"), "-c", "1024"]),
      startLlamaServer(["-m", labModel("embedding"), "--embeddings"]),
    ]);
    work = await fs.mkdtemp(path.join(os.tmpdir(), "hearth-engines-cli-"));
    await fs.mkdir(path.join(work, "src"));
    await fs.writeFile(
      path.join(work, "src", "a.ts"),
      "export function add(a: number, b: number): number {\n  return a + b;\n}\n",
    );
  }, 120_000);
  afterAll(async () => {
    await Promise.all([chat, fim, embed].map((s) => s?.stop()));
    await fs.rm(work, { recursive: true, force: true });
  });

  it("hearth chat --engine-url -p streams the engine's answer (no --model: its only model)", async () => {
    const r = await hearth(["chat", "--engine-url", chat.url, "-p", "Once upon a time", "--max-tokens", "16"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout.trim().length).toBeGreaterThan(0);
  });

  it("hearth complete --engine-url --json gives a suggestion from /infill", async () => {
    const r = await hearth([
      "complete",
      path.join(work, "src", "a.ts"),
      "--line",
      "2",
      "--column",
      "10",
      "--engine-url",
      fim.url,
      "--json",
    ]);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { suggestion: string; reason: string; promptTokens: number };
    expect(typeof out.suggestion).toBe("string");
    expect(out.promptTokens).toBeGreaterThan(0);
  });

  it("hearth index and search --embedding-engine-url embed on the engine", async () => {
    const dir = path.join(work, "db");
    const built = await hearth([
      "index",
      path.join(work, "src"),
      "--index-dir",
      dir,
      "--embedding-engine-url",
      embed.url,
    ]);
    expect(built.code).toBe(0);
    expect(built.stderr).toMatch(/Indexed 1 files .* Embeddings: \S*hearth-lab-embedding\.gguf/);
    const found = await hearth([
      "search",
      path.join(work, "src"),
      "add two numbers",
      "--index-dir",
      dir,
      "--embedding-engine-url",
      embed.url,
      "--mode",
      "vector",
      "--json",
    ]);
    expect(found.code).toBe(0);
    expect((JSON.parse(found.stdout) as Array<{ path: string }>)[0]?.path).toBe("a.ts");
  });

  it("hearth models --engine-url lists the engine's models with the context it allocated", async () => {
    const r = await hearth(["models", "--engine-url", chat.url]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      new RegExp(
        `^llama-server at ${chat.url.replace(/\./g, "\\.")}: 1 model\\(s\\)\n  \\S*stories260K\\.gguf  context 512\n$`,
      ),
    );
  });

  it("hearth doctor: one line per role, why one does not work, exit 1; all working is exit 0", async () => {
    const mixed = await hearth(["doctor", "--engine-url", chat.url, "--embedding-engine-url", embed.url]);
    expect(mixed.code).toBe(1);
    const lines = mixed.stdout.trim().split("\n");
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^chat {8}works: \S*stories260K\.gguf on llama-server at .*, context 512$/);
    expect(lines[1]).toMatch(
      /^completion {2}does not work: The engine at .* cannot do fill-in-the-middle with this model \(501/,
    );
    expect(lines[2]).toMatch(/^embedding {3}works: \S*hearth-lab-embedding\.gguf on llama-server/);
    const ok = await hearth(["doctor", "--engine-url", fim.url]);
    expect(ok.stdout).toMatch(/^chat {8}works: .*\ncompletion {2}works: /);
    expect(ok.code).toBe(0);
  });

  it("an engine URL where nothing listens: exit 1 and one sentence naming it", async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const r = await hearth(["chat", "--engine-url", url, "-p", "hi"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `hearth: Cannot reach the engine at ${url} (connection refused: nothing listens there). Start the server (llama-server, Ollama, vLLM, LM Studio) or fix the engine URL.\n`,
    );
  });
});
