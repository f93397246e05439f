import * as path from "node:path";
import * as vscode from "vscode";
import { ChatController } from "../../common/chat/ChatController";
import { type ChatHistoryStore } from "../../common/chat/ChatHistoryStore";
import type { SourceRef } from "../../common/chat/conversation";
import { codebaseContext, mentionsCodebase, sourceRef, withoutMention } from "../../common/search/codebaseContext";
import { SidecarError } from "../../common/sidecar/SidecarError";
import { commandsFor, isNoModelError, parseSlash, runSlash, type SlashHost } from "../../common/chat/slashCommands";
import { ErrorCodes, type ModelInfo } from "../../sidecar/protocol";
import type { ViewHit, ViewState } from "../../webview/protocol";
import type { PromptSpec } from "../../common/actions/promptFiles";
import type { ActionController } from "../actions/ActionController";
import type { IndexController } from "../search/IndexController";
import { readConfig } from "../config";
import { openHit } from "../search/searchQuickPick";
import { loadChatModel } from "../models/chatModel";
import type { SidecarClient } from "../sidecar/SidecarClient";

/** A piece of editor context attached to the next message. */
export interface Attachment {
  label: string;
  languageId: string;
  text: string;
}

/**
 * The chat's state on the extension side: the conversation ({@link ChatController}), pending attachments,
 * whether an answer is being generated, and the per-workspace history. The webview only renders
 * {@link viewState}; it survives webview reloads and sidecar restarts because it lives here and on disk.
 */
export class ChatSession implements vscode.Disposable {
  readonly controller: ChatController;
  private attachments: Attachment[] = [];
  private abort?: AbortController;
  private chatModel?: ModelInfo;
  /** The model the user last loaded; reloaded after a sidecar crash. Survives the crash, unlike chatModel. */
  private chatModelUri?: string;
  private status?: string;
  private readonly changed = new vscode.EventEmitter<ViewState>();
  private readonly delta = new vscode.EventEmitter<{ conversationId: string; text: string }>();
  private readonly notice = new vscode.EventEmitter<{ kind: "info" | "error"; text: string; hits?: ViewHit[] }>();
  readonly onDidChange = this.changed.event;
  readonly onDelta = this.delta.event;
  readonly onNotice = this.notice.event;
  private readonly subscriptions: vscode.Disposable[] = [];
  /** Prompt files as slash commands; set once the action controller exists (it needs this session). */
  actions?: ActionController;

  constructor(
    private readonly sidecar: SidecarClient,
    readonly history: ChatHistoryStore,
    private readonly log: vscode.LogOutputChannel,
    private readonly index?: IndexController,
  ) {
    const cfg = readConfig();
    this.controller = new ChatController(sidecar, { params: cfg.generation, system: cfg.systemPrompt || undefined });
    this.subscriptions.push(
      sidecar.onStatus((s) => {
        this.status = s.state === "ready" || s.state === "idle" ? undefined : s.message;
        // A sidecar that stopped or crashed has no model any more.
        if (s.state === "idle" || s.state === "error") this.chatModel = s.model ? this.chatModel : undefined;
        this.fire();
      }),
      // After a crash the new sidecar has no model: load the one we had, so the next message just works.
      sidecar.onRestarted(() => {
        this.chatModel = undefined;
        const uri = this.chatModelUri;
        if (uri) void this.loadModel(uri).catch((e) => this.log.warn(`Reload after restart failed: ${String(e)}`));
      }),
    );
  }

  get generating(): boolean {
    return this.abort !== undefined;
  }

  viewState(): ViewState {
    const c = this.controller.conversation;
    return {
      conversationId: c.id,
      title: c.title,
      // The retrieved context stays out of the view: the sources list says what it was.
      messages: c.messages.map(({ context: _context, ...m }) => ({ ...m })),
      attachments: this.attachments.map((a) => ({ label: a.label })),
      generating: this.generating,
      model: this.chatModel?.name,
      status: this.status,
      commands: commandsFor("vscode").map(({ name, args, description }) => ({ name, args, description })),
    };
  }

