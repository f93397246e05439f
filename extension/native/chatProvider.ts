import * as path from "node:path";
import * as vscode from "vscode";
import type { ModelRoles } from "../../common/models/ModelRoles";
import { settingDefault } from "../../shared/settings";
import { HearthError } from "../../shared/errors";
import { ErrorCodes, type ChatMessage } from "../../shared/protocol";
import { readConfig } from "../config";
import { loadChatModel } from "../models/chatModel";
import type { SidecarClient } from "../sidecar/SidecarClient";

/**
 * The parts of VS Code 1.104's language-model chat provider API used here (`@types/vscode` stays at the minimum
 * VS Code, 1.99, which has none of it: the provider is registered only where the API exists).
 */
interface ChatInformation {
  id: string;
  name: string;
  family: string;
  version: string;
  tooltip?: string;
  detail?: string;
  maxInputTokens: number;
  maxOutputTokens: number;
  capabilities: { toolCalling?: boolean; imageInput?: boolean };
}
interface ProviderTool {
  name: string;
  description: string;
  inputSchema?: object;
}
interface ResponseOptions {
  tools?: readonly ProviderTool[];
  /** 1 auto, 2 required (LanguageModelChatToolMode). */
  toolMode?: number;
}
interface ProviderApi {
  registerLanguageModelChatProvider(
    vendor: string,
    provider: {
      onDidChangeLanguageModelChatInformation?: vscode.Event<void>;
      provideLanguageModelChatInformation(
        options: { silent: boolean },
        token: vscode.CancellationToken,
      ): Promise<ChatInformation[]>;
      provideLanguageModelChatResponse(
        model: ChatInformation,
        messages: readonly vscode.LanguageModelChatMessage[],
        options: ResponseOptions,
        progress: vscode.Progress<unknown>,
        token: vscode.CancellationToken,
      ): Promise<void>;
      provideTokenCount(
        model: ChatInformation,
        text: string | vscode.LanguageModelChatMessage,
        token: vscode.CancellationToken,
      ): Promise<number>;
    },
  ): vscode.Disposable;
}

/** Text of a chat message's parts, tool calls and results written out as the turn the model sees. */
function messageText(message: vscode.LanguageModelChatMessage): string {
  const parts: string[] = [];
  for (const part of message.content as readonly unknown[]) {
    if (part instanceof vscode.LanguageModelTextPart) parts.push(part.value);
    else if (part instanceof vscode.LanguageModelToolCallPart) {
      parts.push(JSON.stringify({ name: part.name, arguments: part.input }));
    } else if (part instanceof vscode.LanguageModelToolResultPart) {
      const text = part.content.map((c) => (c instanceof vscode.LanguageModelTextPart ? c.value : "")).join("");
      parts.push(`Tool result (call ${part.callId}): ${text}`);
    }
  }
  return parts.join("\n");
}

/**
 * Hearth's chat model in VS Code's own model picker (vendor `hearth`, `lm.registerLanguageModelChatProvider`,
 * VS Code 1.104+): the model set in `hearth.models.chat` (or on `hearth.engines.chat`) and the one loaded, with
 * its real context window once loaded and a tooltip naming the engine. A request loads the model on first use
 * (with progress), streams through the sidecar and stops on cancel; tools VS Code passes are offered through a
 * grammar (`common/serve/tools.ts`) and come back as tool-call parts. Token counts use the model's tokenizer.
 * Nothing here starts the sidecar until a request is made.
 */
