import { HearthError } from "../../../shared/errors";
import { ErrorCodes } from "../../../shared/protocol";
import type { ChatEngine, FimEngine, NesAnswer, NesEngine } from "../types";

/** Qwen2.5's control tokens that next-edit prompts use or stop at (the models are Qwen2.5-Coder based). */
const QWEN_CONTROL_TOKENS = ["<|endoftext|>", "<|file_sep|>", "<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>"];

/**
 * Next-edit suggestions on a remote engine: a raw prompt through the engine's OpenAI-compatible `/v1/completions`
 * (llama-server, vLLM, LM Studio and Ollama all serve it, and read control tokens such as `<|file_sep|>` in the
 * prompt text), the generic format through its chat route with `response_format` (a JSON schema). Prompt-lookup
 * drafting is the server's own (llama-server `--lookup-*`/draft options, vLLM's `[ngram]` speculative config).
 */
export class RemoteNes implements NesEngine {
  constructor(
    private readonly completion: FimEngine,
    private readonly chatEngine: ChatEngine,
  ) {}

  async raw(
    parts: ReadonlyArray<string | { special: string }>,
    options: { maxTokens: number; stop: string[]; speculate: boolean },
    onDelta: (text: string) => void,
    signal: AbortSignal,
  ): Promise<NesAnswer> {
    // The server reads control tokens in the prompt's text: the user's code must not contain one, or a file could
    // end a block of the prompt (the embedded engine tokenizes the code as plain text instead).
    // The format's control tokens, and Qwen2.5's that a stop names (Zeta's region markers are plain text, and
    // written in its prompt on purpose).
    const specials = new Set(parts.filter((p) => typeof p !== "string").map((p) => p.special));
    for (const s of options.stop) if (QWEN_CONTROL_TOKENS.includes(s)) specials.add(s);
    const hit = parts.find((p): p is string => typeof p === "string" && [...specials].some((s) => p.includes(s)));
    if (hit !== undefined) {
      const token = [...specials].find((s) => hit.includes(s))!;
      throw new HearthError(
        ErrorCodes.InvalidParams,
        `The file or its edits contain '${token}', a control token of the next-edit format, which a remote engine would read as one.`,
        "Use the embedded engine for this file (it keeps the code as text), or another format ('hearth.nes.format').",
      );
    }
    if (!this.completion.complete) {
      throw new HearthError(ErrorCodes.Unsupported, "This engine cannot continue a raw prompt.");
    }
    const prompt = parts.map((p) => (typeof p === "string" ? p : p.special)).join("");
    const r = await this.completion.complete(
      { prompt, maxTokens: options.maxTokens, temperature: 0, stop: options.stop.slice(0, 16) },
      onDelta,
      signal,
    );
    return { text: r.text, stopReason: r.stopReason, usage: r.usage, timings: r.timings };
  }

  async chat(
    system: string,
    user: string,
    options: { maxTokens: number; schema: object },
    onDelta: (text: string) => void,
    signal: AbortSignal,
  ): Promise<NesAnswer> {
    const r = await this.chatEngine.send(
      {
        streamId: "nes",
        system,
        messages: [{ role: "user", content: user }],
        params: { maxTokens: options.maxTokens, temperature: 0 },
        responseSchema: options.schema,
        contextPolicy: "strict",
      },
      onDelta,
      signal,
    );
    return {
      text: r.text,
      stopReason: r.stopReason === "maxTokens" ? "maxTokens" : r.stopReason === "cancelled" ? "cancelled" : "stop",
      usage: { promptTokens: r.usage.promptTokens, completionTokens: r.usage.completionTokens },
      timings: { totalMs: r.timings.totalMs, ttftMs: r.timings.ttftMs },
    };
  }

  async dispose(): Promise<void> {
    await this.completion.dispose();
    await this.chatEngine.dispose();
  }
}