  private fire(): void {
    void vscode.commands.executeCommand("setContext", "hearth.generating", this.generating);
    this.changed.fire(this.viewState());
  }

  /** Load a chat model (progress notification) and remember it for restarts. */
  async loadModel(uri: string): Promise<ModelInfo> {
    const info = await loadChatModel(this.sidecar, uri, readConfig());
    this.chatModel = info;
    this.chatModelUri = uri;
    this.fire();
    return info;
  }

  /** Make sure a chat model is loaded: the configured one, or tell the user how to pick one. */
  private async ensureModel(): Promise<boolean> {
    if (this.chatModel) return true;
    const stats = await this.sidecar.request("runtime/stats", {});
    const loaded = stats.models.find((m) => m.role === "chat");
    if (loaded) {
      this.chatModel = loaded;
      this.chatModelUri ??= loaded.path;
      return true;
    }
    const configured = readConfig().models.chat;
    if (!configured) {
      this.notice.fire({
        kind: "error",
        text: "No chat model is set. Run 'Hearth: Select Chat Model', set 'hearth.models.chat', or type /model <path.gguf>.",
      });
      void vscode.window
        .showInformationMessage("Hearth needs a chat model.", "Select Chat Model")
        .then((c) => c && vscode.commands.executeCommand("hearth.selectChatModel"));
      return false;
    }
    await this.loadModel(configured);
    return true;
  }

  /** Handle what the user typed: a slash command or a message. Errors become notices; nothing is lost. */
  async submit(text: string): Promise<void> {
    const slash = parseSlash(text);
    if (slash) {
      const result = await runSlash(slash, { controller: this.controller, api: this.sidecar, host: this.slashHost() });
      const hits = result.hits?.map(sourceRef);
      if (result.output)
        this.notice.fire({
          kind: result.isError ? "error" : "info",
          text: hits?.length ? result.output.split("\n")[0]! : result.output,
          hits,
        });
      this.fire();
      return;
    }
    if (this.generating) return;
    const message = this.compose(text.startsWith("//") ? text.slice(1) : text);
    await this.send(message, () => this.retrieve(text));
  }

  /**
   * Send `message` as the user's turn, with context the model sees before it (an action's full prompt); the
   * chat shows `message`. Used by prompts whose mode is `chat` (Explain, Ask About File, custom ones).
   */
  async sendWithContext(message: string, context: string): Promise<void> {
    if (this.generating) return;
    await this.send(message, async () => ({ context }));
  }

  /** Make sure a chat model is loaded (the configured one), telling the user how to pick one when none is set. */
  ensureModelLoaded(): Promise<boolean> {
    return this.ensureModel().catch((error) => {
      const e = SidecarError.from(error);
      this.notice.fire({ kind: "error", text: e.userMessage });
      void vscode.window.showErrorMessage(`Hearth: ${e.userMessage}`);
      return false;
    });
  }

  private async send(
    message: string,
    extra: () => Promise<{ context?: string; sources?: SourceRef[] }>,
  ): Promise<void> {
    this.abort = new AbortController();
    this.fire();
    try {
      if (!(await this.ensureModel())) return;
      const retrieved = await extra();
      this.attachments = [];
      const id = this.controller.conversation.id;
      this.fire();
      await this.controller.send(message, {
        signal: this.abort.signal,
        onDelta: (t) => this.delta.fire({ conversationId: id, text: t }),
        ...retrieved,
      });
    } catch (error) {
      const e = SidecarError.from(error);
      if (isNoModelError(e)) this.chatModel = undefined;
      this.log.error(`chat/send failed (${e.code}): ${e.message}`);
      this.notice.fire({ kind: "error", text: e.userMessage });
      if (e.code !== ErrorCodes.SidecarExited && e.code !== ErrorCodes.Cancelled) {
        void vscode.window.showErrorMessage(`Hearth: ${e.message}`, "Show Log").then((c) => c && this.log.show());
      }
    } finally {
      this.abort = undefined;
      await this.persist();
      this.fire();
    }
  }

