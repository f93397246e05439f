/**
 * `hearth` — the headless CLI. Drives the same sidecar bundle as the extension, over the same protocol
 * (vscode-jsonrpc over Node IPC), with the same slash commands.
 *
 *   hearth chat [--model <path|hf:uri>] [-p "prompt"] [flags]     REPL, or one-shot with -p
 *   hearth complete <file> --line L --column C --model <fim.gguf>  one FIM suggestion
 *   hearth index <dir> [--embedding-model m]                       build or update the code index
 *   hearth search <dir> "query" [--mode m] [--json] | --queries f  search it
 *   hearth run <prompt> <file> [--range L1:L2] [--input text]       an action: answer or proposed diff
 */
import { promises as fs } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { ChatController } from "../common/chat/ChatController";
import { parseConversation, serializeConversation } from "../common/chat/conversation";
import {
  DEFAULT_MODELS,
  defaultModelsDir,
  resolveModelArg,
  SEARCH_MODEL_CONTEXT_SIZE,
} from "../common/models/modelArgs";
import { checkRoles } from "../common/models/checkRoles";
import { ModelRoles, type ModelRoleSpec } from "../common/models/ModelRoles";
import { settingDefault } from "../shared/settings";
import { HearthError } from "../shared/errors";
import { SidecarProcess } from "../common/sidecar/SidecarProcess";
import {
  ENGINE_KINDS,
  ErrorCodes,
  GPU_SETTINGS,
  type EngineKind,
  type ModelRole,
  type ModelSpec,
  type GenerationParams,
  type GpuSetting,
  type ModelInfo,
} from "../shared/protocol";
import { defaultIndexDir } from "../common/search/format";
import { FUSION_METHODS, SEARCH_MODES, type FusionMethod, type SearchMode } from "../shared/protocol";
import { runComplete } from "./complete";
import { runImportContinue } from "./importContinue";
import { loadPromptDir, PROMPTS_DIR } from "../common/actions/loadPrompts";
import { fileInput, runPromptOnFile } from "./run";
import { runIndex, runSearch } from "./search";
import { runRepl } from "./repl";
import { runAgentCli } from "./agent";
import { runMcp } from "./mcp";
import { runServe } from "./serve";
import { writeFileAtomic } from "../common/chat/atomicWrite";
import { terminalSafe } from "./terminal";

declare const HEARTH_VERSION: string;

