import type { LlamaModel, LlamaRankingContext } from "node-llama-cpp";
import { textPreparation } from "./EmbeddingService";

/**
 * Cross-encoder reranking with one loaded reranker (node-llama-cpp `LlamaRankingContext`, which needs a GGUF
 * with a classification head, e.g. bge-reranker, jina-reranker). Scores are in 0…1, higher is more relevant.
 */
export class RerankService {
  private readonly prepare: (text: string) => string;

  constructor(
    private readonly model: LlamaModel,
    private readonly context: LlamaRankingContext,
    private readonly contextSize: number,
  ) {
    this.prepare = textPreparation(model);
  }

  /** One score per document, in the documents' order. Long documents are cut to fit with the query. */
  async rank(query: string, documents: string[], signal?: AbortSignal): Promise<number[]> {
    const q = this.model.tokenize(this.prepare(query)).slice(0, Math.floor(this.contextSize / 4));
    const room = this.contextSize - q.length - 8;
    const scores: number[] = [];
    for (const doc of documents) {
      signal?.throwIfAborted();
      scores.push(await this.context.rank(q, this.model.tokenize(this.prepare(doc)).slice(0, Math.max(16, room))));
    }
    return scores;
  }

  async dispose(): Promise<void> {
    await this.context.dispose();
  }
}
