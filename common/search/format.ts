import { createHash } from "node:crypto";
import os from "node:os";
import path from "node:path";
import type { HitScores, IndexSearchResult, SearchHit } from "../../shared/protocol";

/**
 * Where the CLI keeps the index of `root` when `--index-dir` is not given:
 * `$HEARTH_INDEX_DIR/<name>-<hash>` or `~/.cache/hearth/index/<name>-<hash>` (hash of the absolute path, so
 * two folders with the same name do not share an index).
 */
export function defaultIndexDir(root: string): string {
  const abs = path.resolve(root);
  const base = process.env["HEARTH_INDEX_DIR"] || path.join(os.homedir(), ".cache", "hearth", "index");
  const name = path.basename(abs).replace(/[^A-Za-z0-9._-]+/g, "_") || "root";
  return path.join(base, `${name}-${createHash("sha256").update(abs).digest("hex").slice(0, 12)}`);
}

const fmt = (n: number, digits: number) => (Math.abs(n) >= 100 ? n.toFixed(1) : n.toFixed(digits));

/** "lexical 7.12 (#1) · vector 0.613 (#3) · fused 0.0325 · rerank 0.91" — why a hit ranked where it did. */
export function describeScores(s: HitScores): string {
  const parts: string[] = [];
  if (s.lexical !== undefined) parts.push(`lexical ${fmt(s.lexical, 2)} (#${s.lexicalRank})`);
  if (s.vector !== undefined) parts.push(`vector ${fmt(s.vector, 3)} (#${s.vectorRank})`);
  if (s.fused !== undefined) parts.push(`fused ${s.fused.toFixed(4)}`);
  if (s.rerank !== undefined) parts.push(`rerank ${s.rerank.toFixed(3)}`);
  return parts.join(" · ");
}

/**
 * How a search ranked its hits, for a status line: `hybrid`, `hybrid + rerank`, or, when the rerank time
 * budget ran out, `hybrid + rerank of 3/20 (time budget)`.
 */
export function searchMethod(result: Pick<IndexSearchResult, "mode" | "reranked" | "rerankCut">): string {
  if (!result.reranked) return result.mode;
  const cut = result.rerankCut;
  return `${result.mode} + rerank${cut ? ` of ${cut.scored}/${cut.candidates} (time budget)` : ""}`;
}

/** `path:start-end` of a hit (1-based lines). */
export function hitLocation(hit: Pick<SearchHit, "path" | "startLine" | "endLine">): string {
  return hit.startLine === hit.endLine ? `${hit.path}:${hit.startLine}` : `${hit.path}:${hit.startLine}-${hit.endLine}`;
}

/** The first `lines` non-blank lines of a hit, for a preview. */
export function snippet(text: string, lines = 3): string[] {
  return text
    .split("\n")
    .filter((l) => l.trim())
    .slice(0, lines)
    .map((l) => (l.length > 160 ? `${l.slice(0, 157)}…` : l));
}

/** The `--json` shape of a hit (the CLI contract of `hearth search`). */
export function hitJson(hit: SearchHit): Record<string, unknown> {
  return {
    path: hit.path,
    startLine: hit.startLine,
    endLine: hit.endLine,
    symbol: hit.symbol ?? null,
    score: hit.score,
    scores: hit.scores,
    text: hit.text,
  };
}
