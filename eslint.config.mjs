// ESLint flat config: typed rules for every TypeScript file, and import-boundary rules that enforce the
// invariants of ARCHITECTURE.md (which runtime may import what). Formatting is prettier's job, not ESLint's.
import { builtinModules } from "node:module";
import js from "@eslint/js";
import tseslint from "typescript-eslint";
import { createNodeResolver, importX } from "eslint-plugin-import-x";

const noNodeMessage = "The webview runs in a browser sandbox: no Node modules (ARCHITECTURE.md, webview/).";

/** `no-restricted-imports` options for one runtime folder: the modules and paths it must not import. */
function boundary({ paths = [], patterns = [] }) {
  return ["error", { paths, patterns }];
}

const noVscode = {
  name: "vscode",
  message: "Only extension/ may import vscode (ARCHITECTURE.md): this code also runs outside VS Code.",
};

const CLIENTS = ["./common", "./cli", "./extension", "./webview"];
/**
 * The "never" rules between the parts of the house (ARCHITECTURE.md), on resolved paths: `shared/` is the floor
 * both sides of the wire stand on; the sidecar and its clients meet only there. `test/unit/importRules.test.ts`
 * checks that each zone fires on a probe import.
 */
const HOUSE_ZONES = [
  {
    target: "./sidecar",
    from: [...CLIENTS, "./bench", "./lab", "./test"],
    message: "The sidecar imports only sidecar/ and shared/: move a fact both sides need to shared/.",
  },
  {
    target: CLIENTS,
    from: ["./sidecar"],
    message:
      "Clients import only shared/ of the sidecar's side (the protocol, guards, errors, policy), never sidecar/.",
  },
  {
    target: "./shared",
    from: ["./sidecar", ...CLIENTS, "./bench", "./lab", "./test", "./scripts"],
    message: "shared/ imports only shared/: it is the floor both sides of the wire stand on.",
  },
  {
    target: ["./common", "./cli"],
    from: ["./extension"],
    message: "extension/ is VS Code glue; code both client hosts need goes in common/.",
  },
  {
    target: "./common",
    from: ["./cli"],
    message: "common/ serves both client hosts; the CLI imports it, not the other way round.",
  },
  {
    target: "./sidecar/engines",
    from: ["./sidecar/search"],
    message: "Engines never import search/: text preparation both need lives in sidecar/embeddingText/.",
  },
  {
    target: "./sidecar/search",
    from: ["./sidecar/engines/llama", "./sidecar/engines/remote"],
    message: "search/ sees engines only through sidecar/engines/types.ts (and the registry's types), never one engine.",
  },
  {
    target: "./webview",
    from: ["./shared"],
    except: ["./webviewProtocol.ts"],
    message: "The webview takes only shared/webviewProtocol of shared/ (it runs in a browser sandbox).",
  },
];

export default tseslint.config(
  {
    ignores: [
      "dist/**",
      "node_modules/**",
      "test-results/**",
      ".e2e/**",
      ".cache/**",
      ".hearth-cache/**",
      "lab/.work/**",
      "lab/node_modules/**",
      "test/fixtures/workspace/**",
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ["**/*.ts", "**/*.mts"],
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ["vitest.config.mts"] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      // A `let` read by a closure before its one assignment (wiring objects that refer to each other) stays `let`.
      "prefer-const": ["error", { ignoreReadBeforeAssign: true }],
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": ["error", { checksVoidReturn: { arguments: false } }],
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/consistent-type-imports": ["error", { fixStyle: "inline-type-imports" }],
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrorsIgnorePattern: "^_" },
      ],
    },
  },
  {
    files: ["**/*.mjs", "**/*.cjs", "**/*.js"],
    languageOptions: {
      globals: {
        process: "readonly",
        console: "readonly",
        URL: "readonly",
        Buffer: "readonly",
        setTimeout: "readonly",
        clearTimeout: "readonly",
        setInterval: "readonly",
        clearInterval: "readonly",
        fetch: "readonly",
        AbortController: "readonly",
        require: "readonly",
        module: "writable",
        __dirname: "readonly",
        TextDecoder: "readonly",
        TextEncoder: "readonly",
        performance: "readonly",
      },
    },
    rules: {
      "@typescript-eslint/no-require-imports": "off",
      "no-unused-vars": ["error", { argsIgnorePattern: "^_", caughtErrorsIgnorePattern: "^_" }],
    },
  },
  // Import boundaries (ARCHITECTURE.md): who may import vscode and Node, and the house's zones on resolved paths.
  {
    files: ["**/*.ts", "**/*.mts"],
    plugins: { "import-x": importX },
    settings: {
      "import-x/resolver-next": [createNodeResolver({ extensions: [".ts", ".mts", ".js", ".mjs", ".json"] })],
    },
    rules: { "import-x/no-restricted-paths": ["error", { zones: HOUSE_ZONES }] },
  },
  {
    files: ["shared/**", "sidecar/**", "common/**", "cli/**", "bench/**", "lab/**", "test/unit/**", "test/sidecar/**"],
    rules: { "no-restricted-imports": boundary({ paths: [noVscode] }) },
  },
  {
    files: ["webview/**"],
    rules: {
      "no-restricted-imports": boundary({
        paths: [noVscode, ...builtinModules.map((name) => ({ name, message: noNodeMessage }))],
        patterns: [{ group: ["node:*"], message: noNodeMessage }],
      }),
    },
  },
);
