import { createRequire } from "node:module";
import path from "node:path";
import type * as TreeSitter from "@vscode/tree-sitter-wasm";
import { GRAMMARS, type GrammarSpec } from "./languages";

/**
 * A piece of a file that is embedded and searched as one unit. Lines are 1-based and inclusive.
 * `symbol` is the enclosing definition's qualified name (`Class.method`), or undefined for top-level glue
 * (imports, statements) and line-window chunks.
 */
export interface Chunk {
  path: string;
  language: string;
  startLine: number;
  endLine: number;
  symbol?: string;
  text: string;
}

export interface ChunkOptions {
  /** Largest chunk, in tokens (as counted by `countTokens`). Default 384. */
  maxTokens?: number;
  /** Tokens repeated between consecutive pieces of a split symbol or line window. Default 48. */
  overlapTokens?: number;
  /** Token counter; default ≈ 1 token per 4 characters (the usual BPE average on code). */
  countTokens?: (text: string) => number;
}

const estimateTokens = (text: string): number => Math.ceil(text.length / 4);

type Parser = TreeSitter.Parser;
type Node = TreeSitter.Node;

/**
 * Syntax-aware chunking with tree-sitter (the approach of e.g. Continue's and Sweep's code chunkers, and the
 * cAST paper): one chunk per function / class / method, with the doc comments right above it; a definition
 * larger than `maxTokens` is split into its members when it has any (a class → its methods), else into
 * overlapping line windows; the statements between definitions are grouped into glue chunks. Languages
 * without a grammar, and files the parser cannot handle, are chunked by overlapping line windows.
 *
 * Pure apart from loading grammars (WASM, once per language). Call {@link Chunker.create} once and reuse.
 */
export class Chunker {
  private readonly parsers = new Map<string, Promise<Parser | undefined>>();

  private constructor(
    private readonly ts: typeof TreeSitter,
    private readonly wasmDir: string,
  ) {}

  /**
   * Initialise the tree-sitter runtime.
   * @param wasmDir folder holding `tree-sitter.wasm` and the grammars; default: the installed
   *   `@vscode/tree-sitter-wasm` package.
   */
  static async create(wasmDir?: string): Promise<Chunker> {
    const require = createRequire(import.meta.url);
    const dir = wasmDir ?? path.dirname(require.resolve("@vscode/tree-sitter-wasm"));
    const ts = require("@vscode/tree-sitter-wasm") as typeof TreeSitter;
    await ts.Parser.init({ locateFile: (file: string) => path.join(dir, file) });
    return new Chunker(ts, dir);
  }

  private parser(language: string): Promise<Parser | undefined> {
    let p = this.parsers.get(language);
    if (!p) {
      const spec = GRAMMARS[language];
      p = spec
        ? this.ts.Language.load(path.join(this.wasmDir, spec.wasm)).then((lang) => {
            const parser = new this.ts.Parser();
            parser.setLanguage(lang);
            return parser;
          })
        : Promise.resolve(undefined);
      this.parsers.set(language, p);
    }
    return p;
  }

  /**
   * Syntax errors tree-sitter finds in `text` parsed as `language` (a key of `GRAMMARS`): ERROR nodes plus
   * MISSING nodes (tokens the parser had to invent). Undefined when the language has no grammar or the parse
   * fails. One full parse: what {@link insertionChecker}'s incremental counts are checked against.
   */
  async syntaxErrors(language: string, text: string): Promise<number | undefined> {
    const check = await this.insertionChecker(language, text, "");
    check?.dispose();
    return check?.baseline;
  }

  /**
   * Syntax errors of `prefix + middle + suffix` for any number of candidate middles: `prefix + suffix` is parsed
   * once, and each candidate re-parsed incrementally from that tree (tree-sitter's `Tree.edit` and
   * `parse(text, oldTree)`: only the region around the insertion is parsed again), so checking ten candidates
   * costs little more than one parse. Indexes and columns are UTF-16 code units, as web-tree-sitter counts them.
   * Undefined when the language has no grammar or the parse fails. Call `dispose()` when done (frees the tree).
   */
  async insertionChecker(language: string, prefix: string, suffix: string): Promise<InsertionChecker | undefined> {
    const parser = await this.parser(language).catch(() => undefined);
    const parse = (text: string, old?: TreeSitter.Tree): TreeSitter.Tree | null => {
      try {
        return parser!.parse(text, old);
      } catch {
        return null; // a grammar's WASM failing on odd input must not fail the completion
      }
    };
    const base = parser && parse(prefix + suffix);
    if (!parser || !base) return undefined;
    const at = pointAfter({ row: 0, column: 0 }, prefix);
    return {
      baseline: countErrors(base.rootNode),
      errorsWith(middle: string): number | undefined {
        const tree = base.copy();
        tree.edit({
          startIndex: prefix.length,
          oldEndIndex: prefix.length,
          newEndIndex: prefix.length + middle.length,
          startPosition: at,
          oldEndPosition: at,
          newEndPosition: pointAfter(at, middle),
        });
        const next = parse(prefix + middle + suffix, tree);
        tree.delete();
        try {
          return next ? countErrors(next.rootNode) : undefined;
        } finally {
          next?.delete();
        }
      },
      dispose: () => base.delete(),
    };
  }