export function registerChatProvider(sidecar: SidecarClient, roles: ModelRoles): vscode.Disposable {
  const lm = vscode.lm as unknown as Partial<ProviderApi>;
  if (!lm.registerLanguageModelChatProvider) return new vscode.Disposable(() => undefined);
  const changed = new vscode.EventEmitter<void>();
  const subs = [
    roles.onChange((role) => role === "chat" && changed.fire()),
    vscode.workspace.onDidChangeConfiguration((e) => e.affectsConfiguration("hearth.models.chat") && changed.fire()),
  ];
  /**
   * Other chat models Hearth knows, listed only while the sidecar runs (asking must not start it): GGUFs on
   * this machine that are not embedding or rerank models, or the chat engine's models.
   */
  const known = async (): Promise<string[]> => {
    if (!sidecar.running) return [];
    const config = readConfig();
    try {
      if (config.engines.chat) {
        const r = await sidecar.request("engine/models", { engine: { url: config.engines.chat } });
        return r.models.map((m) => m.id);
      }
      const r = await sidecar.request("model/list", { folders: config.models.folder ? [config.models.folder] : [] });
      return r.models.filter((m) => !/embed|rerank|bge-|minilm|e5-/i.test(m.name)).map((m) => m.path);
    } catch {
      return [];
    }
  };
  const information = (extra: string[]): ChatInformation[] => {
    const config = readConfig();
    const maxOutput = config.generation.maxTokens ?? settingDefault("chat.maxTokens");
    const loaded = roles.info("chat");
    const ids = [
      ...new Set([loaded ? roles.spec("chat")?.model.uri : undefined, config.models.chat, ...extra].filter(Boolean)),
    ] as string[];
    if (!ids.length && config.engines.chat) ids.push(""); // the engine's only model
    return ids.map((id) => {
      const isLoaded = loaded && roles.spec("chat")?.model.uri === id;
      const name = isLoaded ? loaded.name : id ? path.basename(id) : `model on ${config.engines.chat}`;
      const engine =
        isLoaded && loaded.engine
          ? `${loaded.engine.kind} at ${loaded.engine.url}`
          : config.engines.chat || "llama.cpp (embedded)";
      const context = isLoaded ? loaded.contextSize : config.contextSize;
      return {
        id: id || "engine-default",
        name: `${name} (Hearth)`,
        family: isLoaded ? loaded.architecture : "gguf",
        version: "1",
        tooltip: `Runs on ${engine}, ${context}-token context${isLoaded ? "" : " (set when it loads)"}.`,
        detail: isLoaded ? `${context} tokens` : "not loaded",
        maxInputTokens: Math.max(256, context - maxOutput),
        maxOutputTokens: maxOutput,
        capabilities: { toolCalling: true, imageInput: false },
      };
    });
  };
  const provider = lm.registerLanguageModelChatProvider("hearth", {
    onDidChangeLanguageModelChatInformation: changed.event,
    provideLanguageModelChatInformation: async () => information(await known()),
    async provideLanguageModelChatResponse(model, messages, options, progress, token) {
      const config = readConfig();
      const uri = model.id === "engine-default" ? "" : model.id;
      await sidecar.start();
      if (roles.spec("chat")?.model.uri !== uri || !roles.info("chat"))
        await loadChatModel(roles, sidecar, uri, config);
      // Tool calling is the engine's (natively, or under the tools' grammar): the result carries the calls.
      const tools = options.tools?.length
        ? options.tools.map((t) => ({
            name: t.name,
            description: t.description,
            parameters: (t.inputSchema ?? { type: "object" }) as object,
          }))
        : undefined;
      const history: ChatMessage[] = [];
      for (const m of messages) {
        const role = m.role === vscode.LanguageModelChatMessageRole.Assistant ? "assistant" : "user";
        const content = messageText(m);
        const last = history.at(-1);
        if (last?.role === role) last.content = `${last.content}\n\n${content}`;
        else history.push({ role, content });
      }
      const abort = new AbortController();
      const sub = token.onCancellationRequested(() => abort.abort());
      const streamId = `lm-${Date.now()}-${Math.random().toString(36).slice(2)}`;
      const deltas = sidecar.onNotification("chat/delta", (d) => {
        if (d.streamId === streamId && d.text) progress.report(new vscode.LanguageModelTextPart(d.text));
      });
      try {
        const system = config.systemPrompt;
        const result = await sidecar.request(
          "chat/send",
          {
            streamId,
            messages: history,
            ...(system ? { system } : {}),
            params: { maxTokens: config.generation.maxTokens, temperature: config.generation.temperature },
            ...(tools ? { tools, toolChoice: options.toolMode === 2 ? "required" : "auto" } : {}),
          },
          abort.signal,
        );
        for (const [i, call] of (result.toolCalls ?? []).entries()) {
          let input: object = {};
          try {
            const parsed = JSON.parse(call.arguments) as unknown;
            if (typeof parsed === "object" && parsed !== null) input = parsed;
          } catch {
            // Arguments that are not JSON reach the tool as none; VS Code validates them against its schema.
          }
          progress.report(new vscode.LanguageModelToolCallPart(call.id ?? `call_${streamId}_${i}`, call.name, input));
        }
      } catch (error) {
        const e = HearthError.from(error);
        if (e.code === ErrorCodes.Cancelled || token.isCancellationRequested) return;
        throw new Error(e.userMessage, { cause: error });
      } finally {
        deltas.dispose();
        sub.dispose();
      }
    },
    async provideTokenCount(_model, text) {
      const value = typeof text === "string" ? text : messageText(text);
      if (!roles.info("chat") || roles.info("chat")?.engine) return Math.ceil(value.length / 4);
      try {
        return (await sidecar.request("model/tokenize", { role: "chat", text: value })).tokens.length;
      } catch {
        return Math.ceil(value.length / 4);
      }
    },
  });
  return vscode.Disposable.from(provider, changed, ...subs);
}
