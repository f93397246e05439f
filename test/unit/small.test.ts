import { describe, expect, it } from "vitest";
import { MultilineBuffer } from "../../cli/repl";
import { PendingRequests } from "../../common/sidecar/PendingRequests";
import { HearthError } from "../../shared/errors";
import { resolveModelArg } from "../../common/models/modelArgs";
import { RestartPolicy } from "../../common/sidecar/RestartPolicy";
import { DeltaCoalescer } from "../../sidecar/DeltaCoalescer";
import { snapWindow, WINDOW_STEP } from "../../sidecar/engines/llama/CompletionService";
import { defaultThreads } from "../../sidecar/engines/llama/threads";
import { searchMethod } from "../../common/search/format";

describe("RestartPolicy", () => {
  it("backs off exponentially and gives up after the crash budget of the window", () => {
    const p = new RestartPolicy({ maxRestarts: 3, windowMs: 60_000, baseDelayMs: 100, maxDelayMs: 250 });
    expect([p.onCrash(0), p.onCrash(1), p.onCrash(2), p.onCrash(3)]).toEqual([100, 200, 250, undefined]);
    // Crashes older than the window no longer count.
    expect(p.onCrash(120_000)).toBe(100);
  });
});

describe("searchMethod", () => {
  it("names the mode, the rerank, and a rerank the time budget cut", () => {
    expect(searchMethod({ mode: "lexical", reranked: false })).toBe("lexical");
    expect(searchMethod({ mode: "hybrid", reranked: true })).toBe("hybrid + rerank");
    expect(searchMethod({ mode: "hybrid", reranked: true, rerankCut: { scored: 3, candidates: 20 } })).toBe(
      "hybrid + rerank of 3/20 (time budget)",
    );
  });
});

describe("defaultThreads", () => {
  it("uses one thread on small machines and half the cores (max 8) otherwise", () => {
    expect([1, 2, 4, 8, 16, 64].map(defaultThreads)).toEqual([1, 1, 2, 4, 8, 8]);
  });
});

describe("MultilineBuffer", () => {
  it("joins backslash continuations and triple-quote blocks", () => {
    const b = new MultilineBuffer();
    expect(b.push("first \\")).toBeUndefined();
    expect(b.pending).toBe(true);
    expect(b.push("second")).toBe("first \nsecond");
    expect(b.push('"""')).toBeUndefined();
    expect(b.push("a")).toBeUndefined();
    expect(b.push("")).toBeUndefined();
    expect(b.push('"""')).toBe("a\n");
    expect(b.push("single")).toBe("single");
  });
});

describe("resolveModelArg", () => {
  it("passes URIs through and finds bare names in the models folder", () => {
    expect(resolveModelArg("hf:org/repo:Q4_K_M", "/m")).toBe("hf:org/repo:Q4_K_M");
    expect(resolveModelArg("models.ts", undefined, __dirname + "/../../common")).toMatch(/common\/models.ts$/);
    expect(resolveModelArg("small.test.ts", __dirname, "/")).toBe(`${__dirname}/small.test.ts`);
    expect(resolveModelArg("nope.gguf", __dirname, "/x")).toBe("/x/nope.gguf");
  });
});

describe("DeltaCoalescer", () => {
  it("sends the first piece at once, batches pieces within the interval, and flushes the rest", async () => {
    const sent: string[] = [];
    const c = new DeltaCoalescer((t) => sent.push(t), 1000);
    c.push("a");
    c.push("b");
    c.push("c");
    expect(sent).toEqual(["a"]);
    c.flush();
    expect(sent).toEqual(["a", "bc"]);
    c.flush();
    expect(sent).toEqual(["a", "bc"]);
  });
  it("sends a held piece when the interval ends, without a flush", async () => {
    const sent: string[] = [];
    const c = new DeltaCoalescer((t) => sent.push(t), 20);
    c.push("a");
    c.push("b");
    await new Promise((r) => setTimeout(r, 60));
    expect(sent).toEqual(["a", "b"]);
  });
});

describe("PendingRequests", () => {
  it("turns an abort into a cancelled token, and forgets settled requests", async () => {
    const pending = new PendingRequests();
    const abort = new AbortController();
    const result = pending.run(
      (token) => new Promise<string>((resolve) => token.onCancellationRequested(() => resolve("cancelled"))),
      abort.signal,
    );
    expect(pending.size).toBe(1);
    abort.abort();
    expect(await result).toBe("cancelled");
    expect(pending.size).toBe(0);
  });
  it("rejects everything in flight on rejectAll, and converts other errors to HearthError", async () => {
    const pending = new PendingRequests();
    const never = pending.run(() => new Promise(() => {}));
    pending.rejectAll(new HearthError(-33010, "gone"));
    await expect(never).rejects.toMatchObject({ code: -33010, message: "gone" });
    await expect(
      pending.run(() => Promise.reject({ code: -33001, message: "x", data: { hint: "h" } })),
    ).rejects.toMatchObject({
      code: -33001,
      hint: "h",
    });
  });
});

describe("snapWindow", () => {
  it("keeps at most `size` tokens and moves the window start only in steps", () => {
    const tokens = (n: number) => Array.from({ length: n }, (_, i) => i);
    expect(snapWindow(tokens(10), 100)).toHaveLength(10);
    const starts = new Set<number>();
    for (let n = 101; n < 101 + WINDOW_STEP; n++) {
      const w = snapWindow(tokens(n), 100);
      expect(w.length).toBeLessThanOrEqual(100);
      expect(w.at(-1)).toBe(n - 1);
      starts.add(w[0]!);
    }
    // 64 consecutive keystrokes share at most two window starts.
    expect(starts.size).toBeLessThanOrEqual(2);
  });
});
