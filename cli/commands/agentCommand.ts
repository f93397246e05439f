import path from "node:path";
import { DEFAULT_MODELS } from "../../common/models/modelArgs";
import { defaultIndexDir } from "../../common/search/format";
import { runAgentCli } from "../agent";
import { defineCommand } from "../command";
import {
  ENGINE_OPTIONS,
  GENERATION_OPTIONS,
  generationParams,
  INDEX_DIR_OPTIONS,
  MODEL_OPTIONS,
  num,
  oneOf,
  RUNTIME_OPTIONS,
  SEARCH_MODEL_OPTIONS,
  UsageError,
} from "../options";
import { CliSession } from "../session";

/** What `--allow` may name. */
const PERMISSIONS = ["read", "search", "edit", "run"] as const;

/** `hearth agent`: a task worked on with tools, every call shown. */
export const agentCommand = defineCommand({
  name: "agent",
  modelRole: "chat",
  usage:
    '[<dir>] -p "<task>" [--allow read,search,edit,run] [--yes] [--max-steps 12] [--tool-choice auto|required]\n[--allow-command "<command>"]... [--command-timeout 60] [--token-budget N]',
  summary: "work on a task in a folder with tools, every call and result shown",
  description: `Work on a task in the folder (default: the current one) with tools, printing every call and its result on
stderr and the answer on stdout: search_codebase, read_file, list_files, grep, and with --allow edit propose_edit
and create_file, whose diff is shown and written only when you accept (y on the terminal, or --yes; the edits of
one call are one review), and with --allow run run_command, which shows each command in full and runs it only
when you confirm it (y, --yes, or an --allow-command entry it equals or extends with paths in the folder), killed after
--command-timeout seconds. Each call is generated under a grammar of the tools' schemas and validated; old tool
results are left out, with a notice, when the context window fills; --token-budget stops the run once that many
prompt + generated tokens are spent.`,
  options: {
    prompt: { type: "string", short: "p", arg: "<task>", help: "the task" },
    allow: {
      type: "string",
      arg: "<list>",
      help: "tools allowed, comma-separated: read, search, edit, run (default read,search)",
    },
    yes: { type: "boolean", short: "y", help: "accept every edit and command without asking" },
    "max-steps": { type: "string", arg: "<n>", help: "tool calls at most (default 12)" },
    "tool-choice": {
      type: "string",
      arg: "<auto|required>",
      help: "whether each step must call a tool (default auto)",
    },
    "allow-command": {
      type: "string",
      multiple: true,
      arg: "<command>",
      help: "a command run_command may run without asking (also followed by paths in the folder)",
    },
    "command-timeout": { type: "string", arg: "<s>", help: "seconds a command may run (default 60)" },
    "token-budget": { type: "string", arg: "<n>", help: "stop once this many prompt + generated tokens are spent" },
    ...INDEX_DIR_OPTIONS,
    ...MODEL_OPTIONS,
    ...GENERATION_OPTIONS,
    ...ENGINE_OPTIONS,
    ...SEARCH_MODEL_OPTIONS,
    ...RUNTIME_OPTIONS,
  },
  maxPositionals: 1,
  async run(values, [dir]) {
    const task = values.prompt;
    if (task === undefined) throw new UsageError('agent needs a task: hearth agent [<dir>] -p "<task>"');
    const allow = (values.allow ?? "read,search").split(",").map((a) => a.trim());
    const unknown = allow.filter((a) => !(PERMISSIONS as readonly string[]).includes(a));
    if (unknown.length) throw new UsageError(`--allow takes ${PERMISSIONS.join(", ")}; not ${unknown.join(", ")}`);
    const toolChoice = oneOf(values["tool-choice"], "tool-choice", ["auto", "required"] as const) ?? "auto";
    const maxSteps = num(values["max-steps"], "max-steps", true) ?? 12;
    const commandTimeoutMs = (num(values["command-timeout"], "command-timeout") ?? 60) * 1000;
    const tokenBudget = num(values["token-budget"], "token-budget", true);
    const params = generationParams(values);
    const root = path.resolve(dir ?? process.cwd());
    const storageDir = path.resolve(values["index-dir"] ?? defaultIndexDir(root));
    const engineUrl = values["engine-url"];
    const session = new CliSession(values, { oneShot: true });
    return session.run(async () => {
      await session.sidecar.start();
      const info = await session.loadChatModel(
        values.model ?? (engineUrl ? undefined : DEFAULT_MODELS.chat),
        engineUrl,
      );
      for (const [role, spec] of session.searchRoles()) await session.roles.ensure(role, spec);
      return await runAgentCli(session.sidecar, {
        contextTokens: info.contextSize,
        allowCommands: values["allow-command"] ?? [],
        commandTimeoutMs,
        tokenBudget,
        target: { root, storageDir },
        task,
        allow,
        maxSteps,
        toolChoice,
        params,
        yes: values.yes ?? false,
      });
    });
  },
});
