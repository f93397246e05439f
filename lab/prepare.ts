/**
 * Model lab, step 1 (`npm run models:train` runs it): training data from the pinned npm packages in
 * lab/package.json, tokenized by llama.cpp itself, into lab/.work/.
 *
 * - Doc → code pairs for the encoders: every chunk (Hearth's own tree-sitter chunker) that starts with a JSDoc
 *   comment gives a query (the comment's first sentence, the symbol's name removed in 70 % of pairs, as the
 *   search benchmark does) and a document (the chunk in the index's `embeddingText` form, comments stripped).
 *   For the reranker, each pair also gets its 10 best BM25 hits from the same package as hard negatives.
 * - Fill-in-the-middle examples for the code model from the packages' implementation sources: a whole line
 *   (after its indentation, 50 %), 2–6 lines (30 %) or the rest of a line from a random column (20 %) as the
 *   middle, with up to `prefixTokens` before and `suffixTokens` after. Middles are code lines only, never
 *   comment lines: these packages are half JSDoc, and a model trained on comment middles answers a code
 *   position with `* @param …` (the first lab model did). Prefix and suffix keep their comments, as in an editor.
 * - Vocabularies (vocab.ts) are learnt from the training text; token ids come from llama.cpp's tokenizers
 *   through node-llama-cpp (tokenizer-only GGUFs with the same vocabulary), so training and inference tokenize
 *   identically by construction.
 *
 * Held-out packages (config.json `heldOut`, lodash-es: the search benchmark's package) are never read here.
 */
import { existsSync, promises as fs } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { getLlama, LlamaLogLevel, type LlamaModel } from "node-llama-cpp";
import ts from "typescript";
import { bm25Rank, firstSentence, withoutName } from "../bench/searchBenchmark";
import { embeddingText } from "../sidecar/search/CodeIndex";
import { Chunker } from "../sidecar/search/chunker";
import { embeddingWords } from "../sidecar/embeddingText/identifierWords";
import { seededRandom } from "../test/fixtures/synthetic/ggufWriter";
import {
  codeTensorShapes,
  codeVocabulary,
  encoderTensorShapes,
  randomTensors,
  writeCodeModel,
  writeEncoder,
  type EncoderShape,
} from "./ggufModels";
import { bpeVocabulary, wordPieceVocabulary } from "./vocab";

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, "..");
const labDir = path.join(repo, "lab");
const work = path.join(labDir, ".work");
const config = JSON.parse(await fs.readFile(path.join(labDir, "config.json"), "utf8"));

/** Which files of each training package are read: declarations for pairs, implementations for pairs + FIM. */
const SOURCES: Array<{ pkg: string; files: (rel: string) => boolean; fim: boolean }> = [
  { pkg: "rxjs", files: (r) => r.startsWith("src/internal/") && r.endsWith(".ts") && !r.includes(".spec."), fim: true },
  { pkg: "typescript", files: (r) => /^lib\/lib\.[\w.]+\.d\.ts$/.test(r), fim: false },
  { pkg: "@types/node", files: (r) => r.endsWith(".d.ts") && !r.startsWith("ts5"), fim: false },
  { pkg: "immutable", files: (r) => r === "dist/immutable.d.ts" || r === "dist/immutable.es.js", fim: true },
  { pkg: "mathjs", files: (r) => r.startsWith("lib/esm/") && r.endsWith(".js"), fim: true },
  { pkg: "zod", files: (r) => r.startsWith("src/v4/") && r.endsWith(".ts") && !r.includes("/tests/"), fim: true },
  { pkg: "three", files: (r) => r.startsWith("src/") && r.endsWith(".js"), fim: true },
];

async function walk(dir: string, base = dir): Promise<string[]> {
  const out: string[] = [];
  for (const e of await fs.readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(p, base)));
    else if (e.isFile()) out.push(path.relative(base, p).split(path.sep).join("/"));
  }
  return out.sort();
}

