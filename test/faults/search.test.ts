import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SidecarProcess } from "../../common/sidecar/SidecarProcess";
import { MAX_QUERY_CHARS } from "../../shared/guards";
import { ErrorCodes, type IndexTarget, type SearchMode } from "../../shared/protocol";
import { errorOf, spawnSidecar } from "../sidecar/helpers";
import { labModel } from "../testModels";

/**
 * A real sidecar with `files` written under a fresh temp folder's `src/` and indexed lexically; `stop` ends the
 * sidecar and removes the folder.
 */
async function indexedFiles(
  prefix: string,
  files: Record<string, string>,
): Promise<{ sidecar: SidecarProcess; target: IndexTarget; stop: () => Promise<void> }> {
  const { sidecar } = await spawnSidecar();
  const work = await fs.mkdtemp(path.join(os.tmpdir(), prefix));
  await fs.mkdir(path.join(work, "src"));
  for (const [name, text] of Object.entries(files)) await fs.writeFile(path.join(work, "src", name), text);
  const target = { root: path.join(work, "src"), storageDir: path.join(work, "db") };
  await sidecar.request("index/build", target);
  return {
    sidecar,
    target,
    stop: async () => {
      await sidecar.stop();
      await fs.rm(work, { recursive: true, force: true });
    },
  };
}

describe("fault suite: queries that cannot be searched get a clear error", () => {
  let sidecar: SidecarProcess;
  let target: IndexTarget;
  let stop: () => Promise<void>;
  beforeAll(async () => {
    ({ sidecar, target, stop } = await indexedFiles("hearth-faults-search-", {
      "widgets.ts": "export function frobnicateWidgets() {\n  return 1;\n}\n",
    }));
  });
  afterAll(() => stop());

  it.each([
    ["an empty query", "lexical", ""],
    ["a blank query", "lexical", "   \n\t"],
    ["an empty query", "hybrid", ""],
    ["an empty query", "vector", ""],
    [`a query of ${MAX_QUERY_CHARS + 1} characters`, "lexical", "x".repeat(MAX_QUERY_CHARS + 1)],
  ] as Array<[string, SearchMode, string]>)(
    "%s in %s mode gets InvalidParams naming 'query'",
    async (_label, mode, query) => {
      const error = await errorOf(sidecar.request("index/search", { ...target, query, mode }));
      expect(error.code).toBe(ErrorCodes.InvalidParams);
      expect(error.message).toMatch(/'query' must be/);
    },
  );

  it("the sidecar still searches afterwards", async () => {
    const r = await sidecar.request("index/search", { ...target, query: "frobnicate widgets" });
    expect(r.hits[0]?.symbol).toBe("frobnicateWidgets");
  });
});

describe("fault suite: lexical search finds words outside ASCII", () => {
  let sidecar: SidecarProcess;
  let target: IndexTarget;
  let stop: () => Promise<void>;
  beforeAll(async () => {
    const files: Record<string, string> = {
      "german.ts": "export function größeBerechnen(breite: number) {\n  return breite * 2;\n}\n",
      "russian.ts": "export function счётчикЗапросов() {\n  return 0;\n}\n",
      "chinese.ts": "// 读取配置文件\nexport function 读取配置() {\n  return {};\n}\n",
      "french.ts": "export function résuméParser(texte: string) {\n  return texte;\n}\n",
      "plain.ts": "export function unrelatedThing() {\n  return 1;\n}\n",
    };
    ({ sidecar, target, stop } = await indexedFiles("hearth-faults-unicode-", files));
  });
  afterAll(() => stop());

  it.each([
    ["an accented identifier part", "größe", "german.ts"],
    ["a Cyrillic identifier part", "запросов", "russian.ts"],
    ["a Cyrillic word with ё typed as е", "счетчик", "russian.ts"],
    ["Chinese characters inside a longer run", "配置", "chinese.ts"],
    ["an accented word typed without accents", "resume parser", "french.ts"],
  ])("%s (%s) finds %s", async (_label, query, file) => {
    const r = await sidecar.request("index/search", { ...target, query, mode: "lexical" });
    expect(r.hits[0]?.path).toBe(file);
  });
});

describe("fault suite: the reranker fits every pair into a small context", () => {
  let sidecar: SidecarProcess;
  let target: IndexTarget;
  let stop: () => Promise<void>;
  beforeAll(async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 6; i++) {
      const body = Array.from({ length: 20 }, (_, k) => `  const step${k} = widget${i} * ${k};`).join("\n");
      files[`w${i}.ts`] = `export function resizeWidget${i}(widget${i}: number) {\n${body}\n}\n`;
    }
    ({ sidecar, target, stop } = await indexedFiles("hearth-faults-rerank-", files));
  });
  afterAll(() => stop());

  it("a reranker loaded with a 16-token context reranks long chunks (it overflowed the context)", async () => {
    await sidecar.request("model/load", { role: "rerank", model: { uri: labModel("reranker") }, contextSize: 16 });
    const r = await sidecar.request("index/search", {
      ...target,
      query: "resize the widget by steps",
      mode: "lexical",
    });
    expect(r.reranked).toBe(true);
    expect(r.hits.length).toBeGreaterThan(1);
    expect(r.hits.every((h) => typeof h.scores.rerank === "number")).toBe(true);
  });
});