  /** `@codebase` in the message: the top chunks for it as context (shown under the message with their scores). */
  private async retrieve(text: string): Promise<{ context?: string; sources?: SourceRef[] }> {
    if (!mentionsCodebase(text)) return {};
    if (!this.index?.target()) {
      this.notice.fire({
        kind: "error",
        text: "@codebase needs a folder open in VS Code; sending without codebase context.",
      });
      return {};
    }
    try {
      const query = withoutMention(text) || text;
      const result = await this.index.search(query, {
        topK: readConfig().search.codebaseChunks,
        signal: this.abort?.signal,
      });
      if (!result.hits.length) {
        this.notice.fire({
          kind: "info",
          text: "@codebase: the index has nothing for this question; sending without codebase context.",
        });
        return {};
      }
      return codebaseContext(result.hits);
    } catch (error) {
      const e = SidecarError.from(error);
      if (e.code === ErrorCodes.Cancelled) throw error;
      this.notice.fire({
        kind: "error",
        text: `@codebase search failed (${e.userMessage}); sending without codebase context.`,
      });
      return {};
    }
  }

  /** Open a file of the workspace at a line range (a source or a search hit clicked in the chat). */
  async openLocation(relPath: string, startLine: number, endLine: number): Promise<void> {
    const root = this.index?.target()?.root;
    if (!root) return;
    await openHit(root, { path: relPath, startLine, endLine });
  }

  /** The message text with attached context as fenced blocks before the question. */
  private compose(text: string): string {
    if (this.attachments.length === 0) return text;
    const blocks = this.attachments.map((a) => `${a.label}:\n\`\`\`${a.languageId}\n${a.text}\n\`\`\``);
    return `${blocks.join("\n\n")}\n\n${text}`;
  }

  stop(): void {
    this.abort?.abort();
  }

  async newChat(): Promise<void> {
    this.stop();
    await this.persist();
    this.controller.newChat();
    this.attachments = [];
    this.fire();
  }

  async open(id: string): Promise<void> {
    this.stop();
    await this.persist();
    try {
      this.controller.setConversation(await this.history.load(id));
    } catch (error) {
      this.notice.fire({ kind: "error", text: `Cannot open that chat: ${(error as Error).message}` });
    }
    this.fire();
  }

  async persist(): Promise<void> {
    try {
      await this.history.save(this.controller.snapshot());
    } catch (error) {
      this.log.error(`Saving chat history failed: ${String(error)}`);
    }
  }

  attach(attachment: Attachment): void {
    this.attachments.push(attachment);
    this.fire();
  }

  removeAttachment(index: number): void {
    this.attachments.splice(index, 1);
    this.fire();
  }

  private slashHost(): SlashHost {
    const root = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? this.history.dir;
    return {
      kind: "vscode",
      readFile: async (p) => Buffer.from(await vscode.workspace.fs.readFile(vscode.Uri.file(p))).toString("utf8"),
      writeFile: async (p, t) => vscode.workspace.fs.writeFile(vscode.Uri.file(p), Buffer.from(t, "utf8")),
      resolvePath: (p) => (path.isAbsolute(p) ? p : path.join(root, p)),
      defaultChatFile: () => path.join(".hearth", "chats", `${this.controller.conversation.id}.json`),
      loadChatModel: (uri) => this.loadModel(uri),
      configuredModel: () => readConfig().models.chat || undefined,
      conversationReplaced: () => {
        this.attachments = [];
      },
      ...(this.index?.target() ? { search: (query: string) => this.index!.search(query) } : {}),
      ...(this.actions
        ? {
            prompts: () => this.actions!.prompts(),
            runPrompt: (spec: PromptSpec, rest: string) => this.actions!.runFromChat(spec, rest),
          }
        : {}),
    };
  }

  dispose(): void {
    this.stop();
    this.subscriptions.forEach((s) => s.dispose());
    this.changed.dispose();
    this.delta.dispose();
    this.notice.dispose();
  }
}
