/**
 * Raw fill-in-the-middle prompts for engines that have no FIM endpoint (vLLM, LM Studio, generic
 * OpenAI-compatible servers, Ollama models without the `insert` capability): the model family's own FIM tokens,
 * as each family's model card documents them, chosen by the model id.
 */
export interface FimTemplate {
  /** Family name, for messages. */
  family: string;
  /** The prompt for a prefix and a suffix. */
  prompt(prefix: string, suffix: string): string;
  /** Tokens that end the middle (beside the engine's own end of text). */
  stop: string[];
}

const psm = (pre: string, suf: string, mid: string) => (prefix: string, suffix: string) =>
  `${pre}${prefix}${suf}${suffix}${mid}`;

/** Known families, tried in order against the lower-cased model id. */
const TEMPLATES: Array<{ match: RegExp; template: FimTemplate }> = [
  {
    // Qwen2.5-Coder / Qwen3-Coder (model card: <|fim_prefix|>…<|fim_suffix|>…<|fim_middle|>).
    match: /qwen.*coder|coder.*qwen/,
    template: {
      family: "Qwen-Coder",
      prompt: psm("<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>"),
      stop: ["<|endoftext|>", "<|fim_pad|>", "<|file_sep|>", "<|repo_name|>", "<|im_end|>"],
    },
  },
  {
    // DeepSeek-Coder (fullwidth bars and the ▁ block).
    match: /deepseek.*coder/,
    template: {
      family: "DeepSeek-Coder",
      prompt: psm("<｜fim▁begin｜>", "<｜fim▁hole｜>", "<｜fim▁end｜>"),
      stop: ["<｜end▁of▁sentence｜>", "<|EOT|>"],
    },
  },
  {
    // Codestral (suffix first).
    match: /codestral/,
    template: {
      family: "Codestral",
      prompt: (prefix, suffix) => `[SUFFIX]${suffix}[PREFIX]${prefix}`,
      stop: ["</s>", "[PREFIX]", "[SUFFIX]"],
    },
  },
  {
    // CodeGemma.
    match: /codegemma/,
    template: {
      family: "CodeGemma",
      prompt: psm("<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>"),
      stop: ["<|file_separator|>", "<end_of_turn>", "<eos>"],
    },
  },
  {
    // StarCoder, StarCoder2, SantaCoder, Granite-Code.
    match: /starcoder|santacoder|granite.*code/,
    template: {
      family: "StarCoder",
      prompt: psm("<fim_prefix>", "<fim_suffix>", "<fim_middle>"),
      stop: ["<|endoftext|>", "<file_sep>", "<fim_prefix>"],
    },
  },
  {
    // Code Llama (space after PRE and before SUF/MID, as its reference implementation writes it).
    match: /codellama|code-llama/,
    template: {
      family: "Code Llama",
      prompt: (prefix, suffix) => `<PRE> ${prefix} <SUF>${suffix} <MID>`,
      stop: ["<EOT>", "</s>"],
    },
  },
];

/** The FIM template of the model's family, or undefined when its id names none Hearth knows. */
export function fimTemplateFor(modelId: string): FimTemplate | undefined {
  const id = modelId.toLowerCase();
  return TEMPLATES.find((t) => t.match.test(id))?.template;
}
