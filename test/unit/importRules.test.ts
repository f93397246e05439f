import path from "node:path";
import { ESLint } from "eslint";
import { describe, expect, it } from "vitest";

/**
 * The house's import rules (eslint.config.mjs, ARCHITECTURE.md) fire on probe imports: each probe is linted as if
 * it were a file of the folder named, with only the import-boundary rules on, so a rule that silently stopped
 * matching (a renamed folder, a resolver that no longer finds `.ts` files) fails here.
 */
const root = path.resolve(__dirname, "../..");
const eslint = new ESLint({
  cwd: root,
  // Probes are not files of any tsconfig project: parse them without type information and run only the
  // boundary rules (the typed rules need a project).
  overrideConfig: { languageOptions: { parserOptions: { projectService: false, project: null } } },
  ruleFilter: ({ ruleId }) => ruleId === "import-x/no-restricted-paths" || ruleId === "no-restricted-imports",
});

/** The boundary rules' messages for `source` linted as `file` (relative to the repository root). */
async function violations(file: string, source: string): Promise<string[]> {
  const [result] = await eslint.lintText(source, { filePath: path.join(root, file) });
  return (result?.messages ?? []).map((m) => `${m.ruleId}: ${m.message}`);
}

const probes: Array<[file: string, specifier: string, expected: RegExp]> = [
  ["sidecar/probe.ts", "../common/chat/slashSpec", /sidecar imports only sidecar\/ and shared\//],
  ["sidecar/search/probe.ts", "../../cli/terminal", /sidecar imports only sidecar\/ and shared\//],
  ["common/probe.ts", "../sidecar/engines/llama/ChatService", /Clients import only shared\//],
  ["sidecar/engines/probe.ts", "../search/identifiers", /Engines never import search\//],
  ["sidecar/search/probe.ts", "../engines/remote/load", /search\/ sees engines only through/],
  ["cli/probe.ts", "../sidecar/search/discover", /Clients import only shared\//],
  ["extension/probe.ts", "../sidecar/server", /Clients import only shared\//],
  ["webview/probe.ts", "../sidecar/server", /Clients import only shared\//],
  ["shared/probe.ts", "../common/chat/slashSpec", /shared\/ imports only shared\//],
  ["shared/probe.ts", "../sidecar/server", /shared\/ imports only shared\//],
  ["cli/probe.ts", "../extension/config", /extension\/ is VS Code glue/],
  ["common/probe.ts", "../cli/terminal", /CLI imports it, not the other way round/],
  ["webview/probe.ts", "../shared/protocol", /webview takes only shared\/webviewProtocol/],
  ["shared/probe.ts", "vscode", /Only extension\/ may import vscode/],
  ["sidecar/probe.ts", "vscode", /Only extension\/ may import vscode/],
  ["webview/probe.ts", "node:fs", /browser sandbox: no Node modules/],
];

describe("import rules between the parts of the house", () => {
  it.each(probes)("%s importing %s is an error", async (file, specifier, expected) => {
    const messages = await violations(file, `import * as probe from "${specifier}";\nexport default probe;\n`);
    expect(messages.join("\n")).toMatch(expected);
  });

  it.each([
    ["sidecar/probe.ts", "../shared/protocol"],
    ["sidecar/search/probe.ts", "../engines/types"],
    ["sidecar/engines/probe.ts", "../embeddingText/prefixes"],
    ["common/probe.ts", "../shared/errors"],
    ["cli/probe.ts", "../common/chat/slashSpec"],
    ["extension/probe.ts", "../common/chat/slashSpec"],
    ["webview/probe.ts", "../shared/webviewProtocol"],
    ["shared/probe.ts", "./workspaceFiles"],
  ])("%s may import %s", async (file, specifier) => {
    expect(await violations(file, `import * as probe from "${specifier}";\nexport default probe;\n`)).toEqual([]);
  });
});
