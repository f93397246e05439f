import {
  ErrorCodes,
  type GenerationParams,
  type GpuSetting,
  type IndexSearchResult,
  type ModelInfo,
  type SearchHit,
} from "../../shared/protocol";
import type { PromptFileError, PromptSpec } from "../actions/promptFiles";
import { describeScores, hitLocation, searchMethod, snippet } from "../search/format";
import type { ChatController } from "./ChatController";
import { parseConversation, serializeConversation } from "./conversation";
import type { SidecarApi } from "../sidecar/SidecarApi";
import { HearthError } from "../../shared/errors";
import { SLASH_COMMANDS, type SlashCommandName, type SlashCommandSpec } from "./slashSpec";

/** A parsed slash command line: `/name rest of line`. */
export interface SlashInvocation {
  name: string;
  /** Everything after the name, trimmed (may contain spaces and newlines). */
  rest: string;
  /** `rest` split on whitespace. */
  args: string[];
}

/**
 * Parse a line typed in the chat box or the REPL. Returns undefined for ordinary text (no leading `/`), and also
 * for `//text`, which sends the literal text `/text`.
 */
export function parseSlash(input: string): SlashInvocation | undefined {
  const trimmed = input.trimStart();
  if (!trimmed.startsWith("/") || trimmed.startsWith("//")) return undefined;
  const match = /^\/([A-Za-z][\w-]*)(?:\s+([\s\S]*))?$/.exec(trimmed.trimEnd());
  if (!match) return { name: "", rest: trimmed.slice(1), args: [] };
  const rest = (match[2] ?? "").trim();
  return { name: match[1]!.toLowerCase(), rest, args: rest ? rest.split(/\s+/) : [] };
}

/** Host services the engine needs; the CLI and the extension each provide them. */
export interface SlashHost {
  /** "cli" shows CLI-only commands (/exit). */
  kind: "cli" | "vscode";
  /** @throws when the file cannot be read (missing: an error whose message or code says ENOENT / not found). */
  readFile(path: string): Promise<string>;
  /** Create or replace `path` atomically (a temporary file renamed over it), so a crash leaves old or new. */
  writeFile(path: string, text: string): Promise<void>;
  /** Make a user-typed path absolute (relative to the workspace or the current directory). */
  resolvePath(path: string): string;
  /** Default file for `/save` and `/load` without an argument. */
  defaultChatFile(): string;
  /** Load a chat model; hosts show progress their own way. */
  loadChatModel(uri: string): Promise<ModelInfo>;
  /** The chat model's URI as configured, for `/model` without arguments when none is loaded yet. */
  configuredModel(): string | undefined;
  /** Called after `/clear` or `/load` replaced the conversation. */
  conversationReplaced?(): void;
  /** Search the codebase index of the host's folder (building it first if needed); absent where there is none. */
  search?(query: string): Promise<IndexSearchResult>;
  /** Prompt files (built-in actions overridden by `.hearth/prompts/*.md`, plus the workspace's own). */
  prompts?(): Promise<{ prompts: PromptSpec[]; errors: PromptFileError[] }>;
  /** Run a prompt as a slash command (`/explain`, `/fix`, a custom one) with the rest of the line. */
  runPrompt?(spec: PromptSpec, rest: string): Promise<SlashResult>;
}

export interface SlashContext {
  controller: ChatController;
  api: SidecarApi;
  host: SlashHost;
}

/** What a command produced: text for the user (markdown-light), and effects the host acts on. */
export interface SlashResult {
  output: string;
  isError?: boolean;
  exit?: boolean;
  /** `/search`: the hits, for hosts that render them as links (the chat view). */
  hits?: SearchHit[];
}

const PARAM_KEYS: Record<string, { key: keyof GenerationParams; min: number; max: number; integer: boolean }> = {
  temperature: { key: "temperature", min: 0, max: 5, integer: false },
  "top-p": { key: "topP", min: 0, max: 1, integer: false },
  "top-k": { key: "topK", min: 0, max: 100_000, integer: true },
  "max-tokens": { key: "maxTokens", min: 1, max: 1 << 20, integer: true },
};

