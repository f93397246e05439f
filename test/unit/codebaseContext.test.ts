import { describe, expect, it } from "vitest";
import { codebaseCharBudget, codebaseContext } from "../../common/search/codebaseContext";
import type { SearchHit } from "../../shared/protocol";

const hit = (i: number, chars: number): SearchHit => ({
  path: `src/f${i}.ts`,
  startLine: 1,
  endLine: 10,
  symbol: `f${i}`,
  language: "typescript",
  text: "x".repeat(chars),
  score: 1 / (i + 1),
  scores: { lexical: 1, lexicalRank: i + 1 },
});

describe("@codebase context fits the chat model's window", () => {
  it("keeps the best hits while their excerpts fit the budget, and counts the rest", () => {
    const hits = [0, 1, 2, 3, 4].map((i) => hit(i, 1000));
    const budget = codebaseCharBudget(2048); // 2,560 characters
    const r = codebaseContext(hits, budget);
    expect(r.sources.map((s) => s.path)).toEqual(["src/f0.ts", "src/f1.ts"]);
    expect(r.omitted).toBe(3);
    expect(r.context).toContain("[2] src/f1.ts:1-10 (f1)");
    expect(r.context).not.toContain("src/f2.ts");
  });

  it("keeps everything without a known window, and nothing when even the best hit is too long", () => {
    expect(codebaseContext([hit(0, 5000), hit(1, 5000)], codebaseCharBudget(undefined)).omitted).toBe(0);
    const none = codebaseContext([hit(0, 5000)], codebaseCharBudget(512));
    expect(none).toEqual({ context: "", sources: [], omitted: 1 });
  });
});
