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
  return [...scores.entries()].map(([id, score]) => ({ id, score })).sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : 1));
}
