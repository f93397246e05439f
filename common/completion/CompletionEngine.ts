import { ErrorCodes, type InfillResult } from "../../shared/protocol";
import type { SidecarApi } from "../sidecar/SidecarApi";
import { HearthError } from "../../shared/errors";
import { postprocess, wantsMultiline } from "./postprocess";
import { settingDefault } from "../../shared/settings";

/** Why the last request did (not) produce a suggestion; shown by "Hearth: Why no completion?". */
export type CompletionReason =
  | "shown"
  | "cacheHit"
  | "typeAhead"
  | "disabled"
  | "noModel"
  | "noFim"
  | "cancelled"
  | "timedOut"
  | "filtered"
  | "error";

export interface CompletionOutcome {
  text?: string;
  reason: CompletionReason;
  /** One sentence for the user (the filter rule, the error message, …). */
  detail?: string;
  /** The sidecar's answer when the model was called. */
  result?: InfillResult;
}

export interface CompletionEngineOptions {
  prefixTokens?: number;
  suffixTokens?: number;
  maxTokens?: number;
  /** Partial suggestion shown (or dropped when empty) after this long, ms. */
  timeBudgetMs?: number;
  /** Base debounce, ms; it grows while keystrokes keep cancelling requests (adaptive), up to 4×. */
  debounceMs?: number;
  /** Entries in the prefix/suffix LRU cache. */
  cacheSize?: number;
  /** Token budget for context from other files (0: none). */
  contextTokens?: number;
}

/** The `hearth.completion.*` settings' defaults (package.json), and the cache size, which is no setting. */
const DEFAULTS: Required<CompletionEngineOptions> = {
  prefixTokens: settingDefault("completion.prefixTokens"),
  suffixTokens: settingDefault("completion.suffixTokens"),
  maxTokens: settingDefault("completion.maxTokens"),
  timeBudgetMs: settingDefault("completion.timeBudgetMs"),
  debounceMs: settingDefault("completion.debounceMs"),
  cacheSize: 200,
  contextTokens: settingDefault("completion.contextTokens"),
};

/** Counters for tests and the benchmark. */
export interface CompletionStats {
  requests: number;
  modelCalls: number;
  cacheHits: number;
  typeAheadHits: number;
  cancelled: number;
}

/** What a completion request carries besides the text around the cursor. */
export interface CompletionRequest {
  /** Aborted by the next keystroke: cancels the request. */
  signal?: AbortSignal;
  /** Text from other files, formatted as comments (see {@link formatContext}). */
  context?: string;
  /** The file's VS Code language id. */
  language?: string;
}

/**
 * The host-agnostic half of inline completion: type-ahead reuse, an LRU cache keyed on prefix/suffix, adaptive
 * debounce, cancellation into the sidecar, post-processing, and the reason for every outcome. The VS Code
 * provider and `hearth complete` are thin adapters over it. (Debounce and cache-by-prefix/suffix follow
 * llama.vscode's completion provider; type-ahead follows Copilot's behaviour.)
 */
export class CompletionEngine {
  readonly options: Required<CompletionEngineOptions>;
  readonly stats: CompletionStats = { requests: 0, modelCalls: 0, cacheHits: 0, typeAheadHits: 0, cancelled: 0 };
  private readonly cache = new Map<string, string>();
  private last?: { prefix: string; suffix: string; text: string };
  private debounce: number;
  lastOutcome?: CompletionOutcome & { at: Date };