/** Source text with comments removed, by TypeScript's scanner (works on fragments, unlike a full parse). */
export function stripCommentsOf(text: string): string {
  const scanner = ts.createScanner(ts.ScriptTarget.Latest, false, ts.LanguageVariant.Standard, text);
  let out = "";
  for (let kind = scanner.scan(); kind !== ts.SyntaxKind.EndOfFileToken; kind = scanner.scan()) {
    if (kind === ts.SyntaxKind.SingleLineCommentTrivia || kind === ts.SyntaxKind.MultiLineCommentTrivia) continue;
    out += scanner.getTokenText();
  }
  return out
    .replace(/[ \t]+\n/g, "\n")
    .replace(/\n{3,}/g, "\n\n")
    .trim();
}

/**
 * Doc → code pairs of a declaration file, from TypeScript's syntax tree: every declaration with a JSDoc comment
 * (interfaces and their members, functions, classes, namespaces…), named `Parent.member` like the chunker's
 * symbols. Chunks of `.d.ts` files rarely start with a comment (members sit inside large declarations), hence this.
 */
function declarationPairs(
  rel: string,
  text: string,
): Array<{ doc: string; name: string; symbol: string; code: string }> {
  const sf = ts.createSourceFile(rel, text, ts.ScriptTarget.Latest, true);
  const out: Array<{ doc: string; name: string; symbol: string; code: string }> = [];
  const visit = (node: ts.Node, parents: string[]) => {
    const name =
      ts.isModuleDeclaration(node) || ts.isVariableStatement(node)
        ? undefined
        : ts.getNameOfDeclaration(node as ts.Declaration)?.getText(sf);
    const docs = (node as { jsDoc?: ts.JSDoc[] }).jsDoc;
    const declName =
      name ?? (ts.isVariableStatement(node) ? node.declarationList.declarations[0]?.name.getText(sf) : undefined);
    if (docs?.length && declName) {
      out.push({
        doc: docs[docs.length - 1]!.getText(sf),
        name: declName,
        symbol: [...parents, declName].join("."),
        code: node.getText(sf).slice(0, 1500),
      });
    }
    const scope = ts.isModuleDeclaration(node) ? node.name.getText(sf).replace(/["']/g, "") : declName;
    ts.forEachChild(node, (child) => visit(child, scope && !ts.isSourceFile(node) ? [...parents, scope] : parents));
  };
  visit(sf, []);
  return out;
}

interface Pair {
  pkg: string;
  query: string;
  doc: string;
}

const LANGUAGE: Record<string, string> = { ".ts": "typescript", ".js": "javascript" };

async function collect(): Promise<{ pairs: Pair[]; fimFiles: Array<{ pkg: string; rel: string; text: string }> }> {
  const chunker = await Chunker.create();
  const random = seededRandom(config.seed);
  const pairs: Pair[] = [];
  const fimFiles: Array<{ pkg: string; rel: string; text: string }> = [];
  for (const source of SOURCES) {
    if (config.heldOut.includes(source.pkg)) throw new Error(`${source.pkg} is held out for evaluation`);
    const dir = path.join(labDir, "node_modules", source.pkg);
    if (!existsSync(dir)) throw new Error(`${dir} is missing: run \`npm ci --prefix lab\``);
    const version = JSON.parse(await fs.readFile(path.join(dir, "package.json"), "utf8")).version;
    const seen = new Set<string>();
    let count = 0;
    const files = (await walk(dir)).filter(source.files);
    for (const rel of files) {
      const text = await fs.readFile(path.join(dir, rel), "utf8");
      if (source.fim && !rel.endsWith(".d.ts") && text.length < 400_000) fimFiles.push({ pkg: source.pkg, rel, text });
      const found: Array<{ doc: string; name: string; symbol: string; code: string }> = [];
      if (rel.endsWith(".d.ts")) found.push(...declarationPairs(rel, text));
      else {
        for (const chunk of await chunker.chunk(rel, LANGUAGE[path.extname(rel)]!, text)) {
          const doc = /^\/\*\*([\s\S]*?)\*\//.exec(chunk.text.trimStart())?.[0];
          if (doc && chunk.symbol)
            found.push({ doc, name: chunk.symbol.split(".").pop()!, symbol: chunk.symbol, code: chunk.text });
        }
      }
      for (const f of found) {
        const sentence = firstSentence(f.doc);
        const query = random() < 0.7 ? withoutName(sentence, f.name) : sentence;
        const words = query.split(" ").length;
        const code = stripCommentsOf(f.code);
        if (words < 3 || words > 60 || code.length < 10) continue;
        const key = `${query}\u0000${f.symbol}`;
        if (seen.has(key)) continue;
        seen.add(key);
        pairs.push({
          pkg: source.pkg,
          query: embeddingWords(query),
          doc: embeddingWords(embeddingText({ path: rel, symbol: f.symbol, text: code })),
        });
        count++;
      }
    }
    console.log(`  ${source.pkg}@${version}: ${files.length} files, ${count} doc→code pairs`);
  }
  return { pairs, fimFiles };
}

async function tokenizerModel(file: string, write: () => void): Promise<LlamaModel> {
  write();
  const llama = await getLlama({ build: "never", gpu: false, logLevel: LlamaLogLevel.error });
  return llama.loadModel({ modelPath: file, gpuLayers: 0 });
}

/** A line worth filling in: not blank and not (part of) a comment. */
function isCodeLine(line: string): boolean {
  const t = line.trim();
  return t.length > 0 && !t.startsWith("*") && !t.startsWith("/*") && !t.startsWith("//");
}

/** FIM examples as token ids: BOS PRE prefix SUF suffix MID middle EOS (node-llama-cpp's infill order). */
function fimExamples(files: Array<{ text: string }>, model: LlamaModel, count: number): number[][] {
  const c = config.code;
  const random = seededRandom(config.seed + 1);
  const total = files.reduce((a, f) => a + f.text.length, 0);
  const out: number[][] = [];
  const ids = { bos: 1, eos: 2, pre: 3, suf: 4, mid: 5 };
  let attempts = 0;
  while (out.length < count && attempts++ < count * 4) {
    let pick = random() * total;
    const file = files.find((f) => (pick -= f.text.length) < 0) ?? files[files.length - 1]!;
    const lines = file.text.split("\n");
    const li = Math.floor(random() * lines.length);
    const line = lines[li]!;
    const indent = line.length - line.trimStart().length;
    if (!isCodeLine(line)) continue;
    const lineStart = lines.slice(0, li).reduce((a, l) => a + l.length + 1, 0);
    const r = random();
    let start = lineStart + indent;
    let end = lineStart + line.length;
    if (r >= 0.5 && r < 0.8) {
      const k = 2 + Math.floor(random() * 5);
      const last = Math.min(lines.length - 1, li + k - 1);
      if (!lines.slice(li, last + 1).every(isCodeLine)) continue;
      end = lines.slice(0, last + 1).reduce((a, l) => a + l.length + 1, 0) - 1;
    } else if (r >= 0.8) {
      start = lineStart + indent + Math.floor(random() * (line.length - indent));
    }
    const middle = model.tokenize(file.text.slice(start, end));
    if (middle.length === 0 || middle.length > c.middleTokens) continue;
    const prefix = model
      .tokenize(file.text.slice(Math.max(0, start - c.prefixTokens * 8), start))
      .slice(-c.prefixTokens);
    const suffix = model.tokenize(file.text.slice(end, end + c.suffixTokens * 8)).slice(0, c.suffixTokens);
    out.push([ids.bos, ids.pre, ...prefix, ids.suf, ...suffix, ids.mid, ...middle, ids.eos]);
  }
  return out;
}

async function main(): Promise<void> {
  const started = performance.now();
  await fs.mkdir(work, { recursive: true });
  console.log("Collecting training data (held out: " + config.heldOut.join(", ") + ")");
  const { pairs, fimFiles } = await collect();

  // Encoders: vocabulary, tokenizer-only GGUF, token ids.
  const enc: EncoderShape = config.encoder;
  const vocab = wordPieceVocabulary(
    pairs.flatMap((p) => [p.query, p.doc]),
    enc.vocabSize,
  );
  if (vocab.length !== enc.vocabSize) throw new Error(`vocabulary came out at ${vocab.length}, want ${enc.vocabSize}`);
  const encFile = path.join(work, "encoder-tokenizer.gguf");
  const encModel = await tokenizerModel(encFile, () =>
    writeEncoder(
      encFile,
      "tokenizer",
      enc,
      vocab,
      randomTensors(encoderTensorShapes(enc, false)),
      false,
      "tokenizer only",
    ),
  );
  let unk = 0;
  let tokens = 0;
  const rows = pairs.map((p) => {
    const q = [...encModel.tokenize(p.query)].slice(0, config.encoder.maxQueryTokens);
    const d = [...encModel.tokenize(p.doc)].slice(0, config.encoder.maxDocTokens);
    for (const t of [...q, ...d]) if (t === 1) unk++;
    tokens += q.length + d.length;
    return { pkg: p.pkg, q, d, neg: [] as number[] };
  });
  console.log(
    `Encoder vocabulary: ${vocab.length} pieces; ${rows.length} pairs, ${tokens} tokens, ${((100 * unk) / tokens).toFixed(2)} % [UNK]`,
  );

  // Hard negatives for the reranker: BM25 over the same package's documents.
  const t0 = performance.now();
  for (const pkg of new Set(rows.map((r) => r.pkg))) {
    const idx = rows.flatMap((r, i) => (r.pkg === pkg ? [i] : []));
    const docs = new Map(idx.map((i) => [String(i), pairs[i]!.doc]));
    const ranked = bm25Rank(
      docs,
      idx.map((i) => pairs[i]!.query),
      11,
    );
    idx.forEach(
      (i, k) =>
        (rows[i]!.neg = ranked[k]!.map(Number)
          .filter((j) => j !== i && pairs[j]!.doc !== pairs[i]!.doc)
          .slice(0, 10)),
    );
  }
  console.log(`BM25 hard negatives in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  await fs.writeFile(path.join(work, "encoder-vocab.json"), JSON.stringify(vocab));
  await fs.writeFile(path.join(work, "pairs.jsonl"), rows.map((r) => JSON.stringify(r)).join("\n") + "\n");

  // Code model: BPE vocabulary, tokenizer-only GGUF, FIM examples.
  const t1 = performance.now();
  const c = config.code;
  const bpe = bpeVocabulary(
    fimFiles.map((f) => f.text),
    c.merges,
  );
  const codeVocab = codeVocabulary(bpe.chars, bpe.pieces);
  console.log(
    `Code vocabulary: ${codeVocab.tokens.length} tokens (${bpe.chars.length} characters, ${bpe.pieces.length} merges) in ${((performance.now() - t1) / 1000).toFixed(1)} s`,
  );
  const codeFile = path.join(work, "code-tokenizer.gguf");
  const codeModel = await tokenizerModel(codeFile, () =>
    writeCodeModel(
      codeFile,
      "tokenizer",
      c,
      codeVocab,
      randomTensors(codeTensorShapes(c, codeVocab.tokens.length)),
      "tokenizer only",
    ),
  );
  const sample = fimFiles
    .map((f) => f.text)
    .join("\n")
    .slice(0, 200_000);
  console.log(
    `Code tokenizer: ${(sample.length / codeModel.tokenize(sample).length).toFixed(2)} characters per token on the training text`,
  );
  const examples = fimExamples(fimFiles, codeModel, c.examples);
  await fs.writeFile(path.join(work, "code-vocab.json"), JSON.stringify(codeVocab));
  await fs.writeFile(path.join(work, "fim.jsonl"), examples.map((e) => JSON.stringify(e)).join("\n") + "\n");
  const fimTokens = examples.reduce((a, e) => a + e.length, 0);
  console.log(`FIM: ${examples.length} examples, ${fimTokens} tokens from ${fimFiles.length} files`);
  console.log(`Prepared in ${((performance.now() - started) / 1000).toFixed(0)} s → ${path.relative(repo, work)}`);
  process.exit(0);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
