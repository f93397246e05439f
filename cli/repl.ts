import { promises as fs } from "node:fs";
import path from "node:path";
import readline from "node:readline";
import type { ChatController } from "../common/chat/ChatController";
import { HearthError } from "../shared/errors";
import type { SidecarProcess } from "../common/sidecar/SidecarProcess";
import type { GenerationParams } from "../shared/protocol";
import {
  codebaseCharBudget,
  codebaseContext,
  mentionsCodebase,
  withoutMention,
} from "../common/search/codebaseContext";
import { defaultIndexDir, hitLocation } from "../common/search/format";
import { loadPromptDir } from "../common/actions/loadPrompts";
import { parseSlash, runSlash, type SlashHost } from "../common/chat/slashCommands";
import { fileInput, runPromptOnFile } from "./run";
import type { ModelInfo } from "../shared/protocol";
import { writeFileAtomic } from "../common/chat/atomicWrite";
import { terminalSafe } from "./terminal";

export interface ReplOptions {
  sidecar: SidecarProcess;
  controller: ChatController;
  loadChatModel(uri: string): Promise<ModelInfo>;
  modelsDir: string;
  configuredModel(): string | undefined;
  saveHistory(): Promise<void>;
  /** Folder of the workspace's prompt files (`.hearth/prompts`). */
  promptsDir: string;
  params: GenerationParams;
}

/**
 * Collects one logical input from raw lines: a line ending in `\` continues on the next line; a line that is
 * exactly `"""` opens a block that runs to the next `"""`. Returns the finished input, or undefined while more
 * lines are needed. Pure, for tests.
 */
export class MultilineBuffer {
  private lines: string[] = [];
  private inBlock = false;

  push(line: string): string | undefined {
    if (this.inBlock) {
      if (line.trim() === '"""') {
        this.inBlock = false;
        return this.flush();
      }
      this.lines.push(line);
      return undefined;
    }
    if (line.trim() === '"""' && this.lines.length === 0) {
      this.inBlock = true;
      return undefined;
    }
    if (line.endsWith("\\")) {
      this.lines.push(line.slice(0, -1));
      return undefined;
    }
    this.lines.push(line);
    return this.flush();
  }

  get pending(): boolean {
    return this.inBlock || this.lines.length > 0;
  }

  private flush(): string {
    const text = this.lines.join("\n");
    this.lines = [];
    return text;
  }
}

/**
 * The interactive loop: `You> ` prompt, streamed `Assistant> ` answers, slash commands through the shared
 * engine. Ctrl-C cancels a running answer (the partial answer is kept); at the prompt it exits. Works with piped
 * stdin too (prompts are still printed, so transcripts read naturally). Returns the exit code.
 */
