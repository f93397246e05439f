/**
 * Identifier splitting for lexical code search: `parseConfigFile`, `parse_config_file` and `PARSE_CONFIG` all
 * yield the terms `parse config file`, so a natural-language query ("parse the config") meets code that only
 * spells the words inside identifiers. The idea is standard in code retrieval (e.g. Sourcegraph's and
 * GitHub's code search tokenizers); the exact rules here are ours.
 */
import { splitIdentifier } from "../embeddingText/identifierWords";

export { splitIdentifier };

/**
 * Words of any script for the full-text index ({@link lexicalTerms}): letters and digits of every alphabet
 * (`größe`, `счётчик`, `变量名`), so identifiers and comments outside ASCII are found too.
 */
const UNICODE_WORD = /[\p{L}\p{M}_$][\p{L}\p{M}\p{N}_$]*|\p{N}+/gu;
/** Scripts written without spaces between words: each of their characters is also a term of its own. */
const UNSPACED = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}]/u;
/** `word` without its accents (`résumé` → `resume`), or undefined when it has none. */
function withoutAccents(word: string): string | undefined {
  const folded = word.normalize("NFD").replace(/\p{M}+/gu, "");
  return folded !== word ? folded : undefined;
}

/**
 * Text → the space-separated terms a full-text index should see: every word lower-cased, plus the parts of
 * each compound identifier (the whole word is kept too, so an exact identifier query still matches best), in
 * any script: an accented word also without its accents, and a run of Han or kana also as single characters
 * (those scripts put no spaces between words). Words are capped at 64 characters (longer ones are data).
 */
export function lexicalTerms(text: string): string {
  const out: string[] = [];
  for (const match of text.normalize("NFC").matchAll(UNICODE_WORD)) {
    const word = match[0];
    if (word.length > 64) continue;
    const parts = splitIdentifier(word);
    const whole = word.replace(/[_$]/g, "").toLowerCase();
    if (whole) out.push(whole);
    if (parts.length > 1) out.push(...parts);
    for (const w of parts.length > 1 ? [whole, ...parts] : [whole]) {
      const folded = withoutAccents(w);
      if (folded) out.push(folded);
    }
    if (UNSPACED.test(word)) for (const ch of word) if (UNSPACED.test(ch)) out.push(ch);
  }
  return out.join(" ");
}

/** Words that carry no meaning in a search query ("where is the config parsed" → "config parsed"). */
const QUERY_STOP_WORDS = new Set(
  (
    "a an and are as at be by do does for from how i in into is it its of on or that the this to was what when " +
    "where which who why with we our you your can should find show me get code function method"
  ).split(" "),
);

/**
 * The terms of a search query: {@link lexicalTerms} without English stop words (unless nothing else is left,
 * as in a query for the identifier `get`).
 */
export function queryTerms(query: string): string {
  const all = lexicalTerms(query).split(" ").filter(Boolean);
  const kept = all.filter((t) => !QUERY_STOP_WORDS.has(t));
  return (kept.length ? kept : all).join(" ");
}
