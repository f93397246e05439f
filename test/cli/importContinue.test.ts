import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hearth } from "./hearth";

/** Continue configs as its reference documents them (config.yaml schema v1, and the older config.json). */
const YAML = `name: My Config
version: 0.0.1
schema: v1
models:
  - name: Qwen Chat
    provider: ollama
    model: qwen2.5-coder:7b
  - name: Qwen Autocomplete
    provider: ollama
    model: qwen2.5-coder:1.5b-base
    roles: [autocomplete]
  - name: Team vLLM embeddings
    provider: vllm
    model: BAAI/bge-m3
    apiBase: http://vllm.internal:8000/v1
    apiKey: sk-team-secret-123
    roles: [embed]
  - name: Cohere Rerank
    provider: cohere
    model: rerank-v3.5
    apiKey: \${{ secrets.COHERE }}
    roles: [rerank]
`;

const JSON_CONFIG = {
  models: [{ title: "Local llama.cpp", provider: "llama.cpp", model: "AUTODETECT", apiBase: "http://127.0.0.1:8012" }],
  tabAutocompleteModel: { title: "LM Studio coder", provider: "lmstudio", model: "qwen2.5-coder-1.5b" },
  embeddingsProvider: { provider: "transformers.js" },
};

describe("hearth import-continue", () => {
  let home: string;
  beforeAll(async () => {
    home = await fs.mkdtemp(path.join(os.tmpdir(), "hearth-continue-"));
    await fs.mkdir(path.join(home, ".continue"));
    await fs.writeFile(path.join(home, ".continue", "config.yaml"), YAML);
    await fs.writeFile(path.join(home, "config.json"), JSON.stringify(JSON_CONFIG));
  });
  afterAll(() => fs.rm(home, { recursive: true, force: true }));

  it("maps config.yaml's models by role, lists what it cannot map, and never prints a key", async () => {
    const r = await hearth(["import-continue", "--json"], "", { env: { HOME: home } });
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as {
      roles: Record<string, { kind: string; url: string; model: string; apiKey: boolean }>;
      settings: Record<string, string>;
      notMapped: string[];
    };
    expect(out.roles).toEqual({
      chat: {
        kind: "ollama",
        url: "http://localhost:11434",
        model: "qwen2.5-coder:7b",
        from: "Qwen Chat",
        apiKey: false,
      },
      completion: {
        kind: "ollama",
        url: "http://localhost:11434",
        model: "qwen2.5-coder:1.5b-base",
        from: "Qwen Autocomplete",
        apiKey: false,
      },
      embedding: {
        kind: "vllm",
        url: "http://vllm.internal:8000",
        model: "BAAI/bge-m3",
        from: "Team vLLM embeddings",
        apiKey: true,
      },
    });
    expect(out.settings["hearth.engines.embedding"]).toBe("http://vllm.internal:8000");
    expect(out.notMapped).toEqual([
      "Cohere Rerank: provider 'cohere' is not an engine Hearth speaks to (ollama, llama.cpp, vllm, lmstudio, openai).",
    ]);
    const text = await hearth(["import-continue"], "", { env: { HOME: home } });
    expect(text.stdout).toContain("chat        Qwen Chat → ollama at http://localhost:11434, model qwen2.5-coder:7b");
    expect(text.stdout).toContain("API keys are in the file for http://vllm.internal:8000 (not shown)");
    expect(text.stdout + text.stderr + r.stdout).not.toContain("sk-team-secret-123");
  });

  it("reads the older config.json: chat from models, autocomplete from tabAutocompleteModel", async () => {
    const r = await hearth(["import-continue", "--continue-config", path.join(home, "config.json"), "--json"]);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as {
      roles: Record<string, { kind: string; url: string; model: string }>;
      notMapped: string[];
    };
    expect(out.roles["chat"]).toMatchObject({ kind: "llama-server", url: "http://127.0.0.1:8012", model: "" });
    expect(out.roles["completion"]).toMatchObject({
      kind: "lmstudio",
      url: "http://localhost:1234",
      model: "qwen2.5-coder-1.5b",
    });
    expect(out.notMapped).toEqual([]); // transformers.js has no model field: not a model entry
  });

  it("no config: exit 1 and a sentence naming where it looked", async () => {
    const empty = await fs.mkdtemp(path.join(os.tmpdir(), "hearth-continue-none-"));
    const r = await hearth(["import-continue"], "", { env: { HOME: empty } });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^hearth: No Continue config found \(looked for .*config\.yaml and .*config\.json\)\.\n$/);
    await fs.rm(empty, { recursive: true, force: true });
  });
});
