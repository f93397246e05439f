import * as vscode from "vscode";
import { ChatController } from "../../common/chat/ChatController";
import { type ChatHistoryStore } from "../../common/chat/ChatHistoryStore";
import type { SourceRef } from "../../common/chat/conversation";
import { commandsFor, isNoModelError, parseSlash, runSlash } from "../../common/chat/slashCommands";
import type { ModelRoles } from "../../common/models/ModelRoles";
import { sourceRef } from "../../common/search/codebaseContext";
import { HearthError } from "../../shared/errors";
import { ErrorCodes, type ModelInfo } from "../../shared/protocol";
import type { ViewHit, ViewState } from "../../shared/webviewProtocol";
import { readConfig } from "../config";
import { ensureChatModel, loadChatModel, NO_CHAT_MODEL } from "../models/chatModel";
import type { IndexController } from "../search/IndexController";
import type { SidecarClient } from "../sidecar/SidecarClient";
import { type Attachment, Attachments } from "./Attachments";
import { chatSlashHost, type PromptCommands } from "./chatSlashHost";
import { retrieveCodebase } from "./codebaseRetrieval";
import { runAgent } from "../../common/agent/AgentLoop";
import { titleFrom } from "../../common/chat/conversation";
import type { ReviewController } from "../actions/ReviewController";
import { transcriptMarkdown } from "../../common/agent/transcript";
import { vscodeAgentTools, vscodeCommandPolicy, vscodeConfirmSecret, vscodeReview } from "./agentMode";

/**
 * What the chat uses besides the sidecar: the index for `@codebase`, `/search` and `/agent`, prompt files as
 * commands, and the review that `/agent`'s edits go through.
 */
export interface ChatSessionDeps {
  index?: IndexController | undefined;
  prompts?: PromptCommands | undefined;
  review?: ReviewController | undefined;
}

/**
 * The chat's state on the extension side: the conversation ({@link ChatController}), pending attachments,
 * whether an answer is being generated, and the per-workspace history. The webview only renders
 * {@link viewState}; it survives webview reloads and sidecar restarts because it lives here and on disk.
 * The chat model belongs to {@link ModelRoles} (which reloads it after a crash); `@codebase` retrieval is
 * `codebaseRetrieval.ts`, the slash commands' host `chatSlashHost.ts`.
 */
export class ChatSession implements vscode.Disposable {
  readonly controller: ChatController;
  private readonly attachments = new Attachments();
  private abort?: AbortController;
  private status?: string;
  private readonly changed = new vscode.EventEmitter<ViewState>();
  private readonly delta = new vscode.EventEmitter<{ conversationId: string; text: string; reasoning?: string }>();
  private readonly notice = new vscode.EventEmitter<{ kind: "info" | "error"; text: string; hits?: ViewHit[] }>();
  readonly onDidChange = this.changed.event;
  readonly onDelta = this.delta.event;
  readonly onNotice = this.notice.event;
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor(
    private readonly sidecar: SidecarClient,
    private readonly roles: ModelRoles,
    readonly history: ChatHistoryStore,
    private readonly log: vscode.LogOutputChannel,
    private readonly deps: ChatSessionDeps = {},
  ) {
    const cfg = readConfig();
    this.controller = new ChatController(sidecar, { params: cfg.generation, system: cfg.systemPrompt || undefined });
    this.subscriptions.push(
      sidecar.onStatus((s) => {
        this.status = s.state === "ready" || s.state === "idle" ? undefined : s.message;
        this.fire();
      }),
      roles.onChange((role) => role === "chat" && this.fire()),
    );
  }

  get generating(): boolean {
    return this.abort !== undefined;
  }

  viewState(): ViewState {
    const c = this.controller.conversation;
    const cfg = readConfig();
    return {
      conversationId: c.id,
      title: c.title,
      // The retrieved context stays out of the view: the sources list says what it was.
      messages: c.messages.map(({ context: _context, ...m }) => ({ ...m })),
      attachments: this.attachments.labels(),
      generating: this.generating,
      model: this.roles.info("chat")?.name,
      modelConfigured: Boolean(cfg.models.chat || cfg.engines.chat),
      status: this.status,
      commands: commandsFor("vscode").map(({ name, args, description }) => ({ name, args, description })),
    };
  }

  private fire(): void {
    void vscode.commands.executeCommand("setContext", "hearth.generating", this.generating);
    this.changed.fire(this.viewState());
  }

  /** Load the chat model the user picked (with a progress notification), even one that crashed before. */
  loadModel(uri: string): Promise<ModelInfo> {
    return loadChatModel(this.roles, this.sidecar, uri, readConfig(), true);
  }

  /** Make sure a chat model is loaded: the configured one, or tell the user how to pick one. */
  private async ensureModel(): Promise<boolean> {
    if (await ensureChatModel(this.roles, this.sidecar, readConfig())) return true;
    this.notice.fire({ kind: "error", text: NO_CHAT_MODEL });
    return false;
  }

