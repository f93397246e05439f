/**
 * Query / document prefixes that embedding model families were trained with. Using the wrong ones (or none)
 * costs retrieval quality silently, so known families get theirs automatically; `hearth.index.queryPrefix` /
 * `documentPrefix` override. Sources: each model's card on Hugging Face (nomic-embed-text v1/v1.5,
 * nomic-embed-code, e5 / multilingual-e5, bge-*-en-v1.5, mxbai-embed-large-v1, snowflake-arctic-embed,
 * gte-Qwen2-instruct, jina-embeddings-v2 needs none).
 */
export interface EmbeddingPrefixes {
  query: string;
  document: string;
}

const RETRIEVAL_INSTRUCTION = "Represent this sentence for searching relevant passages: ";

/** Ordered: the first pattern that matches the model name wins. */
const TABLE: Array<[RegExp, EmbeddingPrefixes]> = [
  [/nomic-embed-code/i, { query: "Represent this query for searching relevant code: ", document: "" }],
  [/nomic-embed-text|nomic-bert/i, { query: "search_query: ", document: "search_document: " }],
  [/(^|[^a-z])e5([^a-z]|$)|multilingual-e5/i, { query: "query: ", document: "passage: " }],
  [/bge-(small|base|large)-en/i, { query: RETRIEVAL_INSTRUCTION, document: "" }],
  [/mxbai-embed/i, { query: RETRIEVAL_INSTRUCTION, document: "" }],
  [/snowflake-arctic-embed/i, { query: RETRIEVAL_INSTRUCTION, document: "" }],
  [/gte-qwen/i, { query: "Instruct: Given a code search query, retrieve relevant code\nQuery: ", document: "" }],
];

/**
 * The prefixes for a model, from its file name and/or `general.name`; empty strings when the family is not
 * known (correct for models trained without prefixes, e.g. jina-embeddings-v2, all-MiniLM).
 */
export function embeddingPrefixes(modelName: string, override?: Partial<EmbeddingPrefixes>): EmbeddingPrefixes {
  const known = TABLE.find(([re]) => re.test(modelName))?.[1] ?? { query: "", document: "" };
  return { query: override?.query ?? known.query, document: override?.document ?? known.document };
}