export async function runRepl(options: ReplOptions): Promise<number> {
  const { controller, sidecar } = options;
  const out = process.stdout;
  const rl = readline.createInterface({ input: process.stdin, output: out, terminal: process.stdin.isTTY });
  const buffer = new MultilineBuffer();
  let current: AbortController | undefined;
  let exitCode = 0;

  const host: SlashHost = {
    kind: "cli",
    readFile: (p) => fs.readFile(p, "utf8"),
    writeFile: (p, text) => writeFileAtomic(p, text),
    resolvePath: (p) => path.resolve(p),
    defaultChatFile: () => `hearth-chat-${new Date().toISOString().slice(0, 19).replace(/[:T]/g, "-")}.json`,
    loadChatModel: options.loadChatModel,
    configuredModel: options.configuredModel,
    // The REPL's codebase is the current directory, indexed (lexical unless an embedding model is loaded) on
    // first use into the same place `hearth index .` uses.
    prompts: () => loadPromptDir(options.promptsDir),
    // `/explain src/a.ts:10-20`, `/edit src/a.ts:3-9 make it async`: the file (and lines), then any text.
    runPrompt: async (spec, rest) => {
      const m = /^(\S+?)(?::(\d+(?:[:-]\d+)?))?(?:\s+([\s\S]*))?$/.exec(rest.trim());
      if (!m) return { output: `Usage: /${spec.name} <file>[:L1-L2]${spec.input ? " <text>" : ""}`, isError: true };
      const input = await fileInput(path.resolve(m[1]!), m[2], m[3]);
      let text = "";
      // Actions keep their own token budget (DEFAULT_ACTION_MAX_TOKENS): a short chat limit would cut JSON answers.
      const { maxTokens: _chatLimit, ...params } = options.params;
      await runPromptOnFile(sidecar, spec, input, { params, write: (t) => (text += t) });
      return { output: text.replace(/\n$/, "") };
    },
    search: async (query) => {
      const target = { root: process.cwd(), storageDir: defaultIndexDir(process.cwd()) };
      const status = await sidecar.request("index/status", target);
      if (!status.exists || !status.complete) {
        process.stderr.write(
          `Indexing ${target.root} (${status.exists ? "resuming an interrupted build" : "first search"})…\n`,
        );
        await sidecar.request("index/build", target);
      }
      return sidecar.request("index/search", { ...target, query, topK: 5 });
    },
  };

  rl.on("SIGINT", () => {
    if (current) {
      current.abort();
    } else {
      rl.close();
    }
  });

  const prompt = () => {
    rl.setPrompt(buffer.pending ? "...> " : "You> ");
    rl.prompt();
  };

  out.write("Hearth chat. Type /help for commands, /exit to leave.\n");
  prompt();
  for await (const line of rl) {
    const input = buffer.push(line);
    if (input === undefined) {
      prompt();
      continue;
    }
    if (!process.stdin.isTTY) out.write(`${input}\n`);
    if (!input.trim()) {
      prompt();
      continue;
    }
    const slash = parseSlash(input);
    if (slash) {
      // runSlash answers mistakes itself; anything it still throws is reported, and the REPL (and chat) go on.
      const result = await runSlash(slash, { controller, api: sidecar, host }).catch((e: unknown) => ({
        output: `/${slash.name} failed: ${HearthError.from(e).userMessage}`,
        isError: true,
        exit: false,
      }));
      (result.isError ? process.stderr : out).write(`${terminalSafe(result.output)}\n`);
      if (result.exit) break;
      prompt();
      continue;
    }
    const text = input.startsWith("//") ? input.slice(1) : input;
    current = new AbortController();
    try {
      let retrieved = {};
      if (mentionsCodebase(text)) {
        const found = await host.search!(withoutMention(text) || text);
        const window = (await sidecar.request("runtime/stats", {})).models.find((m) => m.role === "chat")?.contextSize;
        const { context, sources, omitted } = codebaseContext(found.hits, codebaseCharBudget(window));
        if (sources.length) {
          retrieved = { context, sources };
          const used = found.hits.slice(0, sources.length).map((h) => hitLocation(h));
          out.write(`(using ${terminalSafe(used.join(", "))})\n`);
        }
        if (omitted) out.write(`(${omitted} more excerpts left out to fit the ${window}-token context window)\n`);
      }
      out.write("Assistant> ");
      const result = await controller.send(text, {
        onDelta: (t) => out.write(terminalSafe(t)),
        // A reasoning model's thinking goes to stderr: stdout stays the answer.
        onReasoning: (t) => process.stderr.write(terminalSafe(t)),
        signal: current.signal,
        ...retrieved,
      });
      out.write(result.stopReason === "cancelled" ? " [stopped]\n" : "\n");
      if (result.droppedMessages > 0) {
        out.write(
          `(${result.droppedMessages} older messages were left out: the conversation outgrew the context window)\n`,
        );
      }
      await options.saveHistory();
    } catch (e) {
      out.write("\n");
      process.stderr.write(`Error: ${HearthError.from(e).userMessage}\n`);
      exitCode = 1;
    } finally {
      current = undefined;
    }
    prompt();
  }
  rl.close();
  return exitCode;
}