  /** Handle what the user typed: a slash command or a message. Errors become notices; nothing is lost. */
  async submit(text: string): Promise<void> {
    const slash = parseSlash(text);
    if (slash?.name === "agent") return this.agent(slash.rest);
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
    const message = this.attachments.compose(text.startsWith("//") ? text.slice(1) : text);
    await this.send(message, () =>
      retrieveCodebase(text, this.deps.index, {
        topK: readConfig().search.codebaseChunks,
        contextSize: this.roles.info("chat")?.contextSize,
        signal: this.abort?.signal,
        notice: (n) => this.notice.fire(n),
      }),
    );
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
      const e = HearthError.from(error);
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
      this.attachments.clear();
      const id = this.controller.conversation.id;
      this.fire();
      await this.controller.send(message, {
        signal: this.abort.signal,
        onDelta: (t) => this.delta.fire({ conversationId: id, text: t }),
        onReasoning: (r) => this.delta.fire({ conversationId: id, text: "", reasoning: r }),
        ...retrieved,
      });
    } catch (error) {
      const e = HearthError.from(error);
      if (isNoModelError(e)) this.roles.forget("chat");
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

  /**
   * `/agent <task>`: the agent loop on the chat model with the workspace's tools (`agentMode.ts`); the transcript
   * streams into the answer (every call, its arguments, each result folded to a line), edits go through the
   * reviewed diff, commands through a confirmation. Stop cancels the running step, model or tool, at once.
   */
  async agent(task: string): Promise<void> {
    if (this.generating) return;
    if (!task) {
      this.notice.fire({ kind: "error", text: "Say what to do: /agent <task>." });
      return;
    }
    const target = this.deps.index?.target();
    if (!target) {
      this.notice.fire({ kind: "error", text: "Open a folder first: the agent works on the workspace's files." });
      return;
    }
    const abort = (this.abort = new AbortController());
    this.fire();
    const c = this.controller.conversation;
    const lines: string[] = [];
    const push = (content: string, stopReason: "stop" | "cancelled" | "interrupted") => {
      const at = new Date().toISOString();
      c.messages.push({ role: "assistant", content, timestamp: at, stopReason });
      c.updatedAt = at;
    };
    try {
      if (!(await this.ensureModel())) return;
      const at = new Date().toISOString();
      if (c.messages.length === 0) c.title = titleFrom(task);
      c.messages.push({ role: "user", content: `/agent ${task}`, timestamp: at });
      c.updatedAt = at;
      this.fire();
      const cfg = readConfig();
      const system = await vscode.workspace.fs.readFile(vscode.Uri.file(`${target.root}/.hearth/agent.md`)).then(
        (b) => Buffer.from(b).toString("utf8").slice(0, 8000),
        () => undefined,
      );
      const result = await runAgent({
        api: this.sidecar,
        target,
        task,
        tools: vscodeAgentTools(cfg.agent.otherTools),
        maxSteps: cfg.agent.maxSteps,
        params: this.controller.params,
        signal: abort.signal,
        contextTokens: this.roles.info("chat")?.contextSize,
        commands: vscodeCommandPolicy(cfg.agent.allowedCommands),
        confirmSecret: vscodeConfirmSecret,
        search: (query, options, signal) => this.deps.index!.search(query, { ...options, signal }),
        ...(this.deps.review ? { review: vscodeReview(this.deps.review, target.root, abort.signal) } : {}),
        ...(system ? { system } : {}),
        onEvent: (e) => {
          const line = transcriptMarkdown(e);
          if (!line) return;
          lines.push(line);
          this.delta.fire({ conversationId: c.id, text: `${line}\n\n` });
        },
      });
      const end =
        result.answer ??
        (result.stopped === "cancelled"
          ? ""
          : `*Stopped without an answer after ${result.steps} steps and ${result.calls} tool calls (${
              result.stopped === "maxSteps"
                ? "the step limit, hearth.agent.maxSteps"
                : result.stopped === "invalidCalls"
                  ? "two invalid calls in a row"
                  : result.stopped
            }).*`);
      push([...lines, end].filter(Boolean).join("\n\n"), result.stopped === "cancelled" ? "cancelled" : "stop");
    } catch (error) {
      const e = HearthError.from(error);
      if (isNoModelError(e)) this.roles.forget("chat");
      this.log.error(`agent failed (${e.code}): ${e.message}`);
      if (lines.length) push(lines.join("\n\n"), "interrupted");
      this.notice.fire({ kind: "error", text: e.userMessage });
    } finally {
      this.abort = undefined;
      await this.persist();
      this.fire();
    }
  }

  stop(): void {
    this.abort?.abort();
  }

  async newChat(): Promise<void> {
    this.stop();
    await this.persist();
    this.controller.newChat();
    this.attachments.clear();
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
    this.attachments.add(attachment);
    this.fire();
  }

  removeAttachment(index: number): void {
    this.attachments.remove(index);
    this.fire();
  }

  private slashHost() {
    return chatSlashHost({
      fallbackDir: this.history.dir,
      conversationId: () => this.controller.conversation.id,
      loadChatModel: (uri) => this.loadModel(uri),
      conversationReplaced: () => this.attachments.clear(),
      index: this.deps.index,
      prompts: this.deps.prompts,
    });
  }

  dispose(): void {
    this.stop();
    this.subscriptions.forEach((s) => s.dispose());
    this.changed.dispose();
    this.delta.dispose();
    this.notice.dispose();
  }
}