const USAGE = `Usage: hearth chat [options]
       hearth complete <file> --line L --column C [--model <path|hf:uri>] [--json]
       hearth index <dir> [--embedding-model <path|hf:uri>] [--verbose] [--force]
       hearth search <dir> "<query>" [--top N] [--mode lexical|vector|hybrid] [--rerank-model <path|hf:uri>]
                     [--no-rerank] [--json]
       hearth search <dir> --queries <file.jsonl> [same flags] --json
       hearth run <prompt> <file> [--range L1:L2] [--input "text"] [--model <path|hf:uri>]
       hearth models [--engine-url <url>]
       hearth import-continue [--continue-config <file>] [--json]
       hearth agent [<dir>] -p "<task>" [--allow read,search,edit,run] [--yes] [--max-steps 12] [--tool-choice auto|required]
                    [--allow-command "<command>"]... [--command-timeout 60] [--token-budget N]
       hearth mcp [<dir>] [--embedding-model <m>] [--rerank-model <m>] [--index-dir <dir>]
       hearth serve [--model <chat.gguf>] [--completion-model <fim.gguf>] [--embedding-model <m>] [--rerank-model <m>]
                    [--host 127.0.0.1] [--port ${settingDefault("server.port")}] [--api-key-env VAR] [--max-queue ${settingDefault("server.maxQueue")}]
                    [--cors <origin>] [--log-json]
       hearth doctor [--engine-url <url>] [--model <m>] [--embedding-engine-url <url>] [--rerank-engine-url <url>]

chat:      chat with a local GGUF model through the Hearth sidecar.
complete:  fill-in-the-middle suggestion at a 1-based line/column of a file, with a FIM code model
           (--json adds the reason, prompt/evaluated/generated token counts and timings).
index:     build or update the code index of a folder (unchanged files are not re-embedded). Without an
           embedding model the index is lexical only (BM25 over identifier-split terms).
search:    best chunks for a query, with every score (lexical, vector, fused, rerank). Indexes the folder
           first if it has no index yet. --json prints [{path, startLine, endLine, symbol, score, scores, text}];
           --queries reads one {"q": "..."} per line and prints one {"q", "hits"} line per query.
models:    the models an engine serves, with their context windows (--engine-url), or the GGUF files on
           this machine (--models-dir, Hugging Face and LM Studio caches).
import-continue: map Continue's ~/.continue/config.yaml (or config.json) models to Hearth engines per role;
           prints the settings and flags, and what it could not map. Writes nothing.
doctor:    check each configured role (chat and completion on --engine-url or --model; embedding and rerank
           on their flags): one line per role, works or why not and what to do; exit 0 when all work.
agent:     work on a task in the folder (default: the current one) with tools, printing every call and its
           result on stderr and the answer on stdout: search_codebase, read_file, list_files, grep, and with
           --allow edit propose_edit and create_file, whose diff is shown and written only when you accept
           (y on the terminal, or --yes; the edits of one call are one review), and with --allow run
           run_command, which shows each command in full and runs it only when you confirm it (y, --yes, or
           an --allow-command entry it equals or extends with arguments), killed after --command-timeout
           seconds. Each call is generated under a grammar of the tools' schemas and validated; old tool
           results are left out, with a notice, when the context window fills; --token-budget stops the run
           once that many prompt + generated tokens are spent.
mcp:       the folder's code index (default: the current one) as an MCP server over stdio, for agents:
           tools search_codebase, read_range, index_status, reindex. Builds the index on the first search.
serve:     serve the loaded models over HTTP until Ctrl-C: OpenAI-compatible (/v1/models, /v1/chat/completions,
           /v1/completions with suffix = FIM, /v1/embeddings, /v1/rerank) and llama.cpp-compatible (/infill,
           /completion, /props, /tokenize, /health), plus /metrics. Loopback only unless --api-key-env names
           the variable holding a key clients must send as 'Authorization: Bearer <key>'. --max-queue: requests
           waiting or running per model before 429. --log-json: one JSON log line per request on stderr.
run:       run a prompt (built-in: explain, fix, doc, tests, edit, ask; or one of .hearth/prompts/*.md) on a
           file or a line range: prints the answer, or the proposed change as a unified diff (nothing is
           written). --input answers the prompt's question (edit, ask); --prompts-dir overrides
           ./.hearth/prompts.

Index and search options:
      --embedding-model <m>   embedding GGUF (path, file name in --models-dir, hf: URI or URL)
      --rerank-model <m>      reranker GGUF (cross-encoder with a classification head)
      --no-rerank             do not rerank even with --rerank-model
      --mode <m>              lexical | vector | hybrid (default hybrid with an embedding model, else lexical)
      --top <n>               hits to print (default ${settingDefault("search.topK")})
      --fusion <f>            hybrid fusion: convex (weighted scores) | rrf (reciprocal rank)
                              (default ${settingDefault("search.fusion")})
      --vector-weight <w>     weight of the vector list in hybrid fusion, lexical's being 1 (default ${settingDefault("search.vectorWeight")})
      --rerank-weight <w>     reranker's share 0..1 of the reranked order, the rest the search score's (default ${settingDefault("search.rerankWeight")})
      --rerank-budget-ms <ms> time the reranker may take; past it the candidates not scored keep the search order; 0: no limit (default ${settingDefault("search.rerankBudgetMs")})
      --index-dir <dir>       where the index lives (default $HEARTH_INDEX_DIR or ~/.cache/hearth/index/<dir>-<hash>)
      --force                 re-chunk and re-embed every file
      --max-file-bytes <n>    skip larger files (default ${settingDefault("index.maxFileBytes")})
      --batch-size <n>        chunks embedded and written per batch (default ${settingDefault("index.batchSize")})

Remote engines (llama-server, Ollama, vLLM, LM Studio, any OpenAI-compatible server):
      --engine-url <url>      run chat, run and complete on the engine at this base URL (--model is then
                              its model id, optional when it serves one model)
      --engine-kind <k>       ${ENGINE_KINDS.join(" | ")} (default: detected by probing)
      --embedding-engine-url <url>  index/search: embeddings from that engine (--embedding-model: its id)
      --rerank-engine-url <url>     index/search: rerank on that engine (--rerank-model: its id)
      --engine-key-env <NAME> environment variable holding the engines' API key (default HEARTH_ENGINE_API_KEY);
                              the key is sent only to the engine URLs given here, never printed

Options:
  -m, --model <path|hf:uri>   chat model (a .gguf path, a file name in --models-dir, an hf: URI or URL;
                              default: ${DEFAULT_MODELS.chat}, downloaded once)
  -p, --prompt <text>         one-shot: print the answer to this prompt and exit
  -s, --system <text>         system prompt
      --max-tokens <n>        maximum tokens to generate (default ${settingDefault("chat.maxTokens")})
      --temperature <x>       sampling temperature, 0 = greedy (default ${settingDefault("chat.temperature")})
      --top-p <x>             nucleus sampling mass (default ${settingDefault("chat.topP")})
      --top-k <n>             top-k sampling (default ${settingDefault("chat.topK")})
      --seed <n>              sampling seed
      --threads <n>           CPU threads (default: 1 on ≤2 cores, else half the cores, max 8)
      --gpu <auto|cuda|vulkan|metal|off>   compute backend (default ${settingDefault("gpu")})
      --context-size <n>      context window in tokens (default min(model, ${settingDefault("contextSize")}))
      --history <file>        conversation JSON to resume from and save to after each answer
      --models-dir <dir>      where hf:/URL models are downloaded and bare names are found
                              (default $HEARTH_MODELS_DIR or ~/.cache/hearth/models)
      --no-download           never download; fail if the model is not on disk
  -v, --verbose               print the sidecar's log to stderr
  -h, --help                  show this help

In the REPL, type /help for slash commands; end a line with \\ (or wrap text in """) for multi-line input;
Ctrl-C stops an answer, Ctrl-D or /exit leaves.`;

