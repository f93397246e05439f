/**
 * The code-search benchmark, built from a real npm package at a pinned version (lodash-es 4.17.21, a
 * devDependency): one query per exported function — the first sentence of its doc comment with the function's
 * own name removed — and, as documents, the package's files with every comment stripped (so the query text
 * cannot be matched against its own doc comment). A query's relevant document is the function's file.
 */
import { promises as fs } from "node:fs";
import path from "node:path";
import ts from "typescript";
import { lexicalTerms, queryTerms } from "../sidecar/search/identifiers";

export interface BenchmarkQuery {
  q: string;
  /** Relative path of the relevant file in the corpus. */
  file: string;
  /** The function's name (not in `q`). */
  name: string;
}

/** `[text](url)` → text, backticks and HTML-ish markup dropped, whitespace collapsed. */
function plain(text: string): string {
  return text
    .replace(/\[([^\]]*)\]\([^)]*\)/g, "$1")
    .replace(/\b_\./g, "")
    .replace(/[`*]/g, "")
    .replace(/<[^>]+>/g, "")
    .replace(/\s+/g, " ")
    .trim();
}

/** The first sentence of a JSDoc block's description (before the first tag). */
export function firstSentence(jsdoc: string): string {
  const description = jsdoc
    .split("\n")
    .map((l) => l.replace(/^\s*\/?\*+\/?\s?/, ""))
    .join("\n")
    .split(/\n\s*@/)[0]!;
  const paragraph = description.trim().split(/\n\s*\n/)[0] ?? "";
  const text = plain(paragraph);
  const m = /^(.+?[.!?])(\s|$)/.exec(text);
  return (m?.[1] ?? text).trim();
}

/** Remove a function's name from a query: the word itself, and its split form ("camelCase" → "camel case"). */
export function withoutName(query: string, name: string): string {
  const escaped = name.replace(/[$]/g, "\\$");
  let q = query.replace(new RegExp(`\\b_?\\.?${escaped}\\b`, "gi"), " ");
  const words = lexicalTerms(name).split(" ").slice(1); // the parts, when the name is compound
  if (words.length > 1) q = q.replace(new RegExp(`\\b${words.join("[\\s_-]*")}\\b`, "gi"), " ");
  return q
    .replace(/\s+/g, " ")
    .replace(/\s+([.,;:])/g, "$1")
    .trim();
}

/** Source text with all comments removed (TypeScript's printer; strings and regexes stay intact). */
export function stripComments(fileName: string, source: string): string {
  const sf = ts.createSourceFile(fileName, source, ts.ScriptTarget.Latest, false, ts.ScriptKind.JS);
  return ts.createPrinter({ removeComments: true }).printFile(sf);
}

/**
 * Build the benchmark into `outDir/corpus` from the installed package at `packageDir`.
 * Skips private helpers (`_*.js`), aliases without their own doc comment, and queries left empty.
 */
export async function buildBenchmark(
  packageDir: string,
  outDir: string,
): Promise<{ corpusDir: string; queries: BenchmarkQuery[] }> {
  const corpusDir = path.join(outDir, "corpus");
  await fs.rm(corpusDir, { recursive: true, force: true });
  await fs.mkdir(corpusDir, { recursive: true });
  const queries: BenchmarkQuery[] = [];
  const files = (await fs.readdir(packageDir)).filter((f) => f.endsWith(".js")).sort();
  for (const file of files) {
    const source = await fs.readFile(path.join(packageDir, file), "utf8");
    await fs.writeFile(path.join(corpusDir, file), stripComments(file, source));
    if (file.startsWith("_") || file.includes(".default")) continue;
    const name = /export default (\w+);/.exec(source)?.[1];
    if (!name) continue;
    const doc = new RegExp(`(/\\*\\*(?:(?!\\*/)[\\s\\S])*\\*/)\\s*(?:function\\s+${name}\\b|var\\s+${name}\\s*=)`).exec(
      source,
    )?.[1];
    if (!doc) continue;
    const q = withoutName(firstSentence(doc), name);
    if (q.split(" ").length < 2) continue;
    queries.push({ q, file, name });
  }
  return { corpusDir, queries };
}

/**
 * Plain BM25 (Robertson & Zaragoza 2009; k1 = 1.2, b = 0.75) over whole files, tokenised with the same
 * identifier splitting as the index: the baseline the lexical mode must at least match.
 * @returns per query, the file names best first (top `k`).
 */
export function bm25Rank(docs: Map<string, string>, queries: string[], k = 10): string[][] {
  const k1 = 1.2;
  const b = 0.75;
  const tf = new Map<string, Map<string, number>>();
  const df = new Map<string, number>();
  const len = new Map<string, number>();
  for (const [name, text] of docs) {
    const terms = lexicalTerms(text).split(" ").filter(Boolean);
    const counts = new Map<string, number>();
    for (const t of terms) counts.set(t, (counts.get(t) ?? 0) + 1);
    tf.set(name, counts);
    len.set(name, terms.length);
    for (const t of counts.keys()) df.set(t, (df.get(t) ?? 0) + 1);
  }
  const n = docs.size;
  const avgdl = [...len.values()].reduce((a, x) => a + x, 0) / n;
  return queries.map((q) => {
    const qt = [...new Set(queryTerms(q).split(" ").filter(Boolean))];
    const scores: Array<[string, number]> = [];
    for (const [name, counts] of tf) {
      let s = 0;
      for (const t of qt) {
        const f = counts.get(t);
        if (!f) continue;
        const idf = Math.log(1 + (n - df.get(t)! + 0.5) / (df.get(t)! + 0.5));
        s += (idf * f * (k1 + 1)) / (f + k1 * (1 - b + (b * len.get(name)!) / avgdl));
      }
      if (s > 0) scores.push([name, s]);
    }
    return scores
      .sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1))
      .slice(0, k)
      .map(([name]) => name);
  });
}

/** MRR@10, Recall@1 and Recall@10 of ranked file lists against the relevant file of each query. */
export function scoreRankings(rankings: string[][], relevant: string[]): { mrr10: number; r1: number; r10: number } {
  let mrr = 0;
  let r1 = 0;
  let r10 = 0;
  rankings.forEach((ranked, i) => {
    const pos = ranked.slice(0, 10).indexOf(relevant[i]!);
    if (pos >= 0) {
      mrr += 1 / (pos + 1);
      r10++;
      if (pos === 0) r1++;
    }
  });
  const n = relevant.length;
  return { mrr10: mrr / n, r1: r1 / n, r10: r10 / n };
}

/** Files of ranked hits, first occurrence kept (several chunks of one file count once). */
export function filesOf(hits: Array<{ path: string }>): string[] {
  return [...new Set(hits.map((h) => h.path))];
}
