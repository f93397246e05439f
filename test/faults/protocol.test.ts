import { fork, type ChildProcess } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SidecarProcess } from "../../common/sidecar/SidecarProcess";
import { ErrorCodes, PROTOCOL_VERSION, type SidecarMethod } from "../../shared/protocol";
import { SIDECAR_PATH } from "../testModels";
import { spawnSidecar } from "../sidecar/helpers";

type Frame = { jsonrpc?: string; id?: unknown; result?: unknown; error?: { code: number; message: string } };

/** The real sidecar spoken to frame by frame over Node IPC, without vscode-jsonrpc on this side. */
class RawSidecar {
  readonly child: ChildProcess;
  readonly received: Frame[] = [];
  exited = false;

  constructor() {
    this.child = fork(SIDECAR_PATH, ["--node-ipc"], { stdio: ["ignore", "ignore", "pipe", "ipc"] });
    this.child.on("message", (m: Frame) => this.received.push(m));
    this.child.on("exit", () => (this.exited = true));
  }

  send(frame: unknown): void {
    this.child.send(frame as object);
  }

  /** The response to request `id`, waiting at most `timeoutMs`. */
  async response(id: number | string, timeoutMs = 10_000): Promise<Frame> {
    const start = Date.now();
    for (;;) {
      const r = this.received.find((m) => m.id === id && ("result" in m || "error" in m));
      if (r) return r;
      if (this.exited) throw new Error(`the sidecar exited before answering ${id}`);
      if (Date.now() - start > timeoutMs) throw new Error(`no response to ${id}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  initialize(id: number): Promise<Frame> {
    this.send({
      jsonrpc: "2.0",
      id,
      method: "initialize",
      params: {
        processId: process.pid,
        rootUri: null,
        capabilities: {},
        initializationOptions: { protocolVersion: PROTOCOL_VERSION, gpu: "off", threads: 1, allowDownload: false },
      },
    });
    return this.response(id);
  }
}

describe("fault suite: malformed JSON-RPC frames neither kill nor confuse the sidecar", () => {
  let raw: RawSidecar;
  beforeAll(async () => {
    raw = new RawSidecar();
    expect((await raw.initialize(1)).result).toBeDefined();
  });
  afterAll(() => {
    raw.child.kill("SIGKILL");
  });

  const malformed: Array<[string, unknown]> = [
    ["$/cancelRequest with an object id", { jsonrpc: "2.0", method: "$/cancelRequest", params: { id: {} } }],
    ["$/cancelRequest with null params (killed it)", { jsonrpc: "2.0", method: "$/cancelRequest", params: null }],
    ["$/cancelRequest without params", { jsonrpc: "2.0", method: "$/cancelRequest" }],
    ["a string frame", "not json at all"],
    ["a number frame", 42],
    ["a null frame", null],
    ["an array frame", [1, 2]],
    ["a notification without jsonrpc", { method: "runtime/stats", params: {} }],
    ["a response nobody asked for", { jsonrpc: "2.0", id: 999, result: 5 }],
    ["a request with an object id", { jsonrpc: "2.0", id: { a: 1 }, method: "runtime/stats", params: {} }],
  ];
  it.each(malformed)("%s is dropped and the sidecar keeps answering", async (_label, frame) => {
    raw.send(frame);
    const id = Math.floor(Math.random() * 1e9);
    raw.send({ jsonrpc: "2.0", id, method: "runtime/stats", params: {} });
    const r = await raw.response(id);
    expect(r.result).toMatchObject({ backend: "cpu" });
    expect(raw.exited).toBe(false);
  });

  const invalid: Array<[string, { id: number; [key: string]: unknown }]> = [
    ["no jsonrpc field", { id: 21, method: "runtime/stats", params: {} }],
    ["jsonrpc 1.0", { jsonrpc: "1.0", id: 22, method: "runtime/stats", params: {} }],
    ["string params", { jsonrpc: "2.0", id: 23, method: "runtime/stats", params: "x" }],
  ];
  it.each(invalid)("a request with %s is answered with Invalid Request", async (_l, frame) => {
    raw.send(frame);
    const r = await raw.response(frame.id);
    expect(r.error?.code).toBe(-32600);
    expect(r.error?.message).toMatch(/^Invalid request: /);
  });

  it("a second initialize is refused (it leaked the first runtime), and the first keeps working", async () => {
    const r = await raw.initialize(30);
    expect(r.error?.code).toBe(ErrorCodes.InvalidParams);
    expect(r.error?.message).toMatch(/already initialized/);
    raw.send({ jsonrpc: "2.0", id: 31, method: "runtime/stats", params: {} });
    expect((await raw.response(31)).result).toMatchObject({ models: [] });
  });

  it("a request after shutdown is told the sidecar is shutting down (not 'not initialized')", async () => {
    raw.send({ jsonrpc: "2.0", id: 40, method: "shutdown" });
    expect((await raw.response(40)).result).toBeNull();
    raw.send({ jsonrpc: "2.0", id: 41, method: "runtime/stats", params: {} });
    const r = await raw.response(41);
    expect(r.error?.code).toBe(ErrorCodes.SidecarExited);
    expect(r.error?.message).toMatch(/shutting down/);
  });
});

/*
 * Property-based fuzzing (fast-check) of every method's params through the real sidecar: any JSON value, and
 * objects shaped like each method's params with fields of the wrong type. Every request must end with a result
 * or one of the protocol's fixed error codes other than Internal, and the sidecar must keep serving. Strings
 * that could name a real path or a download (absolute paths, URLs, hf: URIs) are left out of the corpus, so
 * the fuzzer never indexes `/` or fetches anything.
 */
describe("fault suite: fuzzed params for every method get a fixed error code, never a crash", () => {
  let sidecar: SidecarProcess;
  let work: string;
  const METHODS: SidecarMethod[] = [
    "model/load",
    "model/unload",
    "model/list",
    "chat/send",
    "completion/infill",
    "runtime/configure",
    "runtime/stats",
    "index/build",
    "index/update",
    "index/search",
    "index/status",
    "index/drop",
    "engine/models",
    "setup/plan",
    "model/download",
    "completion/complete",
    "model/tokenize",
    "model/detokenize",
  ];
  /** Field names of the methods' params, so fuzzed objects reach past the first type check. */
  const FIELDS = [
    "role",
    "model",
    "uri",
    "contextSize",
    "streamId",
    "messages",
    "system",
    "params",
    "prefix",
    "suffix",
    "filePath",
    "languageId",
    "maxTokens",
    "gpu",
    "threads",
    "root",
    "storageDir",
    "query",
    "mode",
    "topK",
    "changed",
    "deleted",
    "which",
    "force",
    "responseSchema",
    "tokens",
  ];
  const KNOWN = new Set<number>(Object.values(ErrorCodes).filter((c) => c !== ErrorCodes.Internal));
  const safeString = fc.string({ maxLength: 40 }).filter((s) => !/^\/|:\/\/|^hf:|^[a-zA-Z]:\\/.test(s));
  const json = fc.letrec((tie) => ({
    value: fc.oneof(
      { depthSize: "small" },
      fc.constant(null),
      fc.boolean(),
      fc.integer(),
      fc.double({ noNaN: false }),
      safeString,
      fc.array(tie("value"), { maxLength: 4 }),
      fc.dictionary(fc.oneof(fc.constantFrom(...FIELDS), safeString), tie("value"), { maxKeys: 5 }),
    ),
  })).value;
  const shaped = fc.dictionary(fc.constantFrom(...FIELDS), json, { minKeys: 1, maxKeys: 6 });

  /** One request: a result, or a fixed error code other than Internal (counted in `codes`); the sidecar lives. */
  const expectFixedOutcome = async (
    method: SidecarMethod,
    params: unknown,
    codes: Map<number, number>,
    onResult: () => void,
  ) => {
    try {
      await sidecar.request(method, params as never, AbortSignal.timeout(20_000));
      onResult();
    } catch (error) {
      const code = (error as { code?: number }).code ?? NaN;
      codes.set(code, (codes.get(code) ?? 0) + 1);
      expect(KNOWN, `${method} ${JSON.stringify(params)} → ${String(error)}`).toContain(code);
    }
    expect(sidecar.pid, `${method} ended the sidecar`).toBeDefined();
  };

  beforeAll(async () => {
    ({ sidecar } = await spawnSidecar({}, { allowDownload: false }));
    work = await fs.mkdtemp(path.join(os.tmpdir(), "hearth-faults-fuzz-"));
  });
  afterAll(async () => {
    await sidecar.stop();
    await fs.rm(work, { recursive: true, force: true });
  });

  it("300 fuzzed requests: each is a result or a fixed non-Internal error; the sidecar answers after each", async () => {
    const codes = new Map<number, number>();
    let results = 0;
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...METHODS), fc.oneof(json, shaped), async (method, params) => {
        await expectFixedOutcome(method, params, codes, () => results++);
      }),
      { numRuns: 300, seed: 22, endOnFailure: true },
    );
    const stats = await sidecar.request("runtime/stats", {});
    expect(stats.backend).toBe("cpu");
    expect(codes.get(ErrorCodes.InvalidParams) ?? 0).toBeGreaterThan(200);
    console.info(`fault suite: fuzzing: ${results} results, errors by code ${JSON.stringify([...codes])}`);
  }, 180_000);

  it("300 near-valid requests (one field of valid params replaced): the same holds deeper in each handler", async () => {
    const ws = path.join(work, "ws");
    await fs.mkdir(ws, { recursive: true });
    await fs.writeFile(path.join(ws, "a.ts"), "export function alpha() {\n  return 1;\n}\n");
    const target = { root: ws, storageDir: path.join(work, "db") };
    const valid: Record<SidecarMethod, Record<string, unknown>> = {
      "model/load": { role: "chat", model: { uri: "missing-model.gguf" }, contextSize: 512 },
      "model/unload": { role: "chat" },
      "model/list": {},
      "chat/send": { streamId: "f", messages: [{ role: "user", content: "hi" }], params: { maxTokens: 4 } },
      "completion/infill": { prefix: "const a = ", suffix: ";\n", maxTokens: 4 },
      "completion/complete": { prompt: "Once upon a time", maxTokens: 4, stop: ["."] },
      "nes/predict": {
        path: "a.ts",
        text: "const a = 1;\nconst b = a;\n",
        line: 1,
        column: 3,
        history: [{ path: "a.ts", original: "const x = 1;", updated: "const a = 1;", line: 0 }],
        maxTokens: 8,
      },
      "runtime/configure": { threads: 1 },
      "runtime/stats": {},
      "index/build": { ...target, batchSize: 8 },
      "index/update": { ...target, changed: [path.join(ws, "a.ts")] },
      "index/search": { ...target, query: "alpha", topK: 3 },
      "index/status": target,
      "index/drop": { ...target, which: "stale" },
      // Loopback port 9 (discard): nothing listens, so the engine is unreachable, never contacted elsewhere.
      "engine/models": { engine: { url: "http://127.0.0.1:9" } },
      "engine/discover": { ports: [9] },
      "embedding/embed": { texts: ["alpha", "beta"], kind: "query" },
      "rerank/score": { query: "alpha", documents: ["alpha", "beta"] },
      "model/tokenize": { role: "chat", text: "Once upon a time" },
      // No model is loaded here; ids outside a loaded model's vocabulary are checked by test/serve/serve.test.ts.
      "model/detokenize": { role: "chat", tokens: [1, 2, 3] },
      // A catalog file that is not there, and a download from the loopback discard port: refused, never fetched.
      "setup/plan": { catalog: path.join(work, "no-catalog.json"), includeLocal: false, ramBytes: 8 * 1024 ** 3 },
      "model/download": { uri: "http://127.0.0.1:9/model.gguf", sizeBytes: 1024 },
    };
    const codes = new Map<number, number>();
    let results = 0;
    await fc.assert(
      fc.asyncProperty(
        // A field of that method's own params (nested ones too: the model spec, the first message), or one more.
        fc
          .constantFrom(...METHODS)
          .chain((m) =>
            fc.tuple(
              fc.constant(m),
              fc.constantFrom(...Object.keys(valid[m]), "model.uri", "messages.0", "params.maxTokens", "extra"),
            ),
          ),
        json,
        async ([method, field], value) => {
          const params = structuredClone(valid[method]);
          const [head, ...rest] = field.split(".");
          if (rest.length && typeof params[head!] === "object" && params[head!] !== null) {
            let at = params[head!] as Record<string, unknown>;
            for (const k of rest.slice(0, -1)) at = (at[k] ?? {}) as Record<string, unknown>;
            at[rest.at(-1)!] = value;
          } else {
            params[field] = value;
          }
          // The targets stay the test's own folders: the fuzzer never walks or writes elsewhere.
          if (method.startsWith("index/")) Object.assign(params, target);
          await expectFixedOutcome(method, params, codes, () => results++);
        },
      ),
      { numRuns: 300, seed: 22, endOnFailure: true },
    );
    expect(results).toBeGreaterThan(30);
    console.info(`fault suite: near-valid fuzzing: ${results} results, errors by code ${JSON.stringify([...codes])}`);
  }, 180_000);
});
