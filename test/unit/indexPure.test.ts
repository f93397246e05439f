import { describe, expect, it } from "vitest";
import { convexFusion, interpolate, reciprocalRankFusion } from "../../sidecar/search/fusion";
import { lexicalTerms, queryTerms, splitIdentifier } from "../../sidecar/search/identifiers";
import { languageOf } from "../../shared/languages";
import { embeddingPrefixes } from "../../sidecar/embeddingText/prefixes";
import { setLanceCpuThreads, sqlString, tableSuffix } from "../../sidecar/search/store";
import { l2Normalize } from "../../shared/vectors";
import { classifyContent, skipReasonByName } from "../../sidecar/search/discover";

describe("identifier splitting", () => {
  it("splits camelCase, PascalCase, acronyms, snake_case and digits", () => {
    expect(splitIdentifier("parseConfigFile")).toEqual(["parse", "config", "file"]);
    expect(splitIdentifier("getHTTPResponse")).toEqual(["get", "http", "response"]);
    expect(splitIdentifier("XMLHttpRequest")).toEqual(["xml", "http", "request"]);
    expect(splitIdentifier("MAX_FILE_BYTES")).toEqual(["max", "file", "bytes"]);
    expect(splitIdentifier("__proto__")).toEqual(["proto"]);
    expect(splitIdentifier("utf8Decode")).toEqual(["utf", "8", "decode"]);
    expect(splitIdentifier("---")).toEqual([]);
  });

  it("keeps the whole identifier and adds its parts; drops overlong words", () => {
    expect(lexicalTerms("const addBusinessDays = (d) => d;")).toBe("const addbusinessdays add business days d d");
    expect(lexicalTerms(`x ${"a".repeat(80)} y`)).toBe("x y");
  });

  it("drops stop words from queries unless nothing else is left", () => {
    expect(queryTerms("Where is the config parsed?")).toBe("config parsed");
    expect(queryTerms("get")).toBe("get");
  });
});

describe("reciprocal-rank fusion", () => {
  it("sums 1/(k+rank) over lists and orders by it", () => {
    const fused = reciprocalRankFusion([{ ids: ["a", "b", "c"] }, { ids: ["c", "a"] }], 60);
    expect(fused.map((f) => f.id)).toEqual(["a", "c", "b"]);
    expect(fused[0]?.score).toBeCloseTo(1 / 61 + 1 / 62, 10);
    expect(fused[2]?.score).toBeCloseTo(1 / 62, 10);
  });

  it("convex fusion: BM25 over the list's best, cosine as it is, weighted; missing from a list counts 0", () => {
    const fused = convexFusion(
      [
        { id: "a", score: 10 },
        { id: "b", score: 5 },
      ],
      [
        { id: "b", score: 0.9 },
        { id: "c", score: 0.8 },
      ],
      0.25,
    );
    expect(fused.map((f) => f.id)).toEqual(["a", "b", "c"]);
    expect(fused[0]?.score).toBeCloseTo(0.75, 10);
    expect(fused[1]?.score).toBeCloseTo(0.75 * 0.5 + 0.25 * 0.9, 10);
    expect(fused[2]?.score).toBeCloseTo(0.25 * 0.8, 10);
    expect(convexFusion([{ id: "a", score: 10 }], [{ id: "c", score: 0.8 }], 0.9)[0]?.id).toBe("c");
  });

  it("interpolates reranker and first-stage scores after min-max normalisation", () => {
    // rerank 0.2/0.6/1.0 → 0/0.5/1; first stage 3/2/1 → 1/0.5/0.
    const s = interpolate([0.2, 0.6, 1.0], [3, 2, 1], 0.25);
    expect(s[0]).toBeCloseTo(0.75, 10);
    expect(s[1]).toBeCloseTo(0.5, 10);
    expect(s[2]).toBeCloseTo(0.25, 10);
    expect(interpolate([1, 2, 3], [3, 2, 1], 1)).toEqual([0, 0.5, 1]);
    // A constant list carries no order and adds nothing.
    expect(interpolate([0.5, 0.5], [2, 1], 0.5)).toEqual([0.5, 0]);
  });

  it("weights lists", () => {
    const fused = reciprocalRankFusion([
      { ids: ["a"], weight: 1 },
      { ids: ["b"], weight: 2 },
    ]);
    expect(fused[0]?.id).toBe("b");
  });
});

