/**
 * Vocabularies for the lab's models, learnt from the training text only.
 *
 * - {@link wordPieceVocabulary}: for the BERT encoders, in the form llama.cpp's WPM tokenizer reads (word starts
 *   `▁word`, continuations bare; ../shared/design/MODEL-LAB-FACTS.md). Whole frequent words, then frequent
 *   word-internal pieces, then every character in both forms, so that any word of known characters tokenizes.
 * - {@link bpeVocabulary}: for the llama code model, byte-pair encoding (Sennrich et al. 2016) over
 *   SentencePiece-escaped text (spaces as `▁`). Each merge's score is minus its rank, so llama.cpp's SPM
 *   tokenizer, which merges the highest-scoring adjacent pair first, replays the merges in their learnt order.
 */

/** Words the way llama.cpp's WPM tokenizer splits text before the vocabulary lookup: on whitespace, and every
 * punctuation or ASCII symbol character on its own; lower case. */
export function wpmWords(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}\p{M}]+|[^\s\p{L}\p{N}\p{M}]/gu) ?? [];
}

/**
 * A WordPiece-style vocabulary of at most `size` entries (specials first: [PAD] [UNK] [CLS] [SEP] [MASK]).
 * @param texts training texts (already through `embeddingWords`)
 */
export function wordPieceVocabulary(texts: string[], size: number): string[] {
  const words = new Map<string, number>();
  for (const t of texts) for (const w of wpmWords(t)) words.set(w, (words.get(w) ?? 0) + 1);
  const chars = new Map<string, number>();
  for (const [w, n] of words) for (const c of w) chars.set(c, (chars.get(c) ?? 0) + n);
  const keptChars = [...chars]
    .filter(([, n]) => n >= 5)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .map(([c]) => c);
  const vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"];
  const seen = new Set(vocab);
  const add = (piece: string) => {
    if (!seen.has(piece)) {
      seen.add(piece);
      vocab.push(piece);
    }
  };
  for (const c of keptChars) {
    add(`▁${c}`);
    add(c);
  }
  // A fifth of the room goes to word-internal pieces (suffixes and stems of rarer words), the rest to whole words.
  const room = size - vocab.length;
  const wordBudget = Math.floor(room * 0.8);
  const ranked = [...words]
    .filter(([w, n]) => n >= 3 && w.length > 1)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const whole = ranked.slice(0, wordBudget);
  for (const [w] of whole) add(`▁${w}`);
  const inVocab = new Set(whole.map(([w]) => w));
  const pieces = new Map<string, number>();
  for (const [w, n] of words) {
    if (inVocab.has(w) || w.length < 3) continue;
    for (let i = 1; i < w.length; i++)
      for (let len = 2; len <= 6 && i + len <= w.length; len++) {
        const p = w.slice(i, i + len);
        pieces.set(p, (pieces.get(p) ?? 0) + n * len);
      }
  }
  const rankedPieces = [...pieces].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  for (const [p] of rankedPieces) {
    if (vocab.length >= size) break;
    add(p);
  }
  return vocab;
}

/** SentencePiece escaping as llama.cpp's SPM tokenizer does it (no space prefix added: the model says so). */
export const spmEscape = (text: string): string => text.replace(/ /g, "▁");

/**
 * BPE merges learnt from `texts`: returns the pieces in merge order (the first is merged first) and the base
 * characters (seen ≥ `minCharCount` times). Pre-tokenization keeps merges inside identifiers, numbers,
 * indentation runs and short punctuation runs, so pieces stay meaningful.
 */
export function bpeVocabulary(
  texts: string[],
  merges: number,
  minCharCount = 20,
): { chars: string[]; pieces: string[] } {
  const wordCounts = new Map<string, number>();
  const PRE = /\n▁*|▁?[A-Za-z_$]+|▁?[0-9]+|▁+|▁?[^A-Za-z0-9_$▁\n]{1,3}/g;
  for (const t of texts)
    for (const m of spmEscape(t).matchAll(PRE)) wordCounts.set(m[0], (wordCounts.get(m[0]) ?? 0) + 1);
  const charCounts = new Map<string, number>();
  for (const [w, n] of wordCounts) for (const c of w) charCounts.set(c, (charCounts.get(c) ?? 0) + n);
  const chars = [...charCounts]
    .filter(([, n]) => n >= minCharCount)
    .map(([c]) => c)
    .sort();
  const known = new Set(chars);
  // Words as symbol arrays (unknown characters split words: they become byte tokens at run time).
  const words: string[][] = [];
  const counts: number[] = [];
  for (const [w, n] of wordCounts) {
    const symbols = [...w];
    if (symbols.some((c) => !known.has(c))) continue;
    words.push(symbols);
    counts.push(n);
  }
  const SEP = "\u0000";
  const pairCounts = new Map<string, number>();
  const pairWords = new Map<string, Set<number>>();
  const addPairs = (wi: number, sign: number) => {
    const s = words[wi]!;
    for (let i = 0; i + 1 < s.length; i++) {
      const key = s[i]! + SEP + s[i + 1]!;
      pairCounts.set(key, (pairCounts.get(key) ?? 0) + sign * counts[wi]!);
      if (sign > 0) {
        let set = pairWords.get(key);
        if (!set) pairWords.set(key, (set = new Set()));
        set.add(wi);
      }
    }
  };
  words.forEach((_, wi) => addPairs(wi, 1));
  const pieces: string[] = [];
  const pieceSet = new Set(chars);
  while (pieces.length < merges) {
    let best = "";
    let bestCount = 1;
    for (const [key, n] of pairCounts)
      if (n > bestCount || (n === bestCount && best && key < best)) {
        best = key;
        bestCount = n;
      }
    if (!best) break;
    const [a, b] = best.split(SEP) as [string, string];
    const merged = a + b;
    for (const wi of pairWords.get(best) ?? []) {
      const s = words[wi]!;
      if (s.length < 2) continue;
      addPairs(wi, -1);
      const out: string[] = [];
      for (let i = 0; i < s.length; i++) {
        if (i + 1 < s.length && s[i] === a && s[i + 1] === b) {
          out.push(merged);
          i++;
        } else out.push(s[i]!);
      }
      words[wi] = out;
      addPairs(wi, 1);
    }
    pairCounts.delete(best);
    pairWords.delete(best);
    if (!pieceSet.has(merged)) {
      pieceSet.add(merged);
      pieces.push(merged);
    }
  }
  return { chars, pieces };
}