function fail(message: string, code = 2): never {
  process.stderr.write(`hearth: ${message}\n`);
  process.exit(code);
}

function num(value: string | undefined, name: string, integer = false): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || (integer && !Number.isInteger(n)))
    fail(`--${name} must be ${integer ? "an integer" : "a number"}, got '${value}'`);
  return n;
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      model: { type: "string", short: "m" },
      prompt: { type: "string", short: "p" },
      system: { type: "string", short: "s" },
      "max-tokens": { type: "string" },
      temperature: { type: "string" },
      "top-p": { type: "string" },
      "top-k": { type: "string" },
      seed: { type: "string" },
      threads: { type: "string" },
      gpu: { type: "string" },
      "context-size": { type: "string" },
      history: { type: "string" },
      "models-dir": { type: "string" },
      "no-download": { type: "boolean" },
      verbose: { type: "boolean", short: "v" },
      help: { type: "boolean", short: "h" },
      line: { type: "string" },
      column: { type: "string" },
      json: { type: "boolean" },
      version: { type: "boolean" },
      "embedding-model": { type: "string" },
      "rerank-model": { type: "string" },
      "no-rerank": { type: "boolean" },
      mode: { type: "string" },
      "vector-weight": { type: "string" },
      "rerank-weight": { type: "string" },
      "rerank-budget-ms": { type: "string" },
      fusion: { type: "string" },
      top: { type: "string" },
      queries: { type: "string" },
      "index-dir": { type: "string" },
      force: { type: "boolean" },
      "max-file-bytes": { type: "string" },
      "batch-size": { type: "string" },
      range: { type: "string" },
      input: { type: "string" },
      "prompts-dir": { type: "string" },
      "engine-url": { type: "string" },
      "engine-kind": { type: "string" },
      "engine-key-env": { type: "string" },
      "embedding-engine-url": { type: "string" },
      "rerank-engine-url": { type: "string" },
      "continue-config": { type: "string" },
      host: { type: "string" },
      port: { type: "string" },
      "api-key-env": { type: "string" },
      "completion-model": { type: "string" },
      "max-queue": { type: "string" },
      cors: { type: "string" },
      "log-json": { type: "boolean" },
      allow: { type: "string" },
      "max-steps": { type: "string" },
      "tool-choice": { type: "string" },
      "allow-command": { type: "string", multiple: true },
      "token-budget": { type: "string" },
      "command-timeout": { type: "string" },
      yes: { type: "boolean", short: "y" },
    },
  });
  if (values.version) {
    process.stdout.write(`${typeof HEARTH_VERSION === "string" ? HEARTH_VERSION : "dev"}\n`);
    return 0;
  }
  const command = positionals[0];
  if (values.help || !command) {
    process.stdout.write(`${USAGE}\n`);
    return values.help ? 0 : 2;
  }
  if (
    ![
      "chat",
      "complete",
      "index",
      "search",
      "run",
      "models",
      "doctor",
      "import-continue",
      "serve",
      "mcp",
      "agent",
    ].includes(command)
  )
    fail(`unknown command '${command}'. Try 'hearth --help'.`);
  if (command === "run" && (!positionals[1] || !positionals[2]))
    fail("run needs a prompt name and a file: hearth run <prompt> <file> [--range L1:L2]");
  if (command === "index" || command === "search") {
    if (!positionals[1])
      fail(`${command} needs a folder: hearth ${command} <dir>${command === "search" ? ' "<query>"' : ""}`);
    if (command === "search" && positionals[2] === undefined && !values.queries)
      fail('search needs a query: hearth search <dir> "<query>" (or --queries <file.jsonl>)');
    if (values.mode !== undefined && !SEARCH_MODES.includes(values.mode as SearchMode))
      fail(`--mode must be one of ${SEARCH_MODES.join(", ")}`);
    if (values.fusion !== undefined && !FUSION_METHODS.includes(values.fusion as FusionMethod))
      fail(`--fusion must be one of ${FUSION_METHODS.join(", ")}`);
  }
  if (command === "complete") {
    if (!positionals[1]) fail("complete needs a file: hearth complete <file> --line L --column C");
    if (!values.model && !values["engine-url"])
      fail("complete needs a FIM-capable model: --model <path|hf:uri> (or --engine-url <url>)");
    if (values.line === undefined || values.column === undefined) fail("complete needs --line and --column (1-based)");
  }

  if (command === "import-continue") {
    try {
      return await runImportContinue({ file: values["continue-config"], json: values.json ?? false });
    } catch (error) {
      fail((error as Error).message, 1);
    }
  }

  const gpu = values.gpu as GpuSetting | undefined;
  if (gpu !== undefined && !GPU_SETTINGS.includes(gpu)) fail(`--gpu must be one of ${GPU_SETTINGS.join(", ")}`);
  const params: GenerationParams = {
    maxTokens: num(values["max-tokens"], "max-tokens", true),
    temperature: num(values.temperature, "temperature"),
    topP: num(values["top-p"], "top-p"),
    topK: num(values["top-k"], "top-k", true),
    seed: num(values.seed, "seed", true),
  };
  for (const key of Object.keys(params) as (keyof GenerationParams)[])
    if (params[key] === undefined) delete params[key];
  const modelsDir = path.resolve(values["models-dir"] ?? defaultModelsDir());
  const engineKind = values["engine-kind"] as EngineKind | undefined;
  if (engineKind !== undefined && !ENGINE_KINDS.includes(engineKind))
    fail(`--engine-kind must be one of ${ENGINE_KINDS.join(", ")}`);
  const apiKey = process.env[values["engine-key-env"] ?? "HEARTH_ENGINE_API_KEY"] || undefined;
  /**
   * The model spec of a role: on the remote engine at `engineUrl` (the model id, "" for its only model), or a
   * local GGUF resolved against --models-dir.
   */
  const modelSpec = (uri: string | undefined, engineUrl: string | undefined): ModelSpec =>
    engineUrl
      ? {
          uri: uri ?? "",
          engine: { url: engineUrl, ...(engineKind ? { kind: engineKind } : {}), ...(apiKey ? { apiKey } : {}) },
        }
      : { uri: resolveModelArg(uri!, modelsDir) };
  const engineUrl = values["engine-url"];
  const contextSize = num(values["context-size"], "context-size", true);
  /** The embedding and rerank roles the flags ask for (local GGUF or engine), for index, search, agent, mcp, serve. */
  const searchRoles = (options: { rerank?: boolean } = {}): Array<[ModelRole, ModelRoleSpec]> =>
    (
      [
        ["embedding", values["embedding-model"], values["embedding-engine-url"]],
        ["rerank", values["rerank-model"], values["rerank-engine-url"]],
      ] as const
    )
      .filter(([role, uri, url]) => (uri || url) && !(role === "rerank" && options.rerank === false))
      .map(([role, uri, url]) => [
        role,
        { model: modelSpec(uri, url), contextSize: contextSize ?? SEARCH_MODEL_CONTEXT_SIZE },
      ]);
  const verbose = values.verbose ?? false;
  const tty = process.stderr.isTTY;

  let onRestarted = () => {};
  // Only the REPL goes on after a crash; a one-shot command ends, so "send the message again" would mislead.
  const oneShot = command !== "chat" || values.prompt !== undefined;
  const sidecar = new SidecarProcess({
    onRestarted: () => onRestarted(),
    ...(oneShot ? { crashHint: "Run the command again (add --verbose to see the sidecar's log)." } : {}),
    sidecarPath: path.join(path.dirname(fileURLToPath(import.meta.url)), "sidecar.mjs"),
    init: {
      modelsDir,
      threads: num(values.threads, "threads", true) ?? 0,
      gpu: gpu ?? (settingDefault("gpu") as GpuSetting),
      allowDownload: !values["no-download"],
    },
    onLog: (type, message) => {
      if (verbose || type === 1) process.stderr.write(`[sidecar] ${message}\n`);
    },
    onCrash: (detail, delay) =>
      process.stderr.write(
        `hearth: the sidecar stopped (${detail}); ${delay === undefined ? "giving up" : `restarting in ${delay} ms`}\n`,
      ),
  });

  // The one owner of model roles in the CLI; after a crash it loads again what the old sidecar had.
  const roles = new ModelRoles(sidecar);
  let modelUri = values.model;
  const loadChatModel = async (uri: string | undefined): Promise<ModelInfo> => {
    const model = modelSpec(uri, engineUrl);
    const progressId = "cli-load";
    const sub = sidecar.onNotification("model/progress", (p) => {
      if (!tty || p.progressId !== progressId || p.phase !== "download") return;
      const pct = Math.round(p.fraction * 100);
      process.stderr.write(`\rDownloading ${uri}: ${pct}% (${mib(p.downloadedBytes)}/${mib(p.totalBytes)} MiB)`);
      if (p.fraction >= 1) process.stderr.write("\n");
    });
    try {
      const info = await roles.ensure(
        "chat",
        { model, ...(contextSize ? { contextSize } : {}) },
        { progressId, retryCrashed: true },
      );
      modelUri = uri ?? info.name;
      return info;
    } finally {
      sub.dispose();
    }
  };

  // Resume a conversation from --history, if the file exists.
  let controller: ChatController;
  const historyFile = values.history ? path.resolve(values.history) : undefined;
  if (historyFile) {
    const text = await fs.readFile(historyFile, "utf8").catch(() => undefined);
    controller = new ChatController(sidecar, {
      params,
      system: values.system,
      conversation: text === undefined ? undefined : parseConversation(text, historyFile),
    });
  } else {
    controller = new ChatController(sidecar, { params, system: values.system });
  }
  if (values.system !== undefined) controller.conversation.system = values.system;
  const saveHistory = async () => {
    if (historyFile) await writeFileAtomic(historyFile, serializeConversation(controller.snapshot()));
  };

  /** Run a command against the sidecar: any error becomes one line on stderr and exit code 1; the sidecar always stops. */
  const withSidecar = async (run: () => Promise<number>): Promise<number> => {
    try {
      return await run();
    } catch (e) {
      process.stderr.write(
        `hearth: ${e instanceof Error && !("code" in e) ? e.message : HearthError.from(e).userMessage}\n`,
      );
      return 1;
    } finally {
      await sidecar.stop();
    }
  };

  // When the sidecar restarts after a crash, load the models again so the next message just works.
  onRestarted = () => {
    void roles.restarted((role, e) =>
      process.stderr.write(`hearth: reloading the ${role} model failed: ${HearthError.from(e).userMessage}\n`),
    );
  };

  if (command === "index" || command === "search") {
    const root = path.resolve(positionals[1]!); // checked above
    const storageDir = path.resolve(values["index-dir"] ?? defaultIndexDir(root));
    return withSidecar(async () => {
      await sidecar.start();
      for (const [role, spec] of searchRoles({ rerank: !values["no-rerank"] })) await roles.ensure(role, spec);
      const indexOptions = {
        root,
        storageDir,
        verbose,
        tty,
        force: values.force,
        maxFileBytes: num(values["max-file-bytes"], "max-file-bytes", true),
        batchSize: num(values["batch-size"], "batch-size", true),
      };
      if (command === "index") {
        await runIndex(sidecar, indexOptions);
        return 0;
      }
      const status = await sidecar.request("index/status", { root, storageDir });
      // No index yet, or its last build was interrupted: (re)build first, so hits cover the whole folder. An
      // index that exists but cannot be written now (full disk, read-only, another writer) is still searched.
      if (!status.exists || values.force) await runIndex(sidecar, indexOptions);
      else if (!status.complete) {
        await runIndex(sidecar, indexOptions).catch((error: unknown) => {
          const e = HearthError.from(error);
          if (e.code !== ErrorCodes.IndexStorage && e.code !== ErrorCodes.IndexBusy) throw error;
          process.stderr.write(`${terminalSafe(e.userMessage)} Searching the index as it is.\n`);
        });
      }
      return await runSearch(sidecar, {
        root,
        storageDir,
        query: positionals[2],
        queriesFile: values.queries,
        topK: num(values.top, "top", true) ?? settingDefault("search.topK"),
        mode: values.mode as SearchMode | undefined,
        vectorWeight: num(values["vector-weight"], "vector-weight"),
        rerankWeight: num(values["rerank-weight"], "rerank-weight"),
        rerankBudgetMs: num(values["rerank-budget-ms"], "rerank-budget-ms"),
        fusion: values.fusion as FusionMethod | undefined,
        rerank: values["no-rerank"] ? false : undefined,
        json: values.json ?? false,
      });
    });
  }

  const promptsDir = path.resolve(values["prompts-dir"] ?? PROMPTS_DIR);

  if (command === "run") {
    return withSidecar(async () => {
      const { prompts, errors } = await loadPromptDir(promptsDir);
      for (const e of errors) process.stderr.write(`hearth: ${e.message}\n`);
      const spec = prompts.find((p) => p.name === positionals[1]);
      if (!spec) {
        process.stderr.write(
          `hearth: no prompt named '${positionals[1]}'. Available: ${prompts.map((p) => p.name).join(", ")}\n`,
        );
        return 2;
      }
      const input = await fileInput(path.resolve(positionals[2]!), values.range, values.input);
      await sidecar.start();
      await loadChatModel(modelUri ?? (engineUrl ? undefined : DEFAULT_MODELS.chat));
      await runPromptOnFile(sidecar, spec, input, { params, write: (t) => process.stdout.write(t) });
      return 0;
    });
  }

  if (command === "models") {
    return withSidecar(async () => {
      await sidecar.start();
      if (engineUrl) {
        const r = await sidecar.request("engine/models", { engine: modelSpec("", engineUrl).engine! });
        process.stdout.write(terminalSafe(`${r.kind} at ${r.url}: ${r.models.length} model(s)`) + "\n");
        for (const m of r.models) {
          process.stdout.write(terminalSafe(`  ${m.id}${m.contextSize ? `  context ${m.contextSize}` : ""}`) + "\n");
        }
        return 0;
      }
      const { models } = await sidecar.request("model/list", { folders: [modelsDir] });
      for (const m of models) process.stdout.write(terminalSafe(`${m.path}  ${mib(m.sizeBytes)} MiB`) + "\n");
      if (!models.length) process.stderr.write(`No GGUF files found (looked in ${modelsDir} and the usual caches).\n`);
      return 0;
    });
  }

  if (command === "doctor") {
    return withSidecar(async () => {
      await sidecar.start();
      const checks: Array<[ModelRole, ModelSpec]> = [];
      if (engineUrl || values.model) {
        checks.push(["chat", modelSpec(values.model, engineUrl)]);
        checks.push(["completion", modelSpec(values.model, engineUrl)]);
      }
      if (values["embedding-model"] || values["embedding-engine-url"])
        checks.push(["embedding", modelSpec(values["embedding-model"], values["embedding-engine-url"])]);
      if (values["rerank-model"] || values["rerank-engine-url"])
        checks.push(["rerank", modelSpec(values["rerank-model"], values["rerank-engine-url"])]);
      if (!checks.length)
        fail(
          "doctor needs something to check: --engine-url <url> or --model <m> (and/or the embedding and rerank flags)",
        );
      const results = await checkRoles(
        sidecar,
        roles,
        checks.map(([role, model]) => [role, { model, ...(contextSize ? { contextSize } : {}) }] as const),
      );
      for (const r of results) process.stdout.write(terminalSafe(`${r.role.padEnd(11)} ${r.line}`) + "\n");
      const broken = results.filter((r) => !r.ok).length;
      return broken ? 1 : 0;
    });
  }

  if (command === "agent") {
    if (values.prompt === undefined) fail('agent needs a task: hearth agent [<dir>] -p "<task>"');
    const allow = (values.allow ?? "read,search").split(",").map((a) => a.trim());
    const unknown = allow.filter((a) => !["read", "search", "edit", "run"].includes(a));
    if (unknown.length) fail(`--allow takes read, search, edit, run; not ${unknown.join(", ")}`);
    const toolChoice = values["tool-choice"] ?? "auto";
    if (toolChoice !== "auto" && toolChoice !== "required") fail("--tool-choice must be auto or required");
    const root = path.resolve(positionals[1] ?? process.cwd());
    const storageDir = path.resolve(values["index-dir"] ?? defaultIndexDir(root));
    return withSidecar(async () => {
      await sidecar.start();
      const info = await loadChatModel(modelUri ?? (engineUrl ? undefined : DEFAULT_MODELS.chat));
      for (const [role, spec] of searchRoles()) await roles.ensure(role, spec);
      return await runAgentCli(sidecar, {
        contextTokens: info.contextSize,
        nativeTools: info.engine !== undefined,
        allowCommands: values["allow-command"] ?? [],
        commandTimeoutMs: (num(values["command-timeout"], "command-timeout", false) ?? 60) * 1000,
        tokenBudget: num(values["token-budget"], "token-budget", true),
        target: { root, storageDir },
        task: values.prompt!,
        allow,
        maxSteps: num(values["max-steps"], "max-steps", true) ?? 12,
        toolChoice,
        params,
        yes: values.yes ?? false,
      });
    });
  }

  if (command === "mcp") {
    const root = path.resolve(positionals[1] ?? process.cwd());
    const storageDir = path.resolve(values["index-dir"] ?? defaultIndexDir(root));
    return withSidecar(async () => {
      await sidecar.start();
      for (const [role, spec] of searchRoles()) await roles.ensure(role, spec);
      await runMcp(sidecar, {
        target: { root, storageDir },
        log: (line) => process.stderr.write(`hearth mcp: ${terminalSafe(line)}\n`),
      });
      return 0;
    });
  }

  if (command === "serve") {
    const apiKeyEnv = values["api-key-env"];
    const serveKey = apiKeyEnv ? process.env[apiKeyEnv] : undefined;
    if (apiKeyEnv && !serveKey) fail(`--api-key-env ${apiKeyEnv}: that environment variable is empty or not set`);
    const wanted: Array<[ModelRole, ModelRoleSpec]> = [];
    if (values.model || engineUrl) {
      wanted.push(["chat", { model: modelSpec(values.model, engineUrl), ...(contextSize ? { contextSize } : {}) }]);
    }
    if (values["completion-model"]) {
      wanted.push([
        "completion",
        {
          model: modelSpec(values["completion-model"], undefined),
          contextSize: contextSize ?? settingDefault("completion.contextSize"),
        },
      ]);
    }
    wanted.push(...searchRoles());
    if (!wanted.length) {
      fail(
        "serve needs at least one model: --model <chat.gguf>, --completion-model, --embedding-model or --rerank-model",
      );
    }
    return withSidecar(async () => {
      await sidecar.start();
      return await runServe(sidecar, roles, {
        host: values.host ?? "127.0.0.1",
        port: num(values.port, "port", true) ?? settingDefault("server.port"),
        ...(serveKey ? { apiKey: serveKey } : {}),
        ...(values.cors ? { cors: values.cors } : {}),
        maxQueue: num(values["max-queue"], "max-queue", true) ?? settingDefault("server.maxQueue"),
        logJson: values["log-json"] ?? false,
        roles: wanted,
      });
    });
  }

  if (command === "complete") {
    return withSidecar(async () => {
      await sidecar.start();
      await roles.ensure("completion", {
        model: modelSpec(values.model, engineUrl),
        contextSize: contextSize ?? settingDefault("completion.contextSize"),
      });
      return await runComplete(sidecar, {
        file: path.resolve(positionals[1]!),
        line: num(values.line, "line", true)!,
        column: num(values.column, "column", true)!,
        json: values.json ?? false,
        maxTokens: params.maxTokens,
      });
    });
  }

  return withSidecar(async () => {
    await sidecar.start();
    if (!modelUri && !engineUrl) {
      modelUri = DEFAULT_MODELS.chat;
      process.stderr.write(
        `hearth: no --model given; using the default ${modelUri} (downloaded once into ${modelsDir})\n`,
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
      sidecar,
      controller,
      loadChatModel,
      modelsDir,
      configuredModel: () => modelUri,
      saveHistory,
      promptsDir,
      params,
    });
  });
}

function mib(bytes: number | undefined): string {
  return ((bytes ?? 0) / 1024 / 1024).toFixed(1);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`hearth: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  },
);
