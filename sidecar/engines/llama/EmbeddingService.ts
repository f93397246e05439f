import type { LlamaEmbeddingContext, LlamaModel, Token } from "node-llama-cpp";
import { embeddingWords } from "../../embeddingText/identifierWords";
import { l2Normalize } from "../../../shared/vectors";
import { embeddingPrefixes, type EmbeddingPrefixes } from "../../embeddingText/prefixes";
import { HearthError } from "../../../shared/errors";
import { ErrorCodes, type EmbedKind } from "../../../shared/protocol";

/**
 * The text preparation a model asks for in its GGUF metadata: `hearth.embedding.split_identifiers = true`
 * (Hearth's lab models, lab/README.md) means identifiers are split into words before tokenizing, as at training
 * time ({@link embeddingWords}); other models get the text as it is.
 */
export function textPreparation(model: LlamaModel): (text: string) => string {
  const hearth = (model.fileInfo.metadata as { hearth?: { embedding?: { split_identifiers?: unknown } } }).hearth;
  return hearth?.embedding?.split_identifiers === true ? embeddingWords : (text) => text;
}

/**
 * Text embeddings from one loaded embedding model (node-llama-cpp `LlamaEmbeddingContext`): adds the model
 * family's query / document prefix, cuts inputs to the context window, and returns L2-normalised vectors so
 * that a dot product is the cosine similarity. node-llama-cpp evaluates one text per decode on its single
 * sequence; `embed` takes a batch so callers write whole batches to the store, and checks `signal` between texts.
 */
export class EmbeddingService {
  readonly dimensions: number;
  readonly prefixes: EmbeddingPrefixes;
  private readonly prepare: (text: string) => string;

  constructor(
    private readonly model: LlamaModel,
    private readonly context: LlamaEmbeddingContext,
    /** File name plus `general.name`, used to pick the prefixes. */
    readonly modelName: string,
    private readonly contextSize: number,
    prefixOverride?: Partial<EmbeddingPrefixes>,
  ) {
    this.dimensions = model.embeddingVectorSize;
    this.prefixes = embeddingPrefixes(modelName, prefixOverride);
    this.prepare = textPreparation(model);
  }

  /**
   * Embed texts, in order. `kind` picks the prefix; `raw` embeds each text as given, whole. Returns unit vectors
   * of length {@link dimensions}.
   * @returns also the number of tokens evaluated (for tokens/s figures).
   * @throws Error "aborted" when `signal` fires (texts done so far are dropped); HearthError PromptTooLong for a
   *   `raw` text longer than the context.
   */
  async embed(
    texts: string[],
    kind: EmbedKind,
    signal?: AbortSignal,
  ): Promise<{ vectors: Float32Array[]; tokens: number }> {
    const prefix = kind === "query" ? this.prefixes.query : kind === "document" ? this.prefixes.document : "";
    const prepare = kind === "raw" ? (text: string) => text : this.prepare;
    const vectors: Float32Array[] = [];
    let tokens = 0;
    // Room for BOS/CLS and EOS/SEP that the context adds.
    const room = this.contextSize - 3;
    for (const text of texts) {
      signal?.throwIfAborted();
      let input: Token[] = this.model.tokenize(prefix + prepare(text));
      if (input.length > room && kind === "raw") {
        throw new HearthError(
          ErrorCodes.PromptTooLong,
          `Input ${vectors.length} (${input.length} tokens) is too large for the embedding context (${room} tokens).`,
          "Send shorter inputs, or load the embedding model with a larger context.",
        );
      }
      if (input.length > room) input = input.slice(0, room);
      tokens += input.length;
      const embedding = await this.context.getEmbeddingFor(input);
      vectors.push(l2Normalize(Float32Array.from(embedding.vector)));
    }
    return { vectors, tokens };
  }

  async dispose(): Promise<void> {
    await this.context.dispose();
  }
}