  /** Chunk one file's text. Never throws for bad source: a parse failure falls back to line windows. */
  async chunk(filePath: string, language: string, text: string, options: ChunkOptions = {}): Promise<Chunk[]> {
    const opts = {
      maxTokens: options.maxTokens ?? 384,
      overlapTokens: options.overlapTokens ?? 48,
      countTokens: options.countTokens ?? estimateTokens,
    };
    if (!text.trim()) return [];
    const parser = await this.parser(language).catch(() => undefined);
    if (parser) {
      let tree: TreeSitter.Tree | null = null;
      try {
        tree = parser.parse(text);
        if (tree) return new SyntaxChunking(filePath, language, text, GRAMMARS[language]!, opts).run(tree.rootNode);
      } catch {
        // fall through to line windows
      } finally {
        tree?.delete();
      }
    }
    return lineWindows(filePath, language, text.split("\n"), 1, undefined, opts);
  }
}

let shared: Promise<Chunker> | undefined;

/** One {@link Chunker} (tree-sitter runtime and grammars) for the whole sidecar: the index and FIM share it. */
export function sharedChunker(): Promise<Chunker> {
  shared ??= Chunker.create();
  shared.catch(() => (shared = undefined));
  return shared;
}

/** See {@link Chunker.insertionChecker}. */
export interface InsertionChecker {
  /** Syntax errors of `prefix + suffix` alone. */
  baseline: number;
  /** Syntax errors of `prefix + middle + suffix`; undefined when the parse fails. */
  errorsWith(middle: string): number | undefined;
  dispose(): void;
}

/** The point (row, UTF-16 column) reached after `text` starting at `from`. */
function pointAfter(from: TreeSitter.Point, text: string): TreeSitter.Point {
  const lines = text.split("\n");
  return lines.length === 1
    ? { row: from.row, column: from.column + text.length }
    : { row: from.row + lines.length - 1, column: lines[lines.length - 1]!.length };
}

/** ERROR and MISSING nodes under `node`, descending only into subtrees that contain an error. */
function countErrors(node: Node): number {
  if (node.isError || node.isMissing)
    return 1 + node.children.reduce((n, c) => n + (c && c.hasError ? countErrors(c) : 0), 0);
  if (!node.hasError) return 0;
  return node.children.reduce((n, c) => n + (c ? countErrors(c) : 0), 0);
}

type Opts = Required<ChunkOptions>;

/**
 * Overlapping windows of whole lines, each at most `maxTokens` (a single longer line becomes its own window),
 * consecutive windows sharing about `overlapTokens` of trailing lines.
 * @param firstLine 1-based number of `lines[0]`.
 */
export function lineWindows(
  filePath: string,
  language: string,
  lines: string[],
  firstLine: number,
  symbol: string | undefined,
  opts: Opts,
): Chunk[] {
  const chunks: Chunk[] = [];
  const cost = lines.map((l) => opts.countTokens(`${l}\n`));
  let start = 0;
  while (start < lines.length) {
    let end = start;
    let tokens = 0;
    while (end < lines.length && (end === start || tokens + cost[end]! <= opts.maxTokens)) tokens += cost[end++]!;
    const text = lines.slice(start, end).join("\n");
    if (text.trim()) {
      chunks.push({
        path: filePath,
        language,
        startLine: firstLine + start,
        endLine: firstLine + end - 1,
        symbol,
        text,
      });
    }
    if (end >= lines.length) break;
    // Step back over trailing lines worth ≤ overlapTokens, but always advance.
    let back = end;
    let overlap = 0;
    while (back - 1 > start && overlap + cost[back - 1]! <= opts.overlapTokens) overlap += cost[--back]!;
    start = back;
  }
  return chunks;
}

class SyntaxChunking {
  private readonly lines: string[];
  private readonly chunks: Chunk[] = [];

  constructor(
    private readonly filePath: string,
    private readonly language: string,
    text: string,
    private readonly spec: GrammarSpec,
    private readonly opts: Opts,
  ) {
    this.lines = text.split("\n");
  }

  run(root: Node): Chunk[] {
    this.children(
      root.namedChildren.filter((n): n is Node => n !== null),
      undefined,
    );
    return this.chunks.sort((a, b) => a.startLine - b.startLine || a.endLine - b.endLine);
  }

  /** Text of whole lines [start, end] (0-based rows). */
  private rows(start: number, end: number): string {
    return this.lines.slice(start, end + 1).join("\n");
  }

