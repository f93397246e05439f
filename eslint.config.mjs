// ESLint flat config: typed rules for every TypeScript file, and import-boundary rules that enforce the
// invariants of ARCHITECTURE.md (which runtime may import what). Formatting is prettier's job, not ESLint's.
import { builtinModules } from "node:module";
import js from "@eslint/js";
import tseslint from "typescript-eslint";

const noNodeMessage = "The webview runs in a browser sandbox: no Node modules (ARCHITECTURE.md invariant 1).";

/** `no-restricted-imports` options for one runtime folder: the modules and paths it must not import. */
function boundary({ paths = [], patterns = [] }) {
  return ["error", { paths, patterns }];
}

const noVscode = {
  name: "vscode",
  message: "Only extension/ may import vscode (ARCHITECTURE.md invariant 1): this code also runs outside VS Code.",
};
const noExtension = {
  group: ["**/extension/**", "**/extension"],
  message: "extension/ is VS Code glue; shared code goes in common/ (ARCHITECTURE.md invariant 1).",
};

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
  // Import boundaries (ARCHITECTURE.md invariants 1 and 12): who may import vscode, Node, and extension/.
  {
    files: ["sidecar/**", "common/**", "cli/**", "bench/**", "lab/**", "test/unit/**", "test/sidecar/**"],
    rules: { "no-restricted-imports": boundary({ paths: [noVscode], patterns: [noExtension] }) },
  },
  {
    files: ["webview/**"],
    rules: {
      "no-restricted-imports": boundary({
        paths: [noVscode, ...builtinModules.map((name) => ({ name, message: noNodeMessage }))],
        patterns: [
          noExtension,
          { group: ["node:*"], message: noNodeMessage },
          {
            group: ["**/sidecar/*", "!**/sidecar/protocol"],
            message: "The webview may import only sidecar/protocol's types.",
          },
        ],
      }),
    },
  },
);