const BACKENDS: Record<string, GpuSetting> = {
  auto: "auto",
  cpu: "off",
  off: "off",
  cuda: "cuda",
  vulkan: "vulkan",
  metal: "metal",
};

/** The commands available in a host, in `/help` order. */
export function commandsFor(kind: SlashHost["kind"]): SlashCommandSpec<SlashCommandName>[] {
  const all: readonly SlashCommandSpec<SlashCommandName>[] = SLASH_COMMANDS;
  return all.filter((c) => kind === "cli" || !c.cliOnly);
}

/**
 * `/help` text: one line per command with its arguments, then the prompt files (built-in actions and the
 * workspace's `.hearth/prompts/*.md`), then any prompt file that failed to load, with its file and line.
 */
export function helpText(
  kind: SlashHost["kind"],
  prompts: { prompts: PromptSpec[]; errors: PromptFileError[] } = { prompts: [], errors: [] },
): string {
  const rows = commandsFor(kind).map((c) => `/${c.name}${c.args ? ` ${c.args}` : ""}`);
  const promptRows = prompts.prompts.map(
    (p) => `/${p.name}${kind === "cli" ? " <file>[:L1-L2]" : ""}${p.input ? " [text]" : ""}`,
  );
  const width = Math.max(...rows.map((r) => r.length), ...promptRows.map((r) => r.length));
  const lines = ["Commands:", ...commandsFor(kind).map((c, i) => `  ${rows[i]!.padEnd(width)}  ${c.description}`)];
  if (prompts.prompts.length) {
    lines.push("Prompts (.hearth/prompts/*.md; built-ins can be overridden):");
    lines.push(
      ...prompts.prompts.map(
        (p, i) =>
          `  ${promptRows[i]!.padEnd(width)}  ${p.description}${p.source.startsWith("builtin:") ? "" : `  [${p.source}]`}`,
      ),
    );
  }
  if (prompts.errors.length) {
    lines.push("Prompt files with errors (not loaded):", ...prompts.errors.map((e) => `  ${e.message}`));
  }
  lines.push("Anything else is sent to the model. Start a line with // to send a literal '/'.");
  return lines.join("\n");
}

function error(output: string): SlashResult {
  return { output, isError: true };
}

/**
 * Run a parsed slash command. Never throws for user mistakes: unknown commands and bad arguments come back as
 * `isError` results with a helpful message; sidecar failures come back the same way with the sidecar's hint.
 */
export async function runSlash(invocation: SlashInvocation, ctx: SlashContext): Promise<SlashResult> {
  const spec = commandsFor(ctx.host.kind).find((c) => c.name === invocation.name);
  if (!spec && ctx.host.prompts && ctx.host.runPrompt) {
    // Prompt files that cannot be listed at all must not turn a typo into a crash: no prompt matches then.
    const listed = await ctx.host.prompts().catch(() => ({ prompts: [] as PromptSpec[] }));
    const prompt = listed.prompts.find((p) => p.name === invocation.name);
    if (prompt) {
      try {
        return await ctx.host.runPrompt(prompt, invocation.rest);
      } catch (e) {
        return error(HearthError.from(e).userMessage);
      }
    }
  }
  if (!spec) {
    const names = commandsFor(ctx.host.kind).map((c) => c.name);
    const guess = names.find((n) => n.startsWith(invocation.name.slice(0, 2)) && invocation.name.length > 0);
    return error(
      `Unknown command '/${invocation.name}'.${guess ? ` Did you mean '/${guess}'?` : ""} Type /help for the list.`,
    );
  }
  try {
    return await COMMANDS[spec.name](invocation, ctx);
  } catch (e) {
    const err = HearthError.from(e);
    return error(err.userMessage);
  }
}

type Handler = (inv: SlashInvocation, ctx: SlashContext) => Promise<SlashResult>;

