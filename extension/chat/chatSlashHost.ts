import * as path from "node:path";
import * as vscode from "vscode";
import type { PromptSpec } from "../../common/actions/promptFiles";
import type { SlashHost, SlashResult } from "../../common/chat/slashCommands";
import type { PromptFileError } from "../../common/actions/promptFiles";
import type { ModelInfo } from "../../shared/protocol";
import { readConfig } from "../config";
import type { IndexController } from "../search/IndexController";

/** Prompt files as slash commands: what the chat needs of the action controller. */
export interface PromptCommands {
  prompts(): Promise<{ prompts: PromptSpec[]; errors: PromptFileError[] }>;
  runFromChat(spec: PromptSpec, rest: string): Promise<SlashResult>;
}

/** What the VS Code chat's slash commands act on, besides the conversation. */
export interface ChatSlashDeps {
  /** Folder for relative paths when no workspace is open. */
  fallbackDir: string;
  conversationId(): string;
  loadChatModel(uri: string): Promise<ModelInfo>;
  conversationReplaced(): void;
  index?: IndexController | undefined;
  prompts?: PromptCommands | undefined;
}

/**
 * The {@link SlashHost} of the VS Code chat: files through `vscode.workspace.fs`, paths relative to the first
 * workspace folder, `/search` through the index, and the prompt files as commands.
 */
export function chatSlashHost(deps: ChatSlashDeps): SlashHost {
  const root = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? deps.fallbackDir;
  const { index, prompts } = deps;
  return {
    kind: "vscode",
    readFile: async (p) => Buffer.from(await vscode.workspace.fs.readFile(vscode.Uri.file(p))).toString("utf8"),
    // A temporary file beside the target, renamed over it: a reader sees the old file or the new one.
    writeFile: async (p, t) => {
      const temp = vscode.Uri.file(path.join(path.dirname(p), `.${path.basename(p)}.${process.pid}.tmp`));
      await vscode.workspace.fs.writeFile(temp, Buffer.from(t, "utf8"));
      await vscode.workspace.fs.rename(temp, vscode.Uri.file(p), { overwrite: true });
    },
    resolvePath: (p) => (path.isAbsolute(p) ? p : path.join(root, p)),
    defaultChatFile: () => path.join(".hearth", "chats", `${deps.conversationId()}.json`),
    loadChatModel: (uri) => deps.loadChatModel(uri),
    configuredModel: () => readConfig().models.chat || undefined,
    conversationReplaced: () => deps.conversationReplaced(),
    ...(index?.target() ? { search: (query: string) => index.search(query) } : {}),
    ...(prompts
      ? {
          prompts: () => prompts.prompts(),
          runPrompt: (spec: PromptSpec, rest: string) => prompts.runFromChat(spec, rest),
        }
      : {}),
  };
}