  private emit(startRow: number, endRow: number, symbol: string | undefined): void {
    const text = this.rows(startRow, endRow);
    if (!text.trim()) return;
    if (this.opts.countTokens(text) <= this.opts.maxTokens) {
      this.chunks.push({
        path: this.filePath,
        language: this.language,
        startLine: startRow + 1,
        endLine: endRow + 1,
        symbol,
        text,
      });
    } else {
      this.chunks.push(
        ...lineWindows(
          this.filePath,
          this.language,
          this.lines.slice(startRow, endRow + 1),
          startRow + 1,
          symbol,
          this.opts,
        ),
      );
    }
  }

  /** The definition a node stands for (unwrapping `export`, decorators, templates), or undefined. */
  private definition(node: Node): Node | undefined {
    let n: Node | null = node;
    while (n && this.spec.wrappers.has(n.type)) {
      n = n.namedChildren.find((c) => c !== null && c.type !== "comment" && c.type !== "decorator") ?? null;
    }
    if (!n || !this.spec.definitions.has(n.type)) return undefined;
    // `const f = () => …` is a definition; `const x = 1` is glue.
    if (n.type === "lexical_declaration" || n.type === "variable_declaration") {
      const decl = n.namedChildren.find((c) => c?.type === "variable_declarator");
      const value = decl?.childForFieldName("value");
      if (!value || !/function|arrow_function|class/.test(value.type)) return undefined;
    }
    return n;
  }

  private nameOf(def: Node): string | undefined {
    const named =
      def.childForFieldName("name") ??
      def.namedChildren.find((c) => c?.type === "variable_declarator")?.childForFieldName("name") ??
      def.childForFieldName("declarator")?.childForFieldName("declarator") ??
      def.childForFieldName("type");
    const text = named?.text.split("\n")[0]!.trim();
    return text ? text.slice(0, 80) : undefined;
  }

  /** The member list of a container definition (class body, impl block), when it has definitions in it. */
  private body(def: Node): Node[] | undefined {
    const queue = def.namedChildren.filter((c): c is Node => c !== null);
    for (const c of queue) {
      if (this.spec.containers.has(c.type)) {
        const members = c.namedChildren.filter((m): m is Node => m !== null);
        if (members.some((m) => this.definition(m))) return members;
      }
    }
    // Values like `const X = class { … }` or Python's `decorated_definition` nest one level deeper.
    const value = def.namedChildren.find((c) => c?.type === "variable_declarator")?.childForFieldName("value");
    return value ? this.body(value) : undefined;
  }

  private children(nodes: Node[], parent: string | undefined): void {
    let glueStart = -1;
    let glueEnd = -1;
    let commentStart = -1; // first row of the comments right above the next node
    let lastRow = -1;
    const flushGlue = () => {
      if (glueStart >= 0) this.emit(glueStart, glueEnd, parent);
      glueStart = glueEnd = -1;
    };
    for (const node of nodes) {
      const startRow = node.startPosition.row;
      const endRow = node.endPosition.row;
      if (node.type === "comment" || node.type === "line_comment" || node.type === "block_comment") {
        if (commentStart < 0 || startRow > lastRow + 1) {
          // A comment block detached from the one before: the earlier one is glue.
          if (commentStart >= 0) {
            if (glueStart < 0) glueStart = commentStart;
            glueEnd = lastRow;
          }
          commentStart = startRow;
        }
        lastRow = endRow;
        continue;
      }
      const def = this.definition(node);
      const leading = commentStart >= 0 && startRow <= lastRow + 1 ? commentStart : -1;
      if (!def) {
        const from = leading >= 0 ? leading : commentStart >= 0 ? commentStart : startRow;
        // Glue grows until the next node would make it larger than one chunk.
        if (glueStart >= 0 && this.opts.countTokens(this.rows(glueStart, endRow)) > this.opts.maxTokens) flushGlue();
        if (glueStart < 0) glueStart = Math.max(from, glueEnd + 1);
        glueEnd = endRow;
        commentStart = -1;
        lastRow = endRow;
        continue;
      }
      if (commentStart >= 0 && leading < 0) {
        if (glueStart < 0) glueStart = commentStart;
        glueEnd = lastRow;
      }
      flushGlue();
      commentStart = -1;
      lastRow = endRow;
      const first = leading >= 0 ? leading : startRow;
      const name = this.nameOf(def);
      const symbol = parent && name ? `${parent}.${name}` : (name ?? parent);
      const text = this.rows(first, endRow);
      const members = this.opts.countTokens(text) > this.opts.maxTokens ? this.body(def) : undefined;
      if (members) {
        // Header: doc comment and signature, up to the first member; members (fields included) follow.
        const headerEnd = Math.max(first, Math.min(members[0]!.startPosition.row - 1, first + 40));
        this.emit(first, headerEnd, symbol);
        this.children(members, symbol);
      } else {
        this.emit(first, endRow, symbol);
      }
    }
    if (commentStart >= 0) {
      if (glueStart < 0) glueStart = commentStart;
      glueEnd = Math.max(glueEnd, lastRow);
    }
    flushGlue();
  }
}
