import { InputLookupTokenPredictor, TokenPredictor, type Token } from "node-llama-cpp";

/**
 * A sequence's token predictor, switched per request (the `nes` sequence's, and the chat sequence's for the editing
 * actions): off, prompt lookup (node-llama-cpp's
 * `InputLookupTokenPredictor` over the prompt's tokens), or a script — the given answer's next tokens after those
 * generated so far, while they match it (`bench:nes` gives the model's own greedy answer, which bounds what drafting
 * can gain). One predictor on one sequence, so speculation costs no second KV cache.
 */
export class DraftPredictor extends TokenPredictor {
  /** What the next request drafts from. */
  mode: "off" | "lookup" | "script" = "lookup";
  /** The answer drafted in "script" mode, by position: after n generated tokens, the script's next ones. */
  script: Token[] = [];
  // Up to 8 drafted tokens a step from a match of 2+ tokens: the window is copied in long runs.
  private readonly lookup = new InputLookupTokenPredictor({ patternLength: { min: 2 }, predictionLength: { max: 8 } });
  private input: Token[] = [];
  private state: Token[] = [];

  reset(params: Parameters<TokenPredictor["reset"]>[0]): void {
    this.state = params.stateTokens.slice();
    this.lookup.reset(params);
  }
  override updateInputTokens(tokens: Token[]): void {
    this.input = tokens.slice();
    this.lookup.updateInputTokens(tokens);
  }
  pushTokens(tokens: Token[]): void {
    this.state.push(...tokens);
    this.lookup.pushTokens(tokens);
  }
  predictTokens(): Token[] {
    if (this.mode === "off") return [];
    if (this.mode === "lookup") return this.lookup.predictTokens();
    // The state is the input, then what was generated (the KV cache is aligned to the input first).
    const generated = this.state.length - this.input.length;
    if (generated < 0) return [];
    for (let i = 0; i < generated; i++) if (this.state[this.input.length + i] !== this.script[i]) return [];
    return this.script.slice(generated, generated + 8);
  }
  override dispose(): void {
    this.lookup.dispose();
  }
}
