import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { applyPatch } from "diff";
import { beforeAll, describe, expect, it } from "vitest";
import { parseConversation } from "../../common/chat/conversation";
import { writeSyntheticFimModel } from "../fixtures/synthetic/syntheticModels";
import { testModel } from "../testModels";
import { hearth } from "./hearth";

let model: string;
beforeAll(async () => {
  model = await testModel("stories260K");
});

describe("hearth chat (CLI)", () => {
  it("one-shot mode prints real model text and exits 0", async () => {
    const r = await hearth([
      "chat",
      "--model",
      model,
      "-p",
      "Once upon a time",
      "--max-tokens",
      "40",
      "--temperature",
      "0",
      "--threads",
      "1",
    ]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    // stories260K continues with TinyStories prose: several real words, not an error.
    expect(r.stdout.trim().split(/\s+/).length).toBeGreaterThan(8);
    expect(r.stdout).toMatch(/[a-z]+ [a-z]+/);
  });

  it("one-shot mode exits non-zero with the sidecar's message when the model is missing", async () => {
    const r = await hearth(["chat", "--model", "/nonexistent/model.gguf", "-p", "hi"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Model file not found: \/nonexistent\/model.gguf/);
    expect(r.stdout).toBe("");
  });

  it("rejects bad flags with usage errors", async () => {
    expect((await hearth(["chat", "--gpu", "rocm"])).stderr).toMatch(/--gpu must be one of/);
    expect((await hearth(["chat", "--max-tokens", "many"])).stderr).toMatch(/--max-tokens must be an integer/);
    expect((await hearth(["frobnicate"])).code).toBe(2);
  });

  it("each command takes only its own flags: a foreign or unknown flag, or a surplus argument, is exit 2 naming it", async () => {
    const foreign = await hearth(["index", "somewhere", "--temperature", "3"]);
    expect(foreign.code).toBe(2);
    expect(foreign.stderr).toBe(
      "hearth: 'index' does not take --temperature, an option of chat, run, agent; 'hearth index --help' lists its options\n",
    );
    const unknown = await hearth(["serve", "--frobnicate"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/'serve' has no option --frobnicate/);
    const surplus = await hearth(["search", "somewhere", "two", "words"]);
    expect(surplus.code).toBe(2);
    expect(surplus.stderr).toMatch(/'search' takes at most 2 argument\(s\); 'words' is one too many/);
  });

  it("hearth --help lists every command; hearth <command> --help shows that command's flags only", async () => {
    const overview = await hearth(["--help"]);
    expect(overview.code).toBe(0);
    const names = [...overview.stdout.matchAll(/^ {2}([a-z][a-z-]*) {2,}/gm)].map((m) => m[1]);
    expect(names).toEqual([
      "setup",
      "chat",
      "complete",
      "next-edit",
      "index",
      "search",
      "run",
      "agent",
      "mcp",
      "serve",
      "models",
      "doctor",
      "config",
      "import-continue",
    ]);
    for (const name of names) {
      const help = await hearth([name!, "--help"]);
      expect(help.code, name).toBe(0);
      expect(help.stdout, name).toMatch(new RegExp(`^Usage: hearth ${name} `));
    }
    const index = (await hearth(["index", "--help"])).stdout;
    expect(index).toContain("--embedding-model");
    expect(index).not.toContain("--temperature");
  });

  it("REPL: answers, /stats shows non-zero token counts, /params and /help work, /exit leaves", async () => {
    const input = [
      "Once upon a time",
      "/params max-tokens 12",
      "Lily saw a dog",
      "/stats",
      "/hepl",
      "/help",
      "/exit",
      "",
    ].join("\n");
    const r = await hearth(
      ["chat", "--model", model, "--temperature", "0", "--max-tokens", "30", "--threads", "1"],
      input,
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("You> Once upon a time");
    expect(r.stdout.match(/Assistant> \S+/g)?.length).toBe(2);
    const promptTokens = Number(/Session: 2 answers, (\d+) prompt tokens/.exec(r.stdout)?.[1]);
    const generated = Number(/prompt tokens, (\d+) generated tokens/.exec(r.stdout)?.[1]);
    expect(promptTokens).toBeGreaterThan(0);
    expect(generated).toBe(12);
    expect(r.stdout).toMatch(/Model: stories260K.gguf/);
    expect(r.stdout).toMatch(/TTFT \d+(\.\d+)? ms, \d+(\.\d+)? tokens\/s/);
    expect(r.stderr).toMatch(/Unknown command '\/hepl'/);
    expect(r.stdout).toMatch(/\/backend \[auto\|cpu\|cuda\|vulkan\|metal\]/);
    expect(r.stdout).toContain("Bye.");
  });

  it("--history resumes and saves the conversation as JSON", async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "hearth-cli-"));
    const file = path.join(dir, "chat.json");
    const args = [
      "chat",
      "--model",
      model,
      "--temperature",
      "0",
      "--max-tokens",
      "8",
      "--threads",
      "1",
      "--history",
      file,
    ];
    expect((await hearth([...args, "-p", "Once upon a time"])).code).toBe(0);
    expect((await hearth([...args, "-p", "Then"])).code).toBe(0);
    const saved = parseConversation(await fs.readFile(file, "utf8"), file);
    expect(saved.messages.map((m) => m.role)).toEqual(["user", "assistant", "user", "assistant"]);
    expect(saved.messages[2]?.content).toBe("Then");
  });

  it("multi-line input: a trailing backslash continues the message", async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "hearth-cli-"));
    const file = path.join(dir, "chat.json");
    const r = await hearth(
      ["chat", "--model", model, "--max-tokens", "4", "--threads", "1", "--history", file],
      "first line \\\nsecond line\n/exit\n",
    );
    expect(r.code).toBe(0);
    const saved = parseConversation(await fs.readFile(file, "utf8"));
    expect(saved.messages[0]?.content).toBe("first line \nsecond line");
  });
});