  constructor(
    private readonly api: SidecarApi,
    options: CompletionEngineOptions = {},
  ) {
    this.options = { ...DEFAULTS, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) };
    this.debounce = this.options.debounceMs;
  }

  /**
   * Suggestion for the cursor between `prefix` and `suffix`; aborting `signal` (the next keystroke) cancels it.
   * `context` is text from other files, formatted as comments (see {@link formatContext}); `language` the file's
   * VS Code language id (the sidecar then cuts multi-line suggestions that would add syntax errors).
   */
  async complete(prefix: string, suffix: string, request: CompletionRequest = {}): Promise<CompletionOutcome> {
    this.stats.requests++;
    const outcome = await this.run(prefix, suffix, request);
    this.lastOutcome = { ...outcome, at: new Date() };
    if (outcome.text) this.last = { prefix, suffix, text: outcome.text };
    return outcome;
  }

  /** Record an outcome decided outside the engine (e.g. completions disabled for the language). */
  note(reason: CompletionReason, detail?: string): void {
    this.lastOutcome = { reason, detail, at: new Date() };
  }

  private async run(
    prefix: string,
    suffix: string,
    { signal, context, language }: CompletionRequest,
  ): Promise<CompletionOutcome> {
    // Type-ahead: the user typed the start of the suggestion on screen; keep serving the rest.
    const last = this.last;
    if (last && suffix === last.suffix && prefix.startsWith(last.prefix)) {
      const typed = prefix.slice(last.prefix.length);
      if (typed.length > 0 && last.text.length > typed.length && last.text.startsWith(typed)) {
        this.stats.typeAheadHits++;
        return { text: last.text.slice(typed.length), reason: "typeAhead" };
      }
    }
    const key = `${prefix.slice(-2000)}\u0000${suffix.slice(0, 500)}`;
    const cached = this.cache.get(key);
    if (cached !== undefined) {
      this.cache.delete(key);
      this.cache.set(key, cached);
      this.stats.cacheHits++;
      return { text: cached, reason: "cacheHit" };
    }

    if (this.debounce > 0 && !(await sleep(this.debounce, signal))) {
      this.stats.cancelled++;
      this.debounce = Math.min(this.options.debounceMs * 4, this.debounce * 2);
      return { reason: "cancelled", detail: "A newer keystroke arrived during the debounce." };
    }
    const multiline = wantsMultiline(prefix, suffix);
    let result: InfillResult;
    try {
      this.stats.modelCalls++;
      result = await this.api.request(
        "completion/infill",
        {
          prefix,
          suffix,
          prefixTokens: this.options.prefixTokens,
          suffixTokens: this.options.suffixTokens,
          maxTokens: this.options.maxTokens,
          singleLine: !multiline,
          timeBudgetMs: this.options.timeBudgetMs,
          context: this.options.contextTokens > 0 ? context : undefined,
          contextTokens: this.options.contextTokens,
          language,
        },
        signal,
      );
    } catch (error) {
      const e = HearthError.from(error);
      if (e.code === ErrorCodes.NoModelLoaded) return { reason: "noModel", detail: e.userMessage };
      if (e.code === ErrorCodes.Unsupported) return { reason: "noFim", detail: e.userMessage };
      if (e.code === ErrorCodes.Cancelled || signal?.aborted) {
        this.stats.cancelled++;
        return { reason: "cancelled" };
      }
      return { reason: "error", detail: e.userMessage };
    }
    if (result.stopReason === "cancelled") {
      this.stats.cancelled++;
      this.debounce = Math.min(this.options.debounceMs * 4, this.debounce * 2);
      return { reason: "cancelled", result };
    }
    this.debounce = Math.max(this.options.debounceMs, Math.floor(this.debounce / 2));
    const processed = postprocess(result.text, prefix, suffix, multiline);
    if ("dropped" in processed) {
      const timedOut = result.stopReason === "timeBudget" && processed.dropped === "empty";
      return { reason: timedOut ? "timedOut" : "filtered", detail: processed.dropped, result };
    }
    this.cache.set(key, processed.text);
    if (this.cache.size > this.options.cacheSize) this.cache.delete(this.cache.keys().next().value as string);
    return { text: processed.text, reason: "shown", result };
  }
}

/** Resolves true after `ms`, false as soon as `signal` aborts. */
function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve(true);
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** A sentence per reason, for "Hearth: Why no completion?" and `hearth complete`. */
export function explainReason(outcome: Pick<CompletionOutcome, "reason" | "detail">): string {
  const base: Record<CompletionReason, string> = {
    shown: "A suggestion was shown.",
    cacheHit: "A suggestion was shown from the cache (the model was not called).",
    typeAhead: "The rest of the previous suggestion was shown as you typed it (the model was not called).",
    disabled: "Inline completions are turned off (hearth.completion.enabled / disabledLanguages).",
    noModel: "No completion model is loaded: set 'hearth.models.completion'.",
    noFim: "The completion model has no fill-in-the-middle tokens.",
    cancelled: "The request was cancelled by a newer keystroke.",
    timedOut: "The model produced nothing within the time budget (hearth.completion.timeBudgetMs).",
    filtered: "The model's suggestion was filtered out",
    error: "The completion request failed.",
  };
  // For model and request failures the sidecar's own sentence (with its hint) says it best.
  if (outcome.detail && (outcome.reason === "noModel" || outcome.reason === "noFim" || outcome.reason === "error")) {
    return outcome.detail;
  }
  return outcome.detail ? `${base[outcome.reason]} (${outcome.detail})` : base[outcome.reason];
}

/** A snippet of another file (or of the current file's head) offered to the model as context. */
export interface ContextSnippet {
  /** Workspace-relative path. */
  path: string;
  text: string;
}

const HASH_COMMENT = new Set([
  "python",
  "shellscript",
  "ruby",
  "perl",
  "r",
  "yaml",
  "toml",
  "dockerfile",
  "makefile",
  "powershell",
  "elixir",
  "julia",
  "coffeescript",
]);
const DASH_COMMENT = new Set(["sql", "lua", "haskell", "elm"]);

/**
 * Context snippets as a comment block in the file's language, e.g. `// Path: src/util.ts` followed by the
 * snippet's lines commented out, the way Continue and Copilot give FIM models context from other files when the
 * model has no repository-level tokens. Returns undefined for no snippets.
 */
export function formatContext(snippets: ContextSnippet[], languageId: string): string | undefined {
  if (snippets.length === 0) return undefined;
  const comment = HASH_COMMENT.has(languageId) ? "#" : DASH_COMMENT.has(languageId) ? "--" : "//";
  const blocks = snippets.map((s) =>
    [`${comment} Path: ${s.path}`, ...s.text.split("\n").map((l) => `${comment} ${l}`)].join("\n"),
  );
  return `${blocks.join("\n")}\n`;
}
