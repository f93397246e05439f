import { createRequire } from "node:module";
import path from "node:path";
import type * as TreeSitter from "@vscode/tree-sitter-wasm";
import { GRAMMARS } from "../../shared/languages";

type Parser = TreeSitter.Parser;
type Node = TreeSitter.Node;

/**
 * The tree-sitter runtime (WASM) and one parser per language, loaded on first use, and the syntax-error counts
 * built on them. Code search chunks with these parsers (`Chunker`); inline completion checks with them whether
 * a suggestion adds syntax errors (`syntaxTrim.ts`). The sidecar uses one, {@link sharedParsers}.
 */
export class SyntaxParsers {
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
  static async create(wasmDir?: string): Promise<SyntaxParsers> {
    const require = createRequire(import.meta.url);
    const dir = wasmDir ?? path.dirname(require.resolve("@vscode/tree-sitter-wasm"));
    const ts = require("@vscode/tree-sitter-wasm") as typeof TreeSitter;
    await ts.Parser.init({ locateFile: (file: string) => path.join(dir, file) });
    return new SyntaxParsers(ts, dir);
  }

  /** The parser of `language` (a key of `GRAMMARS`), undefined when it has none; rejects if its WASM fails. */
  parser(language: string): Promise<Parser | undefined> {
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
}

let shared: Promise<SyntaxParsers> | undefined;

/** One {@link SyntaxParsers} (tree-sitter runtime and grammars) for the whole sidecar: search and FIM share it. */
export function sharedParsers(): Promise<SyntaxParsers> {
  shared ??= SyntaxParsers.create();
  shared.catch(() => (shared = undefined));
  return shared;
}

/** See {@link SyntaxParsers.insertionChecker}. */
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