describe("hearth complete (CLI)", () => {
  const file = path.join(os.tmpdir(), `hearth-complete-${process.pid}.ts`);
  const fim = path.join(os.tmpdir(), `hearth-synthetic-fim-${process.pid}.gguf`);
  beforeAll(async () => {
    await fs.writeFile(
      file,
      "export function add(a: number, b: number) {\n  return a + b;\n}\nconst total = add(1, \n",
    );
    writeSyntheticFimModel(fim); // SYNTHETIC: its suggestion is noise; this checks the command's plumbing.
  });

  it("--json reports the suggestion, token counts and timings (SYNTHETIC FIM model)", async () => {
    const r = await hearth([
      "complete",
      file,
      "--line",
      "4",
      "--column",
      "22",
      "--model",
      fim,
      "--json",
      "--threads",
      "1",
      "--max-tokens",
      "6",
    ]);
    const out = JSON.parse(r.stdout);
    expect(out.promptTokens).toBeGreaterThan(20);
    expect(out.generatedTokens).toBeGreaterThan(0);
    expect(out.timings.latencyMs).toBeGreaterThan(0);
    expect(["shown", "filtered"]).toContain(out.reason);
    expect(r.code).toBe(out.suggestion === null ? 1 : 0);
  });

  it("a model without FIM tokens: exit 1 with the reason", async () => {
    const r = await hearth(["complete", file, "--line", "4", "--column", "22", "--model", model, "--threads", "1"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no fill-in-the-middle \(FIM\) tokens/);
  });

  it("rejects a position outside the file", async () => {
    const r = await hearth(["complete", file, "--line", "99", "--column", "1", "--model", fim]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/--line 99 is outside the file/);
  });
});

describe("hearth index / hearth search (CLI contract)", () => {
  let root: string;
  let indexDir: string;
  beforeAll(async () => {
    // A real codebase: a copy of Hearth's own sidecar sources, plus one file discovery must skip.
    root = await fs.mkdtemp(path.join(os.tmpdir(), "hearth-cli-code-"));
    await fs.cp(path.resolve(__dirname, "../../sidecar"), root, { recursive: true });
    await fs.writeFile(path.join(root, "data.ts"), Buffer.from([0xff, 0xfe, 0x00, 0x41]));
    indexDir = path.join(root, "..", `${path.basename(root)}-index`);
  });

  it("index builds a lexical index without a model and --verbose lists skipped files with reasons", async () => {
    const r = await hearth(["index", root, "--index-dir", indexDir, "--verbose"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/skipped data\.ts: binary \(NUL bytes\)/);
    expect(r.stderr).toMatch(/Indexed \d+ files \(\d+ chunks\).*Lexical only/s);
    const again = await hearth(["index", root, "--index-dir", indexDir]);
    expect(again.stderr).toMatch(/0 new or changed, \d+ unchanged/);
  });

  it("search --json prints the documented hit shape, best first, paths relative to the folder", async () => {
    const r = await hearth([
      "search",
      root,
      "reciprocal rank fusion",
      "--index-dir",
      indexDir,
      "--mode",
      "lexical",
      "--top",
      "3",
      "--json",
    ]);
    expect(r.code).toBe(0);
    const hits = JSON.parse(r.stdout) as Array<Record<string, unknown>>;
    expect(hits).toHaveLength(3);
    expect(Object.keys(hits[0] ?? {}).sort()).toEqual([
      "endLine",
      "path",
      "score",
      "scores",
      "startLine",
      "symbol",
      "text",
    ]);
    expect(hits[0]).toMatchObject({ path: "search/fusion.ts", symbol: "reciprocalRankFusion" });
    expect((hits[0]?.["scores"] as Record<string, number>)["lexicalRank"]).toBe(1);
    expect(hits.map((h) => h["score"] as number)).toEqual(hits.map((h) => h["score"] as number).sort((a, b) => b - a));
  });

  it("search prints readable hits with their scores, and --queries answers one JSON line per query", async () => {
    const human = await hearth(["search", root, "split identifier", "--index-dir", indexDir, "--top", "2"]);
    expect(human.stdout).toMatch(
      /^1\. embeddingText\/identifierWords\.ts:\d+-\d+ {2}splitIdentifier {2}score [\d.]+\n {3}lexical [\d.]+ \(#1\)/,
    );
    const queries = path.join(root, "..", "queries.jsonl");
    await fs.writeFile(queries, '{"q": "split identifier"}\n\n{"q": "download a model file with a stall watchdog"}\n');
    const batch = await hearth(["search", root, "--queries", queries, "--index-dir", indexDir, "--json", "--top", "5"]);
    expect(batch.code).toBe(0);
    const lines = batch.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { q: string; hits: Array<{ path: string }> });
    expect(lines.map((l) => l.q)).toEqual(["split identifier", "download a model file with a stall watchdog"]);
    expect(lines[1]?.hits.map((h) => h.path)).toContain("models/resolveModel.ts");
  });

  it("the REPL's /search and @codebase search the current directory; the used chunks are saved with the message", async () => {
    const history = path.join(root, "..", `${path.basename(root)}-chat.json`);
    const r = await hearth(
      ["chat", "--model", model, "--max-tokens", "8", "--temperature", "0", "--threads", "1", "--history", history],
      "/search reciprocal rank fusion\n@codebase what does reciprocalRankFusion return?\n/exit\n",
      { cwd: root, env: { HEARTH_INDEX_DIR: path.join(root, "..", `${path.basename(root)}-repl-index`) } },
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /Search 'reciprocal rank fusion' \(lexical, \d+ ms\):\n1\. search\/fusion\.ts:\d+-\d+ {2}reciprocalRankFusion/,
    );
    expect(r.stdout).toMatch(/\(using [^)]*search\/fusion\.ts:\d+-\d+/);
    const saved = parseConversation(await fs.readFile(history, "utf8"), history);
    const asked = saved.messages.find((m) => m.content.startsWith("@codebase"))!;
    expect(asked.sources?.length).toBeGreaterThan(0);
    expect(asked.sources![0]).toMatchObject({
      path: expect.any(String),
      startLine: expect.any(Number),
      why: expect.stringMatching(/lexical/),
    });
    expect(asked.context).toMatch(/^Excerpts from the user's codebase/);
    expect(saved.messages.at(-1)!.role).toBe("assistant");
  });

  it("vector search without an embedding model fails with exit 1 and says what to set", async () => {
    const r = await hearth(["search", root, "anything", "--index-dir", indexDir, "--mode", "vector"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/needs an embedding model/);
    expect((await hearth(["search", root])).stderr).toMatch(/search needs a query/);
  });
});

describe("hearth run (actions headless)", () => {
  let dir: string;
  const source = "export function add(a: number, b: number) {\n  return a + b;\n}\n\nexport const answer = 42;\n";
  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), "hearth-run-"));
    await fs.writeFile(path.join(dir, "math.ts"), source);
    await fs.mkdir(path.join(dir, ".hearth", "prompts"), { recursive: true });
    await fs.writeFile(
      path.join(dir, ".hearth", "prompts", "shout.md"),
      "---\nname: shout\ndescription: Retell the code as a loud story.\ncontext: file\n---\nTell a story about {{path}}:\n{{code}}\n",
    );
    await fs.writeFile(
      path.join(dir, ".hearth", "prompts", "broken.md"),
      "---\nname: broken\ndescription: x\nmode: sing\n---\nbody\n",
    );
  });
  const run = (args: string[], stdin = "") => hearth(args, stdin, { cwd: dir });

  it("doc prints a unified diff that applies to the file and only adds a comment above the range", async () => {
    const r = await run([
      "run",
      "doc",
      "math.ts",
      "--range",
      "1:3",
      "--model",
      model,
      "--max-tokens",
      "160",
      "--temperature",
      "0",
      "--threads",
      "1",
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/--- a\/math\.ts\n\+\+\+ b\/math\.ts\n@@ -1,\d+ \+1,\d+ @@/);
    const patched = applyPatch(source, r.stdout);
    expect(typeof patched).toBe("string");
    expect((patched as string).endsWith(source)).toBe(true);
    expect(patched).not.toBe(source);
    expect(await fs.readFile(path.join(dir, "math.ts"), "utf8")).toBe(source); // nothing written
    // The broken prompt file is reported with its file and line, and does not stop the run.
    expect(r.stderr).toMatch(/broken\.md:4: 'mode' must be one of chat, edit, doc, newFile/);
  });

  it("a custom chat prompt prints the model's answer; unknown prompts and missing input are clear errors", async () => {
    const r = await run(["run", "shout", "math.ts", "--model", model, "--max-tokens", "20", "--threads", "1"]);
    expect(r.code).toBe(0);
    expect(r.stdout.trim().length).toBeGreaterThan(0);
    const unknown = await run(["run", "sing", "math.ts", "--model", model]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/no prompt named 'sing'\. Available: ask, doc, edit, explain, fix, shout, tests/);
    const needs = await run(["run", "edit", "math.ts", "--model", model, "--threads", "1"]);
    expect(needs.code).toBe(1);
    expect(needs.stderr).toMatch(/'edit' needs text: How should the selection change\? \(hearth run: --input/);
  });

  it("the REPL lists prompt files (and broken ones, with file:line) in /help and runs them as slash commands", async () => {
    const r = await run(
      ["chat", "--model", model, "--max-tokens", "12", "--threads", "1"],
      "/help\n/fix math.ts:1-3\n/exit\n",
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Prompts \(\.hearth\/prompts\/\*\.md; built-ins can be overridden\):/);
    expect(r.stdout).toMatch(/\/shout <file>\[:L1-L2\] +Retell the code as a loud story\. +\[.*shout\.md\]/);
    expect(r.stdout).toMatch(/\/explain <file>\[:L1-L2\] +Explain the selected code/);
    expect(r.stdout).toMatch(/Prompt files with errors \(not loaded\):\n {2}.*broken\.md:4: 'mode' must be one of/);
    expect(r.stdout).toMatch(/--- a\/math\.ts\n\+\+\+ b\/math\.ts/);
  });
});
