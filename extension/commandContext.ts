import type * as vscode from "vscode";
import type { ChatSession } from "./chat/ChatSession";
import type { ChatViewProvider } from "./chat/ChatViewProvider";
import type { ActionController } from "./actions/ActionController";
import type { IndexController } from "./search/IndexController";
import type { HearthInlineCompletionProvider } from "./completion/InlineCompletionProvider";
import type { NextEditController } from "./nes/NextEditController";
import type { SidecarClient } from "./sidecar/SidecarClient";
import type { ModelRoles } from "../common/models/ModelRoles";
import type { LocalApiServer } from "./serve/LocalApiServer";

/** What the commands work on: the extension's parts, made once at activation. */
export interface CommandContext {
  sidecar: SidecarClient;
  roles: ModelRoles;
  session: ChatSession;
  log: vscode.LogOutputChannel;
  completions: HearthInlineCompletionProvider;
  /** Next-edit suggestions: the jump hint's Tab and Escape. */
  nextEdit: NextEditController;
  index: IndexController;
  actions: ActionController;
  localServer: LocalApiServer;
  /** The chat view, once VS Code has resolved it. */
  provider(): ChatViewProvider | undefined;
  /** Commands from code actions pass (uri, range); from the palette or a key they get nothing. */
  target(uri?: unknown, range?: unknown): { uri: vscode.Uri | undefined; range: vscode.Range | undefined };
  /** Attach the active editor's selection to the chat (a notice when no editor is open). */
  attachSelection(): void;
  /** Attach the active editor's whole file to the chat. */
  attachFile(): Promise<void>;
}

/** What VS Code calls when a command runs. */
export type CommandHandler = (...args: unknown[]) => unknown;
