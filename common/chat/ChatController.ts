import { ErrorCodes, type ChatSendResult, type GenerationParams } from "../../shared/protocol";
import type { SidecarApi } from "../sidecar/SidecarApi";
import { newConversation, randomId, titleFrom, type Conversation, type SourceRef } from "./conversation";

/** Figures of one answer, as shown by `/stats`. */
export interface AnswerStats {
  promptTokens: number;
  completionTokens: number;
  ttftMs: number;
  totalMs: number;
  tokensPerSecond: number;
}

/** Running totals for this session (since the controller was created). */
export interface SessionStats {
  answers: number;
  promptTokens: number;
  completionTokens: number;
  /** Sum of decode time (total − TTFT) over answers, ms; tokens/s of the session = tokens / this. */
  decodeMs: number;
  last?: AnswerStats;
}

export interface SendOptions {
  onDelta?: (text: string) => void;
  /** Each piece of a reasoning model's thinking, apart from the answer. */
  onReasoning?: (text: string) => void;
  signal?: AbortSignal;
  /** Retrieved context the model sees before the message (e.g. `@codebase` chunks); stored with the message. */
  context?: string;
  /** The chunks in `context`, shown to the user with their scores. */
  sources?: SourceRef[];
}

/**
 * The conversation and its sampling parameters, held on the client side (extension or CLI) so that they survive
 * a sidecar restart. {@link send} appends the user's message before the request goes out, so a failed request
 * loses nothing the user wrote; a cancelled answer is kept with `stopReason: "cancelled"`.
 */
export class ChatController {
  conversation: Conversation;
  params: GenerationParams;
  readonly stats: SessionStats = { answers: 0, promptTokens: 0, completionTokens: 0, decodeMs: 0 };

  constructor(
    private readonly api: SidecarApi,
    options: { params?: GenerationParams; system?: string; conversation?: Conversation } = {},
  ) {
    this.conversation = options.conversation ?? newConversation();
    if (options.system !== undefined && !options.conversation) this.conversation.system = options.system;
    this.params = { ...(options.conversation?.params ?? {}), ...(options.params ?? {}) };
  }

  /**
   * Send `text` as the user's next message and stream the answer.
   * @returns the sidecar's result (text, stop reason, usage, timings, dropped message count).
   * @throws HearthError (NoModelLoaded, SidecarExited, …); the user's message stays in the conversation.
   */
  async send(text: string, options: SendOptions = {}): Promise<ChatSendResult> {
    const now = new Date().toISOString();
    const c = this.conversation;
    if (c.messages.length === 0) c.title = titleFrom(text);
    c.messages.push({
      role: "user",
      content: text,
      timestamp: now,
      ...(options.context ? { context: options.context } : {}),
      ...(options.sources?.length ? { sources: options.sources } : {}),
    });
    c.updatedAt = now;
    const streamId = randomId();
    let partial = "";
    let partialReasoning = "";
    const subscription = this.api.onNotification("chat/delta", (d) => {
      if (d.streamId !== streamId) return;
      if (d.reasoning) {
        partialReasoning += d.reasoning;
        options.onReasoning?.(d.reasoning);
      }
      if (!d.text) return;
      partial += d.text;
      options.onDelta?.(d.text);
    });
    try {
      const result = await this.api.request(
        "chat/send",
        {
          streamId,
          system: c.system,
          params: this.params,
          messages: c.messages.map(({ role, content, context }) => ({
            role,
            content: context ? `${context}\n\n${content}` : content,
          })),
        },
        options.signal,
      );
      const done = new Date().toISOString();
      c.messages.push({
        role: "assistant",
        content: result.text,
        timestamp: done,
        stopReason: result.stopReason,
        ...(result.droppedMessages > 0 ? { droppedMessages: result.droppedMessages } : {}),
        ...(result.reasoning ? { reasoning: result.reasoning } : {}),
      });
      c.updatedAt = done;
      this.record(result);
      return result;
    } catch (error) {
      // The sidecar or a remote engine stopped mid-answer: what had arrived is kept, marked as interrupted.
      if (partial && (error as { code?: number }).code !== ErrorCodes.Cancelled) {
        const at = new Date().toISOString();
        c.messages.push({
          role: "assistant",
          content: partial,
          timestamp: at,
          stopReason: "interrupted",
          ...(partialReasoning ? { reasoning: partialReasoning } : {}),
        });
        c.updatedAt = at;
      }
      throw error;
    } finally {
      subscription.dispose();
    }
  }

  private record(result: ChatSendResult): void {
    const last: AnswerStats = { ...result.usage, ...result.timings };
    this.stats.answers++;
    this.stats.promptTokens += last.promptTokens;
    this.stats.completionTokens += last.completionTokens;
    this.stats.decodeMs += Math.max(0, last.totalMs - last.ttftMs);
    this.stats.last = last;
  }

  /** Tokens/s over the whole session's decode time (0 before the first answer). */
  get sessionTokensPerSecond(): number {
    const s = this.stats;
    return s.decodeMs > 0 ? Math.round((s.completionTokens - s.answers) / (s.decodeMs / 1000)) : 0;
  }

  /** Start a new conversation, keeping the system prompt and parameters. */
  newChat(): Conversation {
    const system = this.conversation.system;
    this.conversation = newConversation();
    if (system) this.conversation.system = system;
    return this.conversation;
  }

  /** Replace the conversation (e.g. `/load`); its stored params become the current ones. */
  setConversation(conversation: Conversation): void {
    this.conversation = conversation;
    if (conversation.params) this.params = { ...conversation.params };
  }

  /** Snapshot for saving, with the current parameters. */
  snapshot(): Conversation {
    return { ...this.conversation, params: { ...this.params } };
  }
}
