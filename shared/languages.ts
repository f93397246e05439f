/**
 * File extension → language id, and language id → the tree-sitter grammar (a WASM file shipped by
 * `@vscode/tree-sitter-wasm`, the grammars VS Code itself uses) plus the node types that are definitions worth
 * a chunk of their own. Languages without a grammar are chunked by line windows.
 */

const EXTENSIONS: Record<string, string> = {
  ts: "typescript",
  mts: "typescript",
  cts: "typescript",
  tsx: "tsx",
  js: "javascript",
  mjs: "javascript",
  cjs: "javascript",
  jsx: "javascript",
  py: "python",
  pyi: "python",
  go: "go",
  rs: "rust",
  java: "java",
  cs: "csharp",
  c: "c",
  h: "c",
  cc: "cpp",
  cpp: "cpp",
  cxx: "cpp",
  hpp: "cpp",
  hh: "cpp",
  hxx: "cpp",
  rb: "ruby",
  php: "php",
  sh: "shellscript",
  bash: "shellscript",
  zsh: "shellscript",
  css: "css",
  scss: "scss",
  less: "less",
  md: "markdown",
  mdx: "markdown",
  rst: "restructuredtext",
  txt: "plaintext",
  json: "json",
  jsonc: "json",
  yaml: "yaml",
  yml: "yaml",
  toml: "toml",
  ini: "ini",
  html: "html",
  htm: "html",
  vue: "vue",
  svelte: "svelte",
  kt: "kotlin",
  kts: "kotlin",
  swift: "swift",
  scala: "scala",
  lua: "lua",
  dart: "dart",
  sql: "sql",
  r: "r",
  jl: "julia",
  ex: "elixir",
  exs: "elixir",
  erl: "erlang",
  hs: "haskell",
  ml: "ocaml",
  zig: "zig",
  nim: "nim",
  pl: "perl",
  ps1: "powershell",
  gradle: "groovy",
  groovy: "groovy",
  proto: "proto",
  graphql: "graphql",
  tf: "terraform",
  cmake: "cmake",
  mk: "makefile",
};

const FILE_NAMES: Record<string, string> = {
  Makefile: "makefile",
  Dockerfile: "dockerfile",
  CMakeLists: "cmake",
  Rakefile: "ruby",
  Gemfile: "ruby",
};

/** The language id of a path (VS Code's ids where they exist), or undefined for files we do not index. */
export function languageOf(filePath: string): string | undefined {
  const base = filePath.split(/[\\/]/).pop() ?? filePath;
  const byName = FILE_NAMES[base.replace(/\.txt$/, "")];
  if (byName) return byName;
  const dot = base.lastIndexOf(".");
  if (dot <= 0) return undefined;
  return EXTENSIONS[base.slice(dot + 1).toLowerCase()];
}

/** A grammar: its WASM file in `@vscode/tree-sitter-wasm/wasm` and the node types chunked as definitions. */
export interface GrammarSpec {
  wasm: string;
  /** Node types that start a chunk (functions, classes, methods, …). */
  definitions: ReadonlySet<string>;
  /** Node types whose children are definitions to chunk separately when the container is too large. */
  containers: ReadonlySet<string>;
  /** Node types wrapping a definition (e.g. `export_statement`, `decorated_definition`). */
  wrappers: ReadonlySet<string>;
}

const set = (...types: string[]): ReadonlySet<string> => new Set(types);

const JS_DEFS = set(
  "function_declaration",
  "generator_function_declaration",
  "class_declaration",
  "abstract_class_declaration",
  "method_definition",
  "lexical_declaration",
  "variable_declaration",
  "interface_declaration",
  "type_alias_declaration",
  "enum_declaration",
  "module",
  "internal_module",
  "function_signature",
);
const JS_CONTAINERS = set("class_body", "interface_body", "object_type");

export const GRAMMARS: Record<string, GrammarSpec> = {
  typescript: {
    wasm: "tree-sitter-typescript.wasm",
    definitions: JS_DEFS,
    containers: JS_CONTAINERS,
    wrappers: set("export_statement", "ambient_declaration"),
  },
  tsx: {
    wasm: "tree-sitter-tsx.wasm",
    definitions: JS_DEFS,
    containers: JS_CONTAINERS,
    wrappers: set("export_statement", "ambient_declaration"),
  },
  javascript: {
    wasm: "tree-sitter-javascript.wasm",
    definitions: JS_DEFS,
    containers: JS_CONTAINERS,
    wrappers: set("export_statement"),
  },
  python: {
    wasm: "tree-sitter-python.wasm",
    definitions: set("function_definition", "class_definition"),
    containers: set("block"),
    wrappers: set("decorated_definition"),
  },
  go: {
    wasm: "tree-sitter-go.wasm",
    definitions: set("function_declaration", "method_declaration", "type_declaration"),
    containers: set(),
    wrappers: set(),
  },
  rust: {
    wasm: "tree-sitter-rust.wasm",
    definitions: set(
      "function_item",
      "impl_item",
      "struct_item",
      "enum_item",
      "trait_item",
      "mod_item",
      "macro_definition",
    ),
    containers: set("declaration_list"),
    wrappers: set(),
  },
  java: {
    wasm: "tree-sitter-java.wasm",
    definitions: set(
      "class_declaration",
      "interface_declaration",
      "enum_declaration",
      "record_declaration",
      "method_declaration",
      "constructor_declaration",
    ),
    containers: set("class_body", "interface_body", "enum_body"),
    wrappers: set(),
  },
  csharp: {
    wasm: "tree-sitter-c-sharp.wasm",
    definitions: set(
      "class_declaration",
      "interface_declaration",
      "struct_declaration",
      "enum_declaration",
      "record_declaration",
      "method_declaration",
      "constructor_declaration",
      "namespace_declaration",
    ),
    containers: set("declaration_list"),
    wrappers: set(),
  },
  cpp: {
    wasm: "tree-sitter-cpp.wasm",
    definitions: set(
      "function_definition",
      "class_specifier",
      "struct_specifier",
      "namespace_definition",
      "enum_specifier",
    ),
    containers: set("field_declaration_list", "declaration_list"),
    wrappers: set("template_declaration"),
  },
  ruby: {
    wasm: "tree-sitter-ruby.wasm",
    definitions: set("method", "singleton_method", "class", "module"),
    containers: set("body_statement"),
    wrappers: set(),
  },
  php: {
    wasm: "tree-sitter-php.wasm",
    definitions: set(
      "function_definition",
      "class_declaration",
      "interface_declaration",
      "trait_declaration",
      "method_declaration",
    ),
    containers: set("declaration_list"),
    wrappers: set(),
  },
  shellscript: {
    wasm: "tree-sitter-bash.wasm",
    definitions: set("function_definition"),
    containers: set(),
    wrappers: set(),
  },
};
// C parses well enough with the C++ grammar (VS Code's bundle has no separate C grammar).
GRAMMARS["c"] = GRAMMARS["cpp"]!;
