/**
 * The slash commands, as data: name, argument synopsis, one-line description. Shared by the command engine
 * (`common/chat/slashCommands.ts`), `/help`, the chat view's autocomplete and the CLI. Pure data: the webview
 * imports it too.
 */
export interface SlashCommandSpec<Name extends string = string> {
  name: Name;
  /** Argument synopsis, e.g. "[path|hf:uri]"; empty when the command takes none. */
  args: string;
  description: string;
  /** Only meaningful in the terminal (e.g. /exit). */
  cliOnly?: boolean;
}

export const SLASH_COMMANDS = [
  { name: "help", args: "", description: "List every command with its arguments." },
  { name: "clear", args: "", description: "Start a new chat (the current one stays in the history)." },
  { name: "system", args: "[text]", description: "Show or set the system prompt ('/system -' clears it)." },
  { name: "model", args: "[path|hf:uri]", description: "Show the chat model, or load another one." },
  { name: "backend", args: "[auto|cpu|cuda|vulkan|metal]", description: "Show or switch the compute backend." },
  {
    name: "params",
    args: "[temperature|top-p|top-k|max-tokens] [value]",
    description: "Show sampling parameters, or set one.",
  },
  { name: "stats", args: "", description: "Model, backend, memory, token counts, TTFT and tokens/s." },
  {
    name: "search",
    args: "<query>",
    description: "Search the codebase index; every hit shows its scores. (@codebase in a message uses it as context.)",
  },
  {
    name: "agent",
    args: "<task>",
    description: "Work on a task with tools: search, read, edit (reviewed), run commands (confirmed).",
  },
  { name: "save", args: "[file]", description: "Save this chat as JSON." },
  { name: "load", args: "[file]", description: "Load a chat saved with /save." },
  { name: "exit", args: "", description: "Leave the CLI.", cliOnly: true },
] as const satisfies readonly SlashCommandSpec[];

/** The name of a built-in slash command, e.g. `"help"`; the command engine has a handler for each. */
export type SlashCommandName = (typeof SLASH_COMMANDS)[number]["name"];
