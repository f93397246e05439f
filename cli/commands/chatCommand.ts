import { promises as fs } from "node:fs";
import path from "node:path";
import { PROMPTS_DIR } from "../../common/actions/loadPrompts";
import { writeFileAtomic } from "../../common/chat/atomicWrite";
import { ChatController } from "../../common/chat/ChatController";
import { parseConversation, serializeConversation } from "../../common/chat/conversation";
import { DEFAULT_MODELS } from "../../common/models/modelArgs";
import { defineCommand } from "../command";
import {
  ENGINE_OPTIONS,
  GENERATION_OPTIONS,
  generationParams,
  MODEL_OPTIONS,
  PROMPTS_DIR_OPTION,
  RUNTIME_OPTIONS,
} from "../options";
import { runRepl } from "../repl";
import { CliSession } from "../session";
import { terminalSafe } from "../terminal";

/** `hearth chat`: the REPL, or one answer with `-p`. */
export const chatCommand = defineCommand({
  name: "chat",
  modelRole: "chat",
  usage: '[-p "prompt"] [--model <path|hf:uri> | --engine-url <url>] [options]',
  summary: "chat with a local GGUF model or an engine: a REPL, or one answer with -p",
  description: `Chat with a local GGUF model (or a model on an engine) through the Hearth sidecar. Without -p, a REPL:
type /help for slash commands; end a line with \\ (or wrap text in """) for multi-line input; Ctrl-C stops an
answer, Ctrl-D or /exit leaves. With -p, the answer goes to stdout (a reasoning model's thinking to stderr).`,
  options: {
    ...MODEL_OPTIONS,
    prompt: { type: "string", short: "p", arg: "<text>", help: "one-shot: print the answer to this prompt and exit" },
    system: { type: "string", short: "s", arg: "<text>", help: "system prompt" },
    history: {
      type: "string",
      arg: "<file>",
      help: "conversation JSON to resume from and save to after each answer",
    },
    ...PROMPTS_DIR_OPTION,
    ...GENERATION_OPTIONS,
    ...ENGINE_OPTIONS,
    ...RUNTIME_OPTIONS,
  },
  maxPositionals: 0,
  async run(values) {
    const params = generationParams(values);
    const engineUrl = values["engine-url"];
    // Only the REPL goes on after a crash; a one-shot answer ends, so "send the message again" would mislead.
    const session = new CliSession(values, { oneShot: values.prompt !== undefined });
    const historyFile = values.history ? path.resolve(values.history) : undefined;
    const saved = historyFile ? await fs.readFile(historyFile, "utf8").catch(() => undefined) : undefined;
    const controller = new ChatController(session.sidecar, {
      params,
      system: values.system,
      conversation: saved === undefined ? undefined : parseConversation(saved, historyFile!),
    });
    if (values.system !== undefined) controller.conversation.system = values.system;
    const saveHistory = async () => {
      if (historyFile) await writeFileAtomic(historyFile, serializeConversation(controller.snapshot()));
    };
    let modelUri = values.model;
    const loadChatModel = async (uri: string | undefined) => {
      const info = await session.loadChatModel(uri, engineUrl);
      modelUri = uri ?? info.name;
      return info;
    };
    return session.run(async () => {
      await session.sidecar.start();
      if (!modelUri && !engineUrl) {
        modelUri = DEFAULT_MODELS.chat;
        process.stderr.write(
          `hearth: no --model given; using the default ${modelUri} (downloaded once into ${session.modelsDir})\n`,
        );
      }
      await loadChatModel(modelUri);
      if (values.prompt !== undefined) {
        const result = await controller.send(values.prompt, {
          onDelta: (t) => process.stdout.write(terminalSafe(t)),
          // A reasoning model's thinking goes to stderr: stdout stays the answer.
          onReasoning: (t) => process.stderr.write(terminalSafe(t)),
        });
        process.stdout.write("\n");
        await saveHistory();
        if (result.droppedMessages > 0)
          process.stderr.write(`(${result.droppedMessages} older messages did not fit the context window)\n`);
        return 0;
      }
      return await runRepl({
        sidecar: session.sidecar,
        controller,
        loadChatModel,
        modelsDir: session.modelsDir,
        configuredModel: () => modelUri,
        saveHistory,
        promptsDir: path.resolve(values["prompts-dir"] ?? PROMPTS_DIR),
        params,
      });
    });
  },
});
