import type { RerankEngine } from "../types";
import type { EngineHttp } from "./http";
import { CHARS_PER_TOKEN } from "./units";

/** Rerank over `POST /v1/rerank` (llama-server `--rerank`, vLLM): scores mapped back by `index`. */
export class RemoteRerank implements RerankEngine {
  constructor(
    private readonly http: EngineHttp,
    private readonly model: string,
    private readonly contextSize: number,
  ) {}

  /** See {@link RerankEngine.rank}: one request for all documents, abandoned (no scores) at `deadline`. */
  async rank(query: string, documents: string[], signal?: AbortSignal, deadline?: number): Promise<number[]> {
    const room = this.contextSize * CHARS_PER_TOKEN;
    const q = query.slice(0, Math.floor(room / 4));
    const budget =
      deadline === undefined ? undefined : AbortSignal.timeout(Math.max(0, Math.ceil(deadline - performance.now())));
    const signals = [signal, budget].filter((s): s is AbortSignal => s !== undefined);
    let answer: { results?: Array<{ index: number; relevance_score: number }> };
    try {
      answer = await this.http.json(
        "/v1/rerank",
        {
          model: this.model,
          query: q,
          documents: documents.map((d) => d.slice(0, room - q.length)),
          top_n: documents.length,
        },
        signals.length ? AbortSignal.any(signals) : undefined,
        "rerank",
      );
    } catch (error) {
      if (budget?.aborted && !signal?.aborted) return [];
      throw error;
    }
    const scores = new Map((answer.results ?? []).map((r) => [r.index, r.relevance_score]));
    return documents.map((_, i) => scores.get(i) ?? Number.NEGATIVE_INFINITY);
  }

  dispose(): void {}
}
