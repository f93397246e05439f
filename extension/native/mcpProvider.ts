import * as vscode from "vscode";
import { readConfig } from "../config";
import type { IndexController } from "../search/IndexController";

/** How to start `hearth mcp` for this window: the command, its arguments and environment. */
export interface McpLaunch {
  label: string;
  command: string;
  args: string[];
  env: Record<string, string>;
}

/**
 * The `hearth mcp` server of this window's workspace: the CLI bundle shipped in the extension, run by the editor's
 * own Node (Electron as Node: `ELECTRON_RUN_AS_NODE`), on the first workspace folder and the same index folder
 * the extension uses, so agents search the index Hearth keeps fresh.
 * @returns undefined without a folder.
 */
export function mcpLaunch(context: vscode.ExtensionContext, index: IndexController): McpLaunch | undefined {
  const target = index.target();
  if (!target) return undefined;
  // The embedding and rerank models the extension's index uses, so the server's search is the same search.
  const cfg = readConfig();
  const models: string[] = [];
  for (const role of ["embedding", "rerank"] as const) {
    if (cfg.engines[role]) models.push(`--${role}-engine-url`, cfg.engines[role]);
    if (cfg.models[role]) models.push(`--${role}-model`, cfg.models[role]);
  }
  return {
    label: "Hearth code search",
    command: process.execPath,
    args: [
      vscode.Uri.joinPath(context.extensionUri, "dist", "cli.mjs").fsPath,
      "mcp",
      target.root,
      "--index-dir",
      target.storageDir,
      "--threads",
      "1",
      ...models,
    ],
    env: { ELECTRON_RUN_AS_NODE: "1" },
  };
}

/** The parts of VS Code ≥ 1.101's MCP API used here (absent from older `@types/vscode`). */
interface McpApi {
  registerMcpServerDefinitionProvider(
    id: string,
    provider: { provideMcpServerDefinitions(): unknown[]; onDidChangeMcpServerDefinitions?: vscode.Event<void> },
  ): vscode.Disposable;
}
type StdioDefinition = new (label: string, command: string, args: string[], env: Record<string, string>) => unknown;

/**
 * Offer `hearth mcp` to VS Code's MCP client (`lm.registerMcpServerDefinitionProvider`, VS Code 1.101+), so
 * agent mode lists Hearth's tools without any configuration. On older VS Code this does nothing: the tools are
 * still there through `hearth_searchCodebase`, and other MCP clients start `hearth mcp` themselves.
 */
export function registerMcpProvider(context: vscode.ExtensionContext, index: IndexController): vscode.Disposable {
  const lm = vscode.lm as unknown as Partial<McpApi>;
  const Stdio = (vscode as unknown as { McpStdioServerDefinition?: StdioDefinition }).McpStdioServerDefinition;
  if (!lm.registerMcpServerDefinitionProvider || !Stdio) return new vscode.Disposable(() => undefined);
  const changed = new vscode.EventEmitter<void>();
  const folders = vscode.workspace.onDidChangeWorkspaceFolders(() => changed.fire());
  const provider = lm.registerMcpServerDefinitionProvider("hearth.mcp", {
    onDidChangeMcpServerDefinitions: changed.event,
    provideMcpServerDefinitions: () => {
      const launch = mcpLaunch(context, index);
      return launch ? [new Stdio(launch.label, launch.command, launch.args, launch.env)] : [];
    },
  });
  return vscode.Disposable.from(provider, folders, changed);
}
