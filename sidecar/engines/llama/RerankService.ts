import type { LlamaModel, LlamaRankingContext } from "node-llama-cpp";
import { HearthError } from "../../../shared/errors";
import { ErrorCodes } from "../../../shared/protocol";
import { textPreparation } from "./EmbeddingService";

/**
 * Tokens a ranking pair needs besides the query's and the document's own: BOS/CLS, SEP and EOS of the
 * cross-encoder template (node-llama-cpp adds 4 to a BERT reranker's pair), with a margin.
 */
const RANK_TEMPLATE_TOKENS = 8;

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

  /**
   * One score per document, in the documents' order. The query is cut to a quarter of the window and each
   * document to what is left, so every pair fits the context (and the model's trained positions) whatever
   * its size: a 16-token context used to overflow ("The input length exceed the context size").
   * With `deadline` (a `performance.now()` time, ms), stops once it is past: the scores of the first
   * documents only, at least one.
   * @throws HearthError Unsupported when the window is too small to hold a query token and a document token.
   */
  async rank(query: string, documents: string[], signal?: AbortSignal, deadline?: number): Promise<number[]> {
    const window = Math.min(this.contextSize, this.model.trainContextSize || this.contextSize);
    const room = window - RANK_TEMPLATE_TOKENS;
    if (room < 2) {
      throw new HearthError(
        ErrorCodes.Unsupported,
        `The reranker's context window (${window} tokens) is too small to rank a query with a document.`,
        `Load it with a larger context size (at least ${RANK_TEMPLATE_TOKENS + 16}).`,
      );
    }
    const q = this.model.tokenize(this.prepare(query)).slice(0, Math.max(1, Math.floor(room / 4)));
    const docRoom = room - q.length;
    const scores: number[] = [];
    for (const doc of documents) {
      signal?.throwIfAborted();
      if (scores.length > 0 && deadline !== undefined && performance.now() >= deadline) break;
      scores.push(await this.context.rank(q, this.model.tokenize(this.prepare(doc)).slice(0, docRoom)));
    }
    return scores;
  }

  async dispose(): Promise<void> {
    await this.context.dispose();
  }
}
