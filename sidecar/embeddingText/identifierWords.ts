/**
 * Identifier words: `parseConfigFile`, `parse_config_file` and `PARSE_CONFIG` all split into `parse config file`.
 * Both the lexical index's terms (`search/identifiers.ts`) and the text an embedding model trained on split
 * identifiers reads ({@link embeddingWords}) are made of them. The idea is standard in code retrieval (e.g.
 * Sourcegraph's and GitHub's code search tokenizers); the exact rules here are ours.
 */

/** ASCII words, as the lab's embedding models were trained on them ({@link embeddingWords}; ARCHITECTURE.md, lab/). */
const WORD = /[A-Za-z_$][A-Za-z0-9_$]*|[0-9]+/g;
/** camelCase / PascalCase / acronym boundaries: `HTTPServer` → `HTTP Server`, `parseJSON2` → `parse JSON 2`. */
const BOUNDARY = /(\p{Ll}|\p{N})(\p{Lu})|(\p{Lu}+)(\p{Lu}\p{Ll})|(\p{L})(\p{N})/gu;

/**
 * The lower-case parts of one identifier, in order: `getHTTPResponse` → ["get", "http", "response"],
 * `__proto__` → ["proto"]. Returns [] for a string with no letters or digits.
 */
export function splitIdentifier(identifier: string): string[] {
  const split = (s: string) =>
    s.replace(BOUNDARY, (_m, a, b, c, d, e, f) =>
      a !== undefined ? `${a} ${b}` : c !== undefined ? `${c} ${d}` : `${e} ${f}`,
    );
  // Twice: boundaries that share a character (`utf8Decode`: `f|8` and `8|D`) are found one per pass.
  return split(split(identifier))
    .split(/[^\p{L}\p{M}\p{N}]+/u)
    .filter(Boolean)
    .map((p) => p.toLowerCase());
}

/**
 * Text as a model that declares `hearth.embedding.split_identifiers` reads it: every identifier replaced by its
 * lower-case parts (`getHTTPResponse(id)` → `get http response(id)`), everything else kept, whitespace runs
 * collapsed to one space. llama.cpp's BERT tokenizer does not split identifiers, so the lab's models
 * (lab/README.md) were trained on text prepared by this very function, and index and query text must be
 * prepared the same way (../shared/design/MODEL-LAB-FACTS.md).
 */
export function embeddingWords(text: string): string {
  return text
    .replace(WORD, (word) => (word.length > 64 ? " " : ` ${splitIdentifier(word).join(" ")} `))
    .replace(/\s+/g, " ")
    .trim();
}