describe("embedding prefixes and vectors", () => {
  it("knows the families' query/document prefixes and lets a setting override them", () => {
    expect(embeddingPrefixes("nomic-embed-text-v1.5.Q8_0.gguf")).toEqual({
      query: "search_query: ",
      document: "search_document: ",
    });
    expect(embeddingPrefixes("multilingual-e5-small-q8_0.gguf")).toEqual({ query: "query: ", document: "passage: " });
    expect(embeddingPrefixes("bge-small-en-v1.5-q8_0.gguf").query).toMatch(/^Represent this sentence/);
    expect(embeddingPrefixes("jina-embeddings-v2-base-code")).toEqual({ query: "", document: "" });
    expect(embeddingPrefixes("nomic-embed-text", { query: "Q: " })).toEqual({
      query: "Q: ",
      document: "search_document: ",
    });
  });

  it("L2-normalises in place and leaves a zero vector alone", () => {
    const v = l2Normalize(Float32Array.from([3, 4]));
    expect([v[0], v[1]]).toEqual([expect.closeTo(0.6, 6), expect.closeTo(0.8, 6)]);
    expect(Array.from(l2Normalize(new Float32Array(3)))).toEqual([0, 0, 0]);
  });
});

describe("store naming", () => {
  it("gives each embedding model and dimension its own table; no model → lexical", () => {
    expect(tableSuffix({})).toBe("lexical");
    const a = tableSuffix({ model: "bge-small.gguf", modelId: "bge-small.gguf:100", dimensions: 384 });
    const b = tableSuffix({ model: "bge-small.gguf", modelId: "bge-small.gguf:200", dimensions: 384 });
    const c = tableSuffix({ model: "bge-small.gguf", modelId: "bge-small.gguf:100", dimensions: 768 });
    expect(a).toMatch(/^bge_small_[0-9a-f]+_384$/);
    expect(new Set([a, b, c]).size).toBe(3);
  });

  it("quotes SQL string literals", () => {
    expect(sqlString("it's/a.ts")).toBe("'it''s/a.ts'");
  });
});

describe("file classification", () => {
  it("rules out lockfiles, minified bundles and binaries by name", () => {
    expect(skipReasonByName("package-lock.json")).toBe("lockfile");
    expect(skipReasonByName("app.min.js")).toMatch(/minified/);
    expect(skipReasonByName("logo.PNG")).toMatch(/binary/);
    expect(skipReasonByName("index.ts")).toBeUndefined();
    expect(languageOf("src/a.tsx")).toBe("tsx");
    expect(languageOf("Makefile")).toBe("makefile");
    expect(languageOf("photo.xyz")).toBeUndefined();
  });

  it("rules out NUL bytes, invalid UTF-8, generated and minified content; hashes the rest", () => {
    expect(classifyContent(Buffer.from([0x61, 0x00, 0x62]))).toEqual({ skip: "binary (NUL bytes)" });
    expect(classifyContent(Buffer.from([0x61, 0xff, 0xfe, 0x62]))).toEqual({ skip: "not UTF-8 text" });
    expect(classifyContent(Buffer.from("// Code generated by protoc. DO NOT EDIT.\nx"))).toMatchObject({
      skip: /generated/,
    });
    expect(classifyContent(Buffer.from(`var a=1;${"b+=1;".repeat(1000)}\n`))).toMatchObject({ skip: /minified/ });
    const ok = classifyContent(Buffer.from("\ufefffunction f() {}\n"));
    expect(ok).toMatchObject({ text: "function f() {}\n", hash: expect.stringMatching(/^[0-9a-f]{64}$/) });
  });
});

describe("setLanceCpuThreads (Lance's full-text index builder deadlocks on a one-thread CPU pool)", () => {
  it("gives the pool at least 2 threads, matches Lance's cores − 2 above that, and keeps a value the user set", () => {
    const env: NodeJS.ProcessEnv = {};
    expect(setLanceCpuThreads(env, 2)).toBe("2");
    expect(env["LANCE_CPU_THREADS"]).toBe("2");
    expect(setLanceCpuThreads({}, 1)).toBe("2");
    expect(setLanceCpuThreads({}, 8)).toBe("6");
    const mine: NodeJS.ProcessEnv = { LANCE_CPU_THREADS: "1" };
    expect(setLanceCpuThreads(mine, 2)).toBeUndefined();
    expect(mine["LANCE_CPU_THREADS"]).toBe("1");
  });
});
