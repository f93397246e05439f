/**
 * Reciprocal-rank fusion (Cormack, Clarke & Büttcher, SIGIR 2009): each list contributes
 * `weight / (k + rank)` (rank 1-based) to an item's fused score; items missing from a list get nothing from
 * it. k = 60 is the paper's constant. Returns ids by fused score, best first, with their scores.
 */
export function reciprocalRankFusion(
  lists: Array<{ ids: readonly string[]; weight?: number }>,
  k = 60,
): Array<{ id: string; score: number }> {
  const scores = new Map<string, number>();
  for (const { ids, weight = 1 } of lists) {
    ids.forEach((id, i) => scores.set(id, (scores.get(id) ?? 0) + weight / (k + i + 1)));
  }
  return byScore(scores);
}

/**
 * Convex combination of normalised scores (Bruch, Gai & Ingber, "An Analysis of Fusion Functions for Hybrid
 * Retrieval", ACM TOIS 2023, their TM2C2): lexical BM25 scores divided by the list's best (BM25's theoretical
 * minimum is 0), cosine similarities as they are, then `(1 − alpha) · lexical + alpha · vector`; an item missing
 * from a list gets 0 from it. Returns ids by fused score, best first, with their scores.
 */
export function convexFusion(
  lexical: ReadonlyArray<{ id: string; score: number }>,
  vector: ReadonlyArray<{ id: string; score: number }>,
  alpha: number,
): Array<{ id: string; score: number }> {
  const best = Math.max(0, ...lexical.map((x) => x.score));
  const scores = new Map<string, number>();
  for (const { id, score } of lexical) scores.set(id, (1 - alpha) * (best > 0 ? score / best : 0));
  for (const { id, score } of vector) scores.set(id, (scores.get(id) ?? 0) + alpha * score);
  return byScore(scores);
}

/**
 * Score interpolation of a reranker with the first stage (Wang, Zhuang & Zuccon, "BERT-based Dense Retrievers
 * Require Interpolation with BM25", ICTIR 2021): both score lists (same length, same candidates) min–max
 * normalised to 0…1 over the candidates, then `weight · rerank + (1 − weight) · first`. A list whose scores are
 * all equal contributes 0. Returns the interpolated scores in the candidates' order.
 */
export function interpolate(rerank: readonly number[], first: readonly number[], weight: number): number[] {
  const a = minMax(rerank);
  const b = minMax(first);
  return a.map((x, i) => weight * x + (1 - weight) * b[i]!);
}

/** Scores rescaled to 0…1 (the lowest → 0, the highest → 1); all 0 when they are all equal. */
function minMax(xs: readonly number[]): number[] {
  const lo = Math.min(...xs);
  const hi = Math.max(...xs);
  return xs.map((x) => (hi > lo ? (x - lo) / (hi - lo) : 0));
}

function byScore(scores: Map<string, number>): Array<{ id: string; score: number }> {
  return [...scores.entries()]
    .map(([id, score]) => ({ id, score }))
    .sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : 1));
}