const COMMANDS: Record<SlashCommandName, Handler> = {
  async help(_inv, ctx) {
    return {
      output: helpText(ctx.host.kind, ctx.host.prompts ? await ctx.host.prompts().catch(() => undefined) : undefined),
    };
  },

  // The chat view runs /agent itself (ChatSession.agent); a host without agent mode says where it is.
  agent(_inv, ctx) {
    return Promise.resolve({
      output:
        ctx.host.kind === "cli"
          ? 'Agent mode runs as its own command: hearth agent [<dir>] -p "<task>" (see hearth --help).'
          : "Agent mode is not available here.",
      isError: true,
    });
  },

  async clear(_inv, ctx) {
    ctx.controller.newChat();
    ctx.host.conversationReplaced?.();
    return { output: "Started a new chat." };
  },

  async system(inv, ctx) {
    const c = ctx.controller.conversation;
    if (!inv.rest) return { output: c.system ? `System prompt: ${c.system}` : "No system prompt is set." };
    if (inv.rest === "-") {
      delete c.system;
      return { output: "System prompt cleared." };
    }
    c.system = inv.rest;
    return { output: "System prompt set." };
  },

  async model(inv, ctx) {
    if (!inv.rest) {
      const stats = await ctx.api.request("runtime/stats", {});
      const chat = stats.models.find((m) => m.role === "chat");
      if (!chat) {
        const configured = ctx.host.configuredModel();
        return {
          output: `No chat model loaded.${configured ? ` Configured: ${configured}.` : ""} Use /model <path|hf:uri>.`,
        };
      }
      return { output: describeModel(chat) };
    }
    const info = await ctx.host.loadChatModel(inv.rest);
    return { output: `Loaded ${describeModel(info)}` };
  },

  async backend(inv, ctx) {
    if (!inv.rest) {
      const stats = await ctx.api.request("runtime/stats", {});
      return { output: `Backend: ${stats.backend} (${stats.devices.join(", ")}), ${stats.threads} threads.` };
    }
    const gpu = BACKENDS[inv.args[0]!.toLowerCase()];
    if (!gpu || inv.args.length > 1) return error(`Usage: /backend [auto|cpu|cuda|vulkan|metal] (got '${inv.rest}').`);
    const stats = await ctx.api.request("runtime/configure", { gpu });
    return { output: `Backend: ${stats.backend} (${stats.devices.join(", ")}).` };
  },

  async params(inv, ctx) {
    const p = ctx.controller.params;
    if (inv.args.length === 0) {
      return {
        output: Object.entries(PARAM_KEYS)
          .map(([name, { key }]) => `${name}: ${p[key] ?? "default"}`)
          .join("\n"),
      };
    }
    const entry = PARAM_KEYS[inv.args[0]!.toLowerCase()];
    if (!entry) return error(`Unknown parameter '${inv.args[0]}'. Use one of: ${Object.keys(PARAM_KEYS).join(", ")}.`);
    if (inv.args.length !== 2) return error(`Usage: /params ${inv.args[0]} <value>`);
    const value = Number(inv.args[1]);
    if (
      !Number.isFinite(value) ||
      value < entry.min ||
      value > entry.max ||
      (entry.integer && !Number.isInteger(value))
    ) {
      return error(
        `${inv.args[0]} must be ${entry.integer ? "an integer" : "a number"} in [${entry.min}, ${entry.max}] (got '${inv.args[1]}').`,
      );
    }
    p[entry.key] = value;
    return { output: `${inv.args[0]} = ${value}` };
  },

  async stats(_inv, ctx) {
    const rt = await ctx.api.request("runtime/stats", {});
    const s = ctx.controller.stats;
    const chat = rt.models.find((m) => m.role === "chat");
    const lines = [
      `Model: ${chat ? `${chat.name} (context ${chat.contextSize} tokens)` : "none loaded"}`,
      `Backend: ${rt.backend}, ${rt.threads} threads; devices: ${rt.devices.join(", ")}`,
      `Memory: VRAM ${mib(rt.vram.usedBytes)}/${mib(rt.vram.totalBytes)} MiB, RAM free ${mib(rt.ram.freeBytes)}/${mib(rt.ram.totalBytes)} MiB, sidecar RSS ${mib(rt.ram.sidecarRssBytes)} MiB`,
      // Each role's estimated memory and where it runs; the budget they share, and the roles unloaded to fit it.
      ...rt.models.map(
        (m) =>
          `  ${m.role}: ${m.name} — ${
            m.memory
              ? `~${mib(m.memory.weightsBytes + m.memory.contextBytes)} MiB on the ${m.memory.placement.toUpperCase()}`
              : `on ${m.engine?.kind ?? "an engine"}`
          }`,
      ),
      `Roles' memory: ~${mib(rt.memory.usedBytes)} of a ${mib(rt.memory.budgetBytes)} MiB budget` +
        (rt.memory.evicted.length
          ? `; unloaded to fit, loaded again when asked for: ${rt.memory.evicted.join(", ")} (${rt.memory.reloads} reloads so far)`
          : ""),
    ];
    if (s.last) {
      lines.push(
        `Last answer: ${s.last.promptTokens} prompt tokens, ${s.last.completionTokens} generated tokens, ` +
          `TTFT ${s.last.ttftMs.toFixed(1)} ms, ${s.last.tokensPerSecond.toFixed(1)} tokens/s`,
      );
    } else {
      lines.push("Last answer: none yet");
    }
    lines.push(
      `Session: ${s.answers} answers, ${s.promptTokens} prompt tokens, ${s.completionTokens} generated tokens, ` +
        `${ctx.controller.sessionTokensPerSecond} tokens/s`,
    );
    return { output: lines.join("\n") };
  },

  async save(inv, ctx) {
    const file = ctx.host.resolvePath(inv.rest || ctx.host.defaultChatFile());
    // Replace only a file that is missing or is a Hearth conversation: /save ~/.bashrc must not destroy it.
    const existing = await ctx.host.readFile(file).then(
      (text) => text,
      () => undefined,
    );
    if (existing !== undefined) {
      try {
        parseConversation(existing, file);
      } catch {
        return error(`${file} exists and is not a Hearth conversation; /save leaves it alone. Name another file.`);
      }
    }
    try {
      await ctx.host.writeFile(file, serializeConversation(ctx.controller.snapshot()));
    } catch (e) {
      return error(`Cannot save to ${file}: ${(e as Error).message}`);
    }
    return { output: `Saved ${ctx.controller.conversation.messages.length} messages to ${file}` };
  },

  async load(inv, ctx) {
    const file = ctx.host.resolvePath(inv.rest || ctx.host.defaultChatFile());
    let text: string;
    try {
      text = await ctx.host.readFile(file);
    } catch (e) {
      return error(`Cannot read ${file}: ${(e as Error).message}`);
    }
    try {
      ctx.controller.setConversation(parseConversation(text, file));
    } catch (e) {
      return error((e as Error).message);
    }
    ctx.host.conversationReplaced?.();
    return { output: `Loaded ${ctx.controller.conversation.messages.length} messages from ${file}` };
  },

  async exit() {
    return { output: "Bye.", exit: true };
  },

  async search(inv, ctx) {
    if (!inv.rest) return error("Usage: /search <query>, e.g. /search where is the config parsed");
    if (!ctx.host.search)
      return error("Code search needs a folder: open one in VS Code, or run 'hearth search <dir> \"<query>\"'.");
    const result = await ctx.host.search(inv.rest);
    if (!result.hits.length) return { output: `No hits for '${inv.rest}'.`, hits: [] };
    const lines = result.hits.map((h, i) => {
      const head = `${i + 1}. ${hitLocation(h)}${h.symbol ? `  ${h.symbol}` : ""}  (${describeScores(h.scores)})`;
      return [head, ...snippet(h.text, 2).map((l) => `     ${l}`)].join("\n");
    });
    const how = `${searchMethod(result)}, ${result.timings.totalMs.toFixed(0)} ms`;
    return { output: `Search '${inv.rest}' (${how}):\n${lines.join("\n")}`, hits: result.hits };
  },
};

function describeModel(m: ModelInfo): string {
  return (
    `${m.name} (${m.architecture}, ${mib(m.sizeBytes)} MiB, context ${m.contextSize}/${m.trainContextSize} tokens, ` +
    `template ${m.chatWrapper ?? "none"}, ${m.gpuLayers} GPU layers)`
  );
}

function mib(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(bytes < 10 * 1024 * 1024 ? 1 : 0);
}

/** True when an error means "no model": hosts offer to pick one. */
export function isNoModelError(e: unknown): boolean {
  return HearthError.from(e).code === ErrorCodes.NoModelLoaded;
}
