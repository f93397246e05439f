import type * as TreeSitter from "@vscode/tree-sitter-wasm";
import { GRAMMARS, type GrammarSpec } from "../../shared/languages";
import { sharedParsers, SyntaxParsers } from "../syntax/SyntaxParsers";

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
  constructor(private readonly parsers: SyntaxParsers) {}

  /**
   * A chunker with its own tree-sitter runtime (see {@link SyntaxParsers.create}); the sidecar uses
   * {@link sharedChunker} instead.
   */
  static async create(wasmDir?: string): Promise<Chunker> {
    return new Chunker(await SyntaxParsers.create(wasmDir));
  }

  /** Chunk one file's text. Never throws for bad source: a parse failure falls back to line windows. */
  async chunk(filePath: string, language: string, text: string, options: ChunkOptions = {}): Promise<Chunk[]> {
    const opts = {
      maxTokens: options.maxTokens ?? 384,
      overlapTokens: options.overlapTokens ?? 48,
      countTokens: options.countTokens ?? estimateTokens,
    };
    if (!text.trim()) return [];
    const parser = await this.parsers.parser(language).catch(() => undefined);
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

/** One {@link Chunker} for the whole sidecar, over the shared tree-sitter parsers ({@link sharedParsers}). */
export function sharedChunker(): Promise<Chunker> {
  shared ??= sharedParsers().then((parsers) => new Chunker(parsers));
  shared.catch(() => (shared = undefined));
  return shared;
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
