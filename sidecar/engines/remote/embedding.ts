import { HearthError } from "../../../shared/errors";
import { ErrorCodes, type EmbedKind } from "../../../shared/protocol";
import { embeddingPrefixes, type EmbeddingPrefixes } from "../../embeddingText/prefixes";
import { l2Normalize } from "../../../shared/vectors";
import type { EmbeddingEngine } from "../types";
import type { EngineHttp } from "./http";
import { CHARS_PER_TOKEN } from "./units";

/** Texts per `/v1/embeddings` request. */
const EMBED_BATCH = 32;

/**
 * Embeddings over `POST /v1/embeddings`, in batches of {@link EMBED_BATCH}, mapped back by `index` and
 * L2-normalised. The model family's query/document prefixes are added here (always the client's job).
 */
export class RemoteEmbedding implements EmbeddingEngine {
  private constructor(
    private readonly http: EngineHttp,
    private readonly model: string,
    private readonly maxChars: number,
    private readonly prefixes: EmbeddingPrefixes,
    readonly dimensions: number,
  ) {}

  /** Connect and learn the vector size from one probe embedding. */
  static async connect(
    http: EngineHttp,
    model: string,
    contextSize: number,
    prefixOverride: Partial<EmbeddingPrefixes> | undefined,
    signal: AbortSignal,
  ): Promise<RemoteEmbedding> {
    const prefixes = embeddingPrefixes(model, prefixOverride);
    const probe = new RemoteEmbedding(http, model, contextSize * CHARS_PER_TOKEN, prefixes, 0);
    const { vectors } = await probe.embed(["dimension probe"], "document", signal);
    return new RemoteEmbedding(http, model, contextSize * CHARS_PER_TOKEN, prefixes, vectors[0]!.length);
  }

  async embed(
    texts: string[],
    kind: EmbedKind,
    signal?: AbortSignal,
  ): Promise<{ vectors: Float32Array[]; tokens: number }> {
    const prefix = kind === "query" ? this.prefixes.query : kind === "document" ? this.prefixes.document : "";
    const vectors: Float32Array[] = [];
    let tokens = 0;
    for (let i = 0; i < texts.length; i += EMBED_BATCH) {
      const input = texts
        .slice(i, i + EMBED_BATCH)
        .map((t) => (kind === "raw" ? t : (prefix + t).slice(0, this.maxChars)));
      const answer = await this.http.json<{
        data?: Array<{ index: number; embedding: number[] }>;
        usage?: { prompt_tokens?: number };
      }>("/v1/embeddings", { model: this.model, input }, signal, "embeddings");
      const byIndex = new Map((answer.data ?? []).map((d) => [d.index, d.embedding]));
      for (let k = 0; k < input.length; k++) {
        const v = byIndex.get(k);
        if (!v || (this.dimensions && v.length !== this.dimensions)) {
          throw new HearthError(
            ErrorCodes.EngineUnavailable,
            `The engine at ${this.http.url} returned ${v ? `a vector of ${v.length} dimensions, not ${this.dimensions}` : `no vector for input ${k}`}.`,
            "Check that the server runs an embedding model (llama-server: --embeddings).",
          );
        }
        vectors.push(l2Normalize(Float32Array.from(v)));
      }
      tokens += answer.usage?.prompt_tokens ?? Math.ceil(input.join("").length / 4);
    }
    return { vectors, tokens };
  }

  dispose(): void {}
}
